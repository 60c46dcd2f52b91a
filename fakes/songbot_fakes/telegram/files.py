"""Files: uploads (sendAudio/Voice/Document/Photo), thumbnails, the file store and getFile."""

from __future__ import annotations

import asyncio
import copy
import mimetypes
import secrets
from typing import Any

from songbot_fakes.telegram._common import (
    _DEFAULT_MIME,
    _FILE_DIR,
    _FILE_ID_PREFIX,
    JSON,
    _audio_duration,
    _bad,
    _image_info,
)
from songbot_fakes.telegram.chats import _Chats
from songbot_fakes.telegram.records import (
    UploadedFile,
    _StoredFile,
)


class _Files(_Chats):
    """Files: uploads (sendAudio/Voice/Document/Photo), thumbnails, the file store and getFile."""

    def _register_file(
        self, kind: str, data: bytes, meta: JSON, *, size: int, filename: str | None
    ) -> _StoredFile:
        self._file_counter += 1
        number = self._file_counter
        file_id = f"{_FILE_ID_PREFIX[kind]}{number:05d}{secrets.token_urlsafe(24)}"
        unique_id = f"AgAD{number:04d}{secrets.token_urlsafe(6)}"
        folder, ext = _FILE_DIR[kind]
        if filename and "." in filename and kind in ("audio", "document", "video"):
            ext = filename.rsplit(".", 1)[1].lower() or ext
        path = f"{folder}/file_{number}.{ext}"
        obj: Any = {"file_id": file_id, "file_unique_id": unique_id, **meta, "file_size": size}
        if kind == "photo":
            obj = [obj]
        stored = _StoredFile(file_id, unique_id, kind, data, size, path, obj)
        self._files[file_id] = stored
        self._files_by_path[path] = stored
        return stored

    async def _thumbnail(
        self, params: JSON, files: dict[str, UploadedFile]
    ) -> tuple[UploadedFile, JSON] | None:
        value = params.get("thumbnail")
        if value is None:
            return None
        if not isinstance(value, str) or not value.startswith("attach://"):
            raise _bad("thumbnail must be uploaded as a new file and passed as attach://<name>")
        upload = files.get(value.removeprefix("attach://"))
        if upload is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        info = await asyncio.to_thread(_image_info, upload.data)
        if info is None or info[0] != "JPEG":
            raise _bad("invalid thumbnail: it must be a JPEG image")
        if upload.size > 200_000 or max(info[1], info[2]) > 320:
            raise _bad(
                f"invalid thumbnail: must be under 200 kB and at most 320x320 "
                f"(got {upload.size} bytes, {info[1]}x{info[2]})"
            )
        return upload, {"width": info[1], "height": info[2]}

    async def _send_file(  # noqa: C901
        self, method: str, kind: str, params: JSON, files: dict[str, UploadedFile]
    ) -> JSON:
        chat = self._resolve_chat(params["chat_id"])
        caption, caption_entities = self._format(params.get("caption"), params, caption=True)
        value = params[kind]
        if isinstance(value, str) and value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            value = attached
        upload: UploadedFile | None = None
        existing: _StoredFile | None = None
        meta: JSON = {}
        thumbnail: tuple[UploadedFile, JSON] | None = None
        if isinstance(value, UploadedFile):
            upload = value
            if upload.size == 0:
                raise _bad("file must be non-empty")
            if kind == "photo":
                if upload.size > self.photo_upload_limit:
                    raise _bad("file is too big")
                info = await asyncio.to_thread(_image_info, upload.data)
                if info is None:
                    raise _bad("IMAGE_PROCESS_FAILED")
                if info[1] + info[2] > 10_000:
                    raise _bad("PHOTO_INVALID_DIMENSIONS")
                meta = {"width": info[1], "height": info[2]}
            else:
                meta = await self._file_meta(kind, upload, params)
            if "thumbnail" in self.spec.methods[method].fields:
                thumbnail = await self._thumbnail(params, files)
        elif value.startswith(("http://", "https://")):
            raise _bad("failed to get HTTP URL content")
        else:
            existing = self._files.get(value)
            if existing is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if existing.kind != kind:
                raise _bad("type of file mismatch")
        content: JSON = {}
        if caption:
            content["caption"] = caption
            if caption_entities:
                content["caption_entities"] = caption_entities
        message = self._new_message(method, chat, params, content)  # flood check inside
        if upload is not None:
            if thumbnail is not None:
                thumb, thumb_meta = thumbnail
                meta["thumbnail"] = self._register_file(
                    "thumbnail", thumb.data, thumb_meta, size=thumb.size, filename=thumb.filename
                ).obj
            existing = self._register_file(
                kind, upload.data, meta, size=upload.size, filename=upload.filename
            )
            if kind == "audio":
                self.uploaded_audio.append(upload)
        assert existing is not None
        stored_message = chat.messages[message["message_id"]]
        stored_message[kind] = copy.deepcopy(existing.obj)
        message[kind] = copy.deepcopy(existing.obj)
        return message

    async def _file_meta(self, kind: str, upload: UploadedFile, params: JSON) -> JSON:
        mime = upload.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(upload.filename or "")[0] or _DEFAULT_MIME.get(kind)
        meta: JSON = {}
        if kind in ("audio", "voice"):
            duration = params.get("duration")
            if duration is None:
                duration = await asyncio.to_thread(_audio_duration, upload.data) or 0
            meta["duration"] = duration
        if kind == "audio":
            for key in ("performer", "title"):
                if params.get(key):
                    meta[key] = params[key]
        if kind in ("audio", "document") and upload.filename:
            meta["file_name"] = upload.filename
        if mime:
            meta["mime_type"] = mime
        return meta

    async def _send_audio(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return await self._send_file("sendAudio", "audio", params, files)

    async def _send_voice(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return await self._send_file("sendVoice", "voice", params, files)

    async def _send_document(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return await self._send_file("sendDocument", "document", params, files)

    async def _send_photo(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return await self._send_file("sendPhoto", "photo", params, files)

    async def _get_file(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > self.download_limit:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }
