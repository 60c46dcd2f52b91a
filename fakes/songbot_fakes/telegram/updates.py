"""Updates: the queue, getUpdates long polling and webhook delivery."""

from __future__ import annotations

import asyncio
import copy
import json
import time

import aiohttp

from songbot_fakes.telegram._common import (
    _NOT_BY_DEFAULT,
    _SECRET_RE,
    CONFLICT_POLL,
    CONFLICT_WEBHOOK,
    JSON,
    _ApiError,
    _bad,
)
from songbot_fakes.telegram.files import _Files
from songbot_fakes.telegram.records import (
    UploadedFile,
    WebhookDelivery,
    WebhookPost,
    _Chat,
)


class _Updates(_Files):
    """Updates: the queue, getUpdates long polling and webhook delivery."""

    def enqueue_raw_update(self, update: JSON) -> None:
        """Queue an update as-is (an `update_id` is assigned if missing)."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, int(update["update_id"])) + 1
        if self._webhook is not None:
            self._webhook_queue.append(update)
        else:
            self._queue.append(update)
        self._notify()

    def _store_and_enqueue(self, chat: _Chat, message: JSON) -> JSON:
        chat.messages[message["message_id"]] = message
        self.enqueue_raw_update({"message": copy.deepcopy(message)})
        return copy.deepcopy(message)

    def _allowed(self, update: JSON) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in _NOT_BY_DEFAULT
        return kind in self._allowed_updates

    async def _get_updates(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        if self._webhook is not None:
            raise _ApiError(409, CONFLICT_WEBHOOK)
        offset = params.get("offset")
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = min(max(int(params.get("timeout", 0)), 0), 50)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else None
        # A newer getUpdates terminates an older one still waiting, like the real server.
        self._poll_generation += 1
        mine = self._poll_generation
        self._notify()
        if offset is not None and offset != 0:
            if offset < 0:
                self._queue = self._queue[offset:]
            else:
                self._queue = [u for u in self._queue if u["update_id"] >= offset]
        self._queue = [u for u in self._queue if self._allowed(u)]

        def ready() -> bool:
            return (
                bool(self._queue)
                or mine != self._poll_generation
                or self._closing
                or self._webhook is not None
            )

        self.polls_waiting += 1
        try:
            await self._wait_until(ready, timeout)
        finally:
            self.polls_waiting -= 1
        if mine != self._poll_generation:
            raise _ApiError(409, CONFLICT_POLL)
        if self._webhook is not None:
            raise _ApiError(409, CONFLICT_WEBHOOK)
        self._queue = [u for u in self._queue if self._allowed(u)]
        return copy.deepcopy(self._queue[:limit])

    async def _set_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        url = str(params["url"])
        if not url:
            return await self._delete_webhook(params, files)
        if not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise _bad("secret token contains unallowed characters")
        max_connections = params.get("max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._queue.clear()
            self._webhook_queue.clear()
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._webhook = {"url": url, "secret_token": secret, "max_connections": max_connections}
        self._webhook_error = None
        self._webhook_queue.extend(self._queue)
        self._queue.clear()
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_worker())
        self._notify()
        return True

    async def _delete_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self._webhook = None
        self._queue.extend(self._webhook_queue)
        self._webhook_queue.clear()
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _get_webhook_info(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        info: JSON = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates,
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _webhook_worker(self) -> None:
        """Push queued updates to the webhook one at a time, in order, retrying like Telegram."""
        while True:
            await self._wait_until(lambda: bool(self._webhook_queue) or self._closing, 3600)
            if self._closing:
                return
            if self._webhook is None:
                await self._wait_until(lambda: self._webhook is not None or self._closing, 3600)
                continue
            update = self._webhook_queue.popleft()
            self._webhook_inflight = 1
            try:
                await self._deliver(update)
            finally:
                self._webhook_inflight = 0
                self._notify()

    async def _deliver(self, update: JSON) -> None:
        status: int | None = None
        error = ""
        attempts = 0
        attempt = 0
        while self.webhook_attempts is None or attempt < self.webhook_attempts:
            if self._webhook is None or self._closing:
                break
            attempts = attempt + 1
            post = WebhookPost(update, self.clock())
            self.webhook_posts.append(post)
            try:
                status = await self._post_update(update, self._webhook.get("secret_token"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, error = None, f"Connection failed: {exc.__class__.__name__}"
            post.status, post.error, post.done = status, error, True
            self._notify()
            if status is not None and 200 <= status < 300:
                error = post.error = ""
                break
            if status is not None:
                error = post.error = f"Wrong response from the webhook: {status}"
            await self._sleep(min(self.webhook_backoff_max, self.webhook_backoff * (2**attempt)))
            attempt += 1
        if error:
            self._webhook_error = (int(time.time()), error)
        self.webhook_deliveries.append(WebhookDelivery(update, status, attempts, error))

    async def _post_update(self, update: JSON, secret: str | None) -> int:
        if self._webhook is None or self._session is None:
            raise RuntimeError("no webhook is set (the bot must call setWebhook first)")
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = json.dumps(update).encode("utf-8")
        async with self._session.post(self._webhook["url"], data=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    async def post_raw_update(self, update: JSON, *, secret: str | None) -> int:
        """POST `update` to the bot's webhook with this secret header (None = no header) and
        return the HTTP status, to test that the bot rejects forged calls."""
        return await self._post_update(update, secret)

    @property
    def webhook_url(self) -> str | None:
        return self._webhook["url"] if self._webhook else None

    @property
    def pending_updates(self) -> int:
        if self._webhook is not None:
            return len(self._webhook_queue) + self._webhook_inflight
        return len(self._queue)
