"""One TLS client context for every HTTPS client the bot opens.

Why: httpx builds a new SSL context for each client it creates and loads the whole CA bundle into
it (about 45 ms of CPU and a copy of the certificates every time). The Telegram pools, the music
service's client, each Telegram file download and each operator command paid it again. A context
is safe to share between clients once made, as httpx's own docs suggest; `SSL_CERT_FILE` and
`SSL_CERT_DIR` are honoured as before (httpx reads them when it makes this one).
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_tls() -> ssl.SSLContext:
    """The process's TLS context for outgoing HTTPS (certificates verified, httpx's defaults)."""
    return httpx.create_ssl_context()
