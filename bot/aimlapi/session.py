"""The one HTTP session every AI/ML API call goes through, and its retry rules.

One `httpx.AsyncClient` is shared by every call; the key goes only to the API base URL as
`Authorization: Bearer …` (added per request, never as a client default), and each call gets a
timeout sized to it (see `Timeouts`): polls are quick, uploads wait while the server analyses
the audio, music-01's synchronous generate blocks for 50-180 s.

Why a base class of its own: the music client (client.py), the audio downloads (download.py),
chat completions (chat.py) and the model list (model_list.py) are separate jobs, but they share
one connection pool, one key and these rules, so each is a small layer over `ApiSession`.

Retry rules (tested in tests/test_aimlapi_retry.py):

* Free calls (poll, upload, logs, key check, model list, download) retry on 429, 5xx, network
  errors, timeouts and garbled 2xx bodies, with exponential backoff (`backoff_base * 2**n`,
  capped at `backoff_cap`) and jitter (a uniform pick in the upper half), at most
  `max_attempts` tries. A `Retry-After` header (seconds or HTTP date) replaces the computed
  delay; one longer than `max_retry_after` is not slept through: `RateLimited(retry_after=…)`
  is raised for the caller to reschedule.
* Paid POSTs (async submit, music-01 generate) are never blindly retried once they may have
  reached the provider. They are retried (same bounds) only when the request certainly did
  not get there or was certainly refused: connect errors, connect/pool timeouts, and 429 or 503
  *responses*. Anything else that leaves the outcome open (read/write timeout after sending,
  connection reset or closed mid-response, any other 5xx, a 2xx we cannot read) raises
  `SubmitOutcomeUnknown`. Every paid POST carries `X-Client-Request-Id: <job key>`, so the
  caller can then ask `find_generation(job_key)` (GET /v2/logs) whether it went through.
  Before each retry it asks its caller's `still_wanted` (is the job still being submitted?):
  a song cancelled while its POST was refused is not sent again, and so never made and charged.
* A chat completion (POST /v1/chat/completions) is not a paid generation but costs tokens, so
  it is not blindly repeated either: retried (same bounds) only when it certainly never reached
  the model (never sent, 429 or 503); any other failure after sending is one
  `ProviderUnavailable` for the caller to report, never a second completion.
* Other 4xx are final: 400/422 `InvalidRequest`, 401 `InvalidApiKey`, 403 `OutOfCredits`,
  404 on a poll `UnknownGeneration`, and on music-01's own routes the answers that mean the
  model is gone `ModelUnavailable` (classified in responses.py, `model_gone`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final, Self, TypeVar

import httpx

from bot.aimlapi.errors import ProviderError, ProviderUnavailable, SubmitOutcomeUnknown
from bot.aimlapi.multipart import MultipartFile
from bot.aimlapi.responses import Malformed, error_for_response, parse_retry_after
from bot.tls import client_tls

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT: Final = "songbot/0.1 (+https://github.com/songbot)"
DOWNLOAD_DEADLINE: Final = 300.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Read timeouts per kind of call, in seconds; connect/pool share `connect`."""

    connect: float = 10.0
    poll: float = 30.0
    submit: float = 60.0
    upload: float = 180.0
    generate: float = 300.0
    logs: float = 30.0
    chat: float = 60.0
    download: float = 60.0
    write: float = 60.0
    # The whole audio download, all attempts and redirects: a server dripping a byte a second
    # must not keep a job in "fetching" for ever (#17.8).
    download_deadline: float = DOWNLOAD_DEADLINE

    def make(self, read: float) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=read, write=self.write, pool=self.connect)


# Transport failures that happen before a single byte of the request left this machine.
_NEVER_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


