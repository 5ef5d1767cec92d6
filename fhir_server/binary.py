"""Binary content in GridFS (R4 binary.html).

A ``Binary`` resource is stored in the repository like any other, but without its
``data``: the bytes live in a GridFS bucket and the stored resource points at the GridFS
file with an extension on ``data`` (``"_data": {"extension": [...]}``, valid FHIR JSON for a
primitive that has extensions but no value). Uploads and downloads are streamed in chunks,
so a large file is never held in memory whole. Old versions keep their files, so ``vread``
returns the content as it was.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from gridfs import AsyncGridFSBucket, NoFile
from gridfs.asynchronous.grid_file import AsyncGridOut
from pymongo.asynchronous.database import AsyncDatabase

from .errors import InvalidResource, Issue, NotFound, PayloadTooLarge
from .json_io import dump_json

__all__ = ["BinaryStore", "CONTENT_EXTENSION", "BUCKET", "content_id", "with_content",
           "metadata_of", "raw_chunks", "fhir_json_chunks", "fhir_json_length"]

BUCKET = "binary"
CONTENT_EXTENSION = "urn:fhir-server:binary:gridfs-file"
CHUNK_BYTES = 255 * 1024  # GridFS' default chunk size; a multiple of 3 keeps base64 aligned


def content_id(resource: dict[str, Any]) -> str | None:
    """The GridFS file holding a stored Binary's bytes, if any."""
    for extension in resource.get("_data", {}).get("extension", []):
        if extension.get("url") == CONTENT_EXTENSION:
            return extension.get("valueString")
    return None


def with_content(resource: dict[str, Any], file_id: str) -> dict[str, Any]:
    """The Binary as stored: ``data`` replaced by a pointer to GridFS file ``file_id``."""
    stored = {k: v for k, v in resource.items() if k not in ("data", "_data")}
    stored["_data"] = {"extension": [{"url": CONTENT_EXTENSION, "valueString": file_id}]}
    return stored


def metadata_of(resource: dict[str, Any]) -> dict[str, Any]:
    """The Binary as a client sees it without its content (no ``data``, no GridFS pointer)."""
    return {k: v for k, v in resource.items() if k not in ("data", "_data")}


def _invalid_data(message: str) -> InvalidResource:
    return InvalidResource(message, issues=[Issue("error", "invalid", message, ("data",))])


def _decode(data: Any) -> bytes:
    if not isinstance(data, str):
        raise _invalid_data("Binary.data must be a base64 string")
    try:
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid_data("Binary.data is not valid base64") from None


class BinaryStore:
    """GridFS storage for Binary content."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)

    async def upload(self, chunks: AsyncIterable[bytes], limit: int, content_type: str) -> str:
        """Stream ``chunks`` into a new GridFS file; 413 (and nothing kept) past ``limit``."""
        file_id = str(uuid.uuid4())
        grid_in = self.bucket.open_upload_stream_with_id(
            file_id, file_id, metadata={"contentType": content_type}
        )
        size = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(
                        f"Binary content exceeds the limit of {limit} bytes "
                        "(setting FHIR_MAX_BINARY_BYTES)"
                    )
                await grid_in.write(chunk)
        except BaseException:
            await grid_in.abort()
            raise
        await grid_in.close()
        return file_id

    async def upload_bytes(self, data: bytes, limit: int, content_type: str) -> str:
        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), CHUNK_BYTES):
                yield data[start:start + CHUNK_BYTES]

        return await self.upload(chunks(), limit, content_type)

    async def externalize(self, resource: dict[str, Any], limit: int) -> tuple[dict[str, Any],
                                                                                str | None]:
        """A Binary with inline base64 ``data`` moved to GridFS: (stored form, file id)."""
        if "data" not in resource:
            return metadata_of(resource), None
        data = _decode(resource["data"])
        if len(data) > limit:
            raise PayloadTooLarge(f"Binary content of {len(data)} bytes exceeds the limit of "
                                  f"{limit} bytes (setting FHIR_MAX_BINARY_BYTES)")
        file_id = await self.upload_bytes(data, limit, resource.get("contentType", ""))
        return with_content(resource, file_id), file_id

    async def open(self, file_id: str) -> AsyncGridOut:
        try:
            return await self.bucket.open_download_stream(file_id)
        except NoFile:
            raise NotFound(f"The content of this Binary (file {file_id}) is missing") from None

    async def delete(self, file_id: str) -> None:
        try:
            await self.bucket.delete(file_id)
        except NoFile:
            pass


async def raw_chunks(grid_out: AsyncGridOut) -> AsyncIterator[bytes]:
    while chunk := await grid_out.readchunk():
        yield chunk


async def fhir_json_chunks(resource: dict[str, Any], grid_out: AsyncGridOut | None
                           ) -> AsyncIterator[bytes]:
    """The Binary as FHIR JSON with ``data`` in base64, encoded chunk by chunk."""
    head = dump_json(metadata_of(resource))
    if grid_out is None or grid_out.length == 0:
        yield head
        return
    yield head[:-1] + b',"data":"'
    pending = b""
    async for chunk in raw_chunks(grid_out):
        pending += chunk
        cut = len(pending) - len(pending) % 3
        yield base64.b64encode(pending[:cut])
        pending = pending[cut:]
    yield base64.b64encode(pending) + b'"}'


def fhir_json_length(resource: dict[str, Any], size: int) -> int:
    head = len(dump_json(metadata_of(resource)))
    if size == 0:
        return head
    return head - 1 + len(b',"data":"') + 4 * ((size + 2) // 3) + 2
