"""Where uploaded files live: a small interface (put, open, delete by key) and its local-folder
implementation under AGENCY_FILES_DIR. An S3-compatible store can implement the same three calls.

Keys are made here (`new_key`), never from anything a client sent: a prefix and 32 random hex
digits. A store refuses any other shape of key, so no key can name a path outside its folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 64 * 1024
_KEY = re.compile(r"^(deliverables)/([0-9a-f]{32})$")


class FileTooLarge(Exception):
    """The stream went past the store's `max_bytes`; nothing was kept."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class FileStore(Protocol):
    async def put(self, key: str, stream: BinaryIO, *, max_bytes: int) -> StoredFile:
        """Keep the stream's bytes (from its current position) under `key`; FileTooLarge (and
        nothing kept) when there are more than `max_bytes`."""
        ...

    async def open(self, key: str) -> AsyncIterator[bytes] | None:
        """The file's bytes in chunks, or None when there is no such file."""
        ...

    async def delete(self, key: str) -> None:
        """Forget the file; a missing one is not an error."""
        ...


def new_key(prefix: str = "deliverables") -> str:
    return f"{prefix}/{secrets.token_hex(16)}"


class LocalFileStore:
    """Files in a folder, one sub-folder per key prefix; the folder is made on first use."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        match = _KEY.fullmatch(key)
        if match is None:
            raise ValueError("not a key this store made")
        return self.root / match.group(1) / match.group(2)

    async def put(self, key: str, stream: BinaryIO, *, max_bytes: int) -> StoredFile:
        return await asyncio.to_thread(self._put, self._path(key), key, stream, max_bytes)

    @staticmethod
    def _put(path: Path, key: str, stream: BinaryIO, max_bytes: int) -> StoredFile:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        digest = hashlib.sha256()
        size = 0
        try:
            with partial.open("xb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FileTooLarge()
                    digest.update(chunk)
                    out.write(chunk)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    async def open(self, key: str) -> AsyncIterator[bytes] | None:
        try:
            path = self._path(key)
            handle = await asyncio.to_thread(path.open, "rb")
        except (ValueError, OSError):
            return None

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(handle.read, CHUNK):
                    yield chunk
            finally:
                handle.close()

        return chunks()

    async def delete(self, key: str) -> None:
        try:
            path = self._path(key)
        except ValueError:
            return
        await asyncio.to_thread(path.unlink, missing_ok=True)


@dataclass
class FileSettings:
    store: FileStore
    max_upload_bytes: int


_settings = FileSettings(store=LocalFileStore(Path("files")), max_upload_bytes=25 * 1024 * 1024)


def configure(*, store: FileStore, max_upload_bytes: int) -> None:
    """Set by the app at start-up (server.app.create_app) and by tests."""
    _settings.store = store
    _settings.max_upload_bytes = max_upload_bytes


def current() -> FileSettings:
    return _settings