class ApiSession:
    """The shared HTTP client, key and retry loop; see the module docstring."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        http: httpx.AsyncClient | None = None,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_retry_after: float = 60.0,
        timeouts: Timeouts | None = None,
        logs_period: str = "48h",
        logs_max_pages: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeouts = timeouts or Timeouts()
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=self._timeouts.make(self._timeouts.poll),
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            verify=client_tls(),
        )
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_retry_after = max_retry_after
        self._logs_period = logs_period
        self._logs_max_pages = logs_max_pages
        self._sleep = sleep
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r}, api_key='***')"

    @property
    def base_url(self) -> str:
        return self._base_url

    async def aclose(self) -> None:
        """Close the HTTP client, but only one this object created."""
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(ceiling / 2, ceiling)

    def _headers(self, client_request_id: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        if client_request_id is not None:
            headers["X-Client-Request-Id"] = client_request_id
        return headers

    async def _send(
        self, request: httpx.Request, max_body: int | None
    ) -> tuple[httpx.Response, bool]:
        """The answer to `request`, read whole; with `max_body`, at most that many bytes of it
        (then the flag is True and the body is cut), so no answer can fill the memory."""
        if max_body is None:
            return await self._http.send(request), False
        response = await self._http.send(request, stream=True)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > max_body:
                    break
        finally:
            await response.aclose()
        body = b"".join(chunks)[:max_body]
        # The bytes are decoded already: the copy must not claim an encoding or a length.
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        copy = httpx.Response(response.status_code, headers=headers, content=body, request=request)
        return copy, size > max_body

    async def _call(  # noqa: C901
        self,
        method: str,
        path: str,
        *,
        parse: Callable[[httpx.Response], Awaitable[T]],
        timeout: float,
        paid: bool = False,
        client_request_id: str | None = None,
        on_poll: bool = False,
        tokens: bool = False,
        model: str | None = None,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
        max_body: int | None = None,
        upload: MultipartFile | None = None,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
    ) -> T:
        """Send with the retry rules of the module docstring, then parse a 2xx with `parse`.

        `max_body`: read at most this many bytes of the answer (#24.9: a 5 MB completion froze
        the bot while it was parsed); a longer 2xx is an unusable body, like a garbled one.

        `model`: the call names this model (music-01's own routes), so a 4xx that says it is
        gone raises `ModelUnavailable` (responses.py, `model_gone`). `upload`: a body streamed
        from disk, built afresh for each attempt. `still_wanted`: asked before each retry (before
        and after its backoff); once it says no, the last failure is raised instead.
        """
        url = self._base_url + path
        what = f"{method} {path}"
        attempt = 0
        last: ProviderError  # the failure to raise when a retry is not made
        while True:
            attempt += 1
            retry_after: float | None = None
            headers = self._headers(client_request_id)
            content = None
            if upload is not None:
                headers.update(await upload.headers())
                content = upload.stream()
            try:
                request = self._http.build_request(
                    method,
                    url,
                    params=params,
                    json=json,
                    files=files,
                    data=data,
                    content=content,
                    headers=headers,
                    timeout=self._timeouts.make(timeout),
                )
                response, oversize = await self._send(request, max_body)
            except _NEVER_SENT as exc:
                # Never left this machine: safe to retry even a paid POST.
                why = f"{type(exc).__name__}: {exc}"
                last = ProviderUnavailable(detail=f"{what}: {why}")
                if attempt >= self._max_attempts:
                    raise last from exc
            except httpx.TransportError as exc:
                why = f"{type(exc).__name__}: {exc}"
                if paid:
                    assert client_request_id is not None
                    raise SubmitOutcomeUnknown(
                        client_request_id=client_request_id, detail=f"{what}: {why}"
                    ) from exc
                last = ProviderUnavailable(detail=f"{what}: {why}")
                if tokens or attempt >= self._max_attempts:
                    raise last from exc
            else:
                status = response.status_code
                if 200 <= status < 300:
                    try:
                        if oversize:
                            raise Malformed(f"answer over {max_body} bytes")
                        return await parse(response)
                    except Malformed as exc:
                        why = f"unusable {status} body: {exc}"
                        if paid:
                            assert client_request_id is not None
                            raise SubmitOutcomeUnknown(
                                client_request_id=client_request_id,
                                http_status=status,
                                detail=f"{what}: {why}",
                            ) from None
                        last = ProviderUnavailable(http_status=status, detail=f"{what}: {why}")
                        if tokens or attempt >= self._max_attempts:
                            raise last from None
                elif status == 429 or status >= 500:
                    error = error_for_response(response, on_poll=on_poll)
                    if paid and status not in (429, 503):
                        assert client_request_id is not None
                        raise SubmitOutcomeUnknown(
                            client_request_id=client_request_id,
                            http_status=status,
                            provider_message=error.provider_message,
                            request_id=error.request_id,
                            detail=f"{what}: HTTP {status} after the request was sent",
                        )
                    if tokens and status not in (429, 503):
                        raise error  # the model may have run: no second completion
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    why = f"HTTP {status}"
                    last = error
                    if attempt >= self._max_attempts or (
                        retry_after is not None and retry_after > self._max_retry_after
                    ):
                        raise error
                else:
                    raise error_for_response(response, on_poll=on_poll, model=model)
            if still_wanted is not None and not await still_wanted():
                log.info("%s: %s; not retried, no longer wanted", what, why)
                raise last
            delay = self._delay(attempt, retry_after)
            log.info("%s: %s; attempt %d, retrying in %.2fs", what, why, attempt, delay)
            await self._sleep(delay)
            if still_wanted is not None and not await still_wanted():
                log.info("%s: not retried, no longer wanted", what)
                raise last
