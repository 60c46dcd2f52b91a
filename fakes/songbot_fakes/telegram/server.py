"""The HTTP server: lifecycle, request parsing, dispatch, scripted faults, file downloads."""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import socket
import time
from typing import Self

import aiohttp
from aiohttp import web
from aiohttp.multipart import BodyPartReader

from songbot_fakes.telegram._common import (
    _ARRIVAL,
    _SCRIPT_DESCRIPTIONS,
    _TOKEN_RE,
    ABANDONED,
    JSON,
    _ApiError,
    _bad,
    _client_gone,
    log,
)
from songbot_fakes.telegram.payments import _Payments
from songbot_fakes.telegram.records import (
    ApiCall,
    ScriptedFault,
    UploadedFile,
)
from songbot_fakes.telegram_spec import MethodSpec, ParamError


class _Server(_Payments):
    """The HTTP server: lifecycle, request parsing, dispatch, scripted faults, file downloads."""

    async def start(self, *, port: int = 0) -> None:
        """Listen on 127.0.0.1 (`port` 0 = a free one); `base_url` is set afterwards."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already started")
        self._closing = False
        self._cond = asyncio.Condition()
        app = web.Application(client_max_size=self.upload_limit + 16_000_000)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock, shutdown_timeout=2.0).start()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery, close the server and client."""
        self._closing = True
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path  # percent-decoded
        if path.startswith("/file/bot"):
            return await self._download(request, path.removeprefix("/file/bot"))
        if not path.startswith("/bot") or request.method not in ("GET", "POST"):
            return self._envelope(404, "Not Found")
        token, _, method_name = path.removeprefix("/bot").partition("/")
        if not _TOKEN_RE.fullmatch(token):
            return self._envelope(404, "Not Found")
        call = ApiCall(
            method_name,
            {},
            {},
            self.clock(),
            http_method=request.method,
            content_type=request.headers.get("Content-Type", ""),
        )
        _ARRIVAL.set(call.time)
        try:
            if token != self.token:
                raise _ApiError(401, "Unauthorized")
            canonical = self.spec.canonical(method_name) if "/" not in method_name else None
            if canonical is None:
                raise _ApiError(404, "Not Found")
            call.method = canonical
            raw, files = await self._read_params(request)
            call.files = files
            call.params = dict(raw)
            handler = self._handlers.get(canonical)
            method_spec = self.spec.method(canonical)
            if handler is None or method_spec is None:
                raise _ApiError(
                    404, f"Not Found: method {canonical} is not implemented by the fake"
                )
            params = self._decode(method_spec, raw, files)
            call.params = params
            fault = await self._apply_script(call, request)
            result = await handler(params, files)
            if fault is not None:
                fault.handled += 1
                if fault.delay_after > 0:
                    await self._sleep(fault.delay_after)
                if fault.garble:
                    result = ["unexpected result shape"]
        except _ApiError as error:
            return self._finish(request, call, error.status, self._error_body(error))
        except ConnectionResetError:
            # The client hung up mid-request (a cancelled call): nobody is left to answer, and
            # Telegram, like any server, just drops it. Recorded, not a crash of the fake.
            log.debug("client went away during %s", method_name)
            return self._finish(request, call, 499, {"ok": False, "description": "client gone"})
        except Exception:
            log.exception("fake Telegram crashed on %s", method_name)
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            return self._finish(request, call, 500, body)
        return self._finish(request, call, 200, {"ok": True, "result": result})

    @staticmethod
    def _error_body(error: _ApiError) -> JSON:
        body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        return body

    def _envelope(self, status: int, description: str) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": status, "description": description}, status=status
        )

    def _finish(
        self, request: web.Request, call: ApiCall, status: int, body: JSON
    ) -> web.Response:
        call.http_status = status
        call.response = body
        if request.transport is None or request.transport.is_closing():
            # The client gave up (e.g. PTB cancelled its long poll): nobody reads this answer.
            call.http_status = ABANDONED
        self.calls.append(call)
        if call.http_status == 429:
            self.rate_limited.append(call)
        self._notify()
        return web.json_response(body, status=status)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
        params: JSON = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method != "POST" or not request.body_exists:
            return params, files
        ctype = request.content_type
        if ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    data = await part.read(decode=False)
                    if len(data) > self.upload_limit:
                        raise _ApiError(413, "Request Entity Too Large")
                    content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                    files[part.name] = UploadedFile(part.filename, content_type, bytes(data))
                else:
                    params[part.name] = await part.text()
        elif ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise _bad("JSON body must be an object")
            params.update(body)
        else:
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise _ApiError(413, "Request Entity Too Large") from None
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params, files

    def _decode(self, method: MethodSpec, raw: JSON, files: dict[str, UploadedFile]) -> JSON:
        params: JSON = {}
        for name, value in raw.items():
            field_spec = method.fields.get(name)
            if field_spec is None:
                params[name] = value  # unknown parameters are ignored by Telegram
                continue
            try:
                params[name] = self.spec.decode_param(field_spec, value)
            except ParamError as error:
                raise _bad(str(error)) from None
        for name, field_spec in method.fields.items():
            if name in files and "InputFile" in field_spec.types and name not in params:
                params[name] = files[name]
            if field_spec.required and name not in params:
                if name == "text":
                    raise _bad("message text is empty")
                if "InputFile" in field_spec.types:
                    raise _bad(f"there is no {name} in the request")
                raise _bad(f"{name} is empty")
        return params

    async def _apply_script(self, call: ApiCall, request: web.Request) -> ScriptedFault | None:
        """Apply the first matching fault; returns it when the call is to be handled anyway."""
        for fault in self.scripts:
            if fault.method != call.method or fault.exhausted:
                continue
            if fault.match is not None and not fault.match(call.params):
                continue
            fault.hits += 1
            if fault.delay > 0:
                if fault.abandon_if_gone:
                    await self._sleep_while_connected(request, fault.delay)
                    if _client_gone(request):
                        raise _ApiError(ABANDONED, "client went away before the call completed")
                else:
                    await self._sleep(fault.delay)
            if fault.status is None:
                return fault
            call.scripted = True
            parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
            description = fault.description
            if description is None:
                if fault.status == 429:
                    description = f"Too Many Requests: retry after {fault.retry_after}"
                else:
                    description = _SCRIPT_DESCRIPTIONS.get(fault.status, "Internal Server Error")
            raise _ApiError(fault.status, description, parameters)
        return None

    async def _sleep_while_connected(self, request: web.Request, seconds: float) -> None:
        """Sleep like `_sleep`, but end as soon as the client has disconnected."""
        deadline = time.monotonic() + seconds
        while not self._closing and not _client_gone(request) and time.monotonic() < deadline:
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    async def _download(self, request: web.Request, rest: str) -> web.StreamResponse:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            if _TOKEN_RE.fullmatch(token):
                return self._envelope(401, "Unauthorized")
            return self._envelope(404, "Not Found")
        stored = self._files_by_path.get(file_path)
        if stored is None or request.method not in ("GET", "HEAD"):
            return self._envelope(404, "Not Found")
        self.downloads.append(file_path)
        content_type = mimetypes.guess_type(file_path)[0] or "application/octet-stream"
        if self.download_drip_seconds is not None:  # a stalling file server (#17.8)
            drip = web.StreamResponse(headers={"Content-Type": content_type})
            drip.content_length = len(stored.data)
            await drip.prepare(request)
            for i in range(len(stored.data)):
                await drip.write(stored.data[i : i + 1])
                await self._sleep(self.download_drip_seconds)
            return drip
        if self.download_bytes_per_second is not None:
            paced = web.StreamResponse(headers={"Content-Type": content_type})
            paced.content_length = len(stored.data)
            await paced.prepare(request)
            chunk = 64 * 1024
            for i in range(0, len(stored.data), chunk):
                await paced.write(stored.data[i : i + chunk])
                await self._sleep(chunk / self.download_bytes_per_second)
            return paced
        return web.Response(body=stored.data, content_type=content_type)
