"""Fetching a generation's audio from its result URL: streamed, capped, sniffed, keyless.

Why apart from the music client: result URLs are third-party hosts (a CDN, signed storage), so
these requests follow rules of their own: no `Authorization` or cookie ever, redirects followed
by hand with every hop checked by `url_guard.UrlGuard` and fetched from the very address that was
checked (the name stays in Host and SNI, #24.11), a size cap, one deadline for all
attempts (a server dripping a byte a second must not hold a job for ever, #17.8), and the format
taken from the bytes, not the `Content-Type`. Retries: 429/5xx and network errors, with the
session's backoff; 401/403/404/410 mean the link expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import httpx

from bot.aimlapi.audio import AudioTooLarge, read_head, sniff_audio_format, stream_to_file
from bot.aimlapi.errors import AudioDownloadError
from bot.aimlapi.responses import as_int, parse_retry_after
from bot.aimlapi.session import ApiSession
from bot.aimlapi.types import DownloadedAudio
from bot.aimlapi.url_guard import MAX_REDIRECTS, TargetRefused, UrlGuard

log = logging.getLogger(__name__)

DEFAULT_DOWNLOAD_CAP: Final = 50_000_000


class AudioDownloads(ApiSession):
    """`download` (to a file) and `fetch_small` (into memory) of result URLs."""

    # Where a result URL may lead; built on first use from the API's own host (see
    # `UrlGuard.for_provider`). Tests set one with their own resolver and loopback allowed.
    url_guard: UrlGuard | None = None

    async def download(
        self, url: str, dest: Path, *, max_bytes: int = DEFAULT_DOWNLOAD_CAP
    ) -> DownloadedAudio:
        """Stream a result URL to `dest` (≤ `max_bytes`), never sending our Authorization header.

        The format is sniffed from the bytes; anything that is not audio is deleted and refused.
        """
        if self.url_guard is None:
            self.url_guard = await UrlGuard.for_provider(self._base_url)
        deadline = self._timeouts.download_deadline
        try:
            async with asyncio.timeout(deadline):
                return await self._download(url, dest, max_bytes, self.url_guard)
        except TimeoutError:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(dest.unlink, True)
            raise AudioDownloadError(
                "error_audio_download", detail=f"download took longer than {deadline:g} s"
            ) from None

    async def _download(
        self, url: str, dest: Path, max_bytes: int, guard: UrlGuard
    ) -> DownloadedAudio:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._get_following(url, guard)
            except httpx.TransportError as exc:
                host = urlsplit(url).hostname
                await self._download_retry(attempt, None, f"{type(exc).__name__} from {host}")
                continue
            try:
                status = response.status_code
                if status in (401, 403, 404, 410):
                    raise AudioDownloadError(
                        "error_audio_expired", http_status=status, detail=f"HTTP {status}"
                    )
                if status == 429 or status >= 500:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    await self._download_retry(attempt, retry_after, f"HTTP {status}")
                    continue
                if not 200 <= status < 300:
                    raise AudioDownloadError(http_status=status, detail=f"HTTP {status}")
                declared = as_int(response.headers.get("content-length"))
                if declared is not None and declared > max_bytes:
                    raise self._too_big(max_bytes, declared)
                try:
                    size = await stream_to_file(response, dest, max_bytes=max_bytes)
                except AudioTooLarge as exc:
                    raise self._too_big(max_bytes, exc.seen) from None
                except httpx.TransportError as exc:
                    await self._download_retry(attempt, None, f"{type(exc).__name__} mid-body")
                    continue
                content_type = response.headers.get("content-type")
            finally:
                await response.aclose()
            fmt = sniff_audio_format(await read_head(dest))
            if fmt is None:
                await asyncio.to_thread(dest.unlink, True)
                raise AudioDownloadError(
                    "error_audio_not_audio", detail=f"not audio ({content_type}, {size} bytes)"
                )
            return DownloadedAudio(dest, size, fmt, content_type)

    async def _get_following(self, url: str, guard: UrlGuard) -> httpx.Response:
        """GET with redirects followed by hand, each hop checked first and then fetched from
        the address that was checked (never resolved a second time)."""
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                target = await guard.check(url)
            except TargetRefused as exc:
                raise AudioDownloadError("error_audio_download", detail=str(exc)) from None
            sni = target.sni_hostname
            request = self._http.build_request(
                "GET",
                target.connect_url,
                headers={
                    "Accept": "audio/*, application/octet-stream;q=0.9, */*;q=0.5",
                    "Host": target.host_header,
                    # The pool knows the connection by address only: never reuse it for
                    # another name (its TLS session was verified for this one).
                    "Connection": "close",
                },
                timeout=self._timeouts.make(self._timeouts.download),
                extensions={"sni_hostname": sni} if sni else None,
            )
            # Result URLs can be third-party hosts: strip any auth a shared client might carry.
            request.headers.pop("Authorization", None)
            request.headers.pop("Cookie", None)
            response = await self._http.send(request, stream=True, follow_redirects=False)
            location = response.headers.get("location")
            if not response.is_redirect or not location:
                return response
            await response.aclose()
            # Relative to the URL as named (the response's own URL holds the address).
            url = str(target.url.join(location))
        raise AudioDownloadError(
            "error_audio_download", detail=f"more than {MAX_REDIRECTS} redirects"
        )

    async def fetch_small(self, url: str) -> bytes:
        """Fetch a result URL into memory (music-01 with url output), capped, without auth."""
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="songbot-aimlapi-"))
        try:
            got = await self.download(url, folder / "audio")
            return await asyncio.to_thread(got.path.read_bytes)
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)

    @staticmethod
    def _too_big(limit: int, seen: int) -> AudioDownloadError:
        return AudioDownloadError(
            "error_audio_too_big",
            limit_mb=round(limit / 1_000_000),
            detail=f"{seen} bytes > {limit}",
        )

    async def _download_retry(self, attempt: int, retry_after: float | None, why: str) -> None:
        if attempt >= self._max_attempts or (
            retry_after is not None and retry_after > self._max_retry_after
        ):
            raise AudioDownloadError(retryable=True, detail=f"download failed: {why}")
        delay = self._delay(attempt, retry_after)
        log.info("audio download: %s; retry %d in %.2fs", why, attempt, delay)
        await self._sleep(delay)
