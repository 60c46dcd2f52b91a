"""The bot in webhook mode for the tests: its secret, its path, its settings and a raw update.

Why a module of its own: the webhook tests and the security tests (the slowloris attack, the
webhook that answers only once the request is stored) post to the same local webhook.
"""

from __future__ import annotations

SECRET = "webhook-secret_0123456789"
PATH = "/telegram/webhook-abc"


def webhook_env(port: int) -> dict[str, str]:
    return {
        "SONGBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}{PATH}",
        "SONGBOT_WEBHOOK_SECRET": SECRET,
        "SONGBOT_WEBHOOK_LISTEN": "127.0.0.1",
        "SONGBOT_HTTP_PORT": str(port),
    }


def an_update(chat_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": 999_001,
        "message": {
            "message_id": 77,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Eve"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Eve"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }
