"""Binary content in GridFS (R4 binary.html).

A ``Binary`` resource is stored in the repository like any other, but without its
``data``: the bytes live in a GridFS bucket (``binary.files`` / ``binary.chunks``, readable
by any GridFS client) and the stored resource points at the GridFS file with an extension
on ``data`` (``"_data": {"extension": [...]}``, valid FHIR JSON for a primitive that has
extensions but no value). Uploads and downloads are streamed a few chunks at a time, so a
large file is never held in memory whole. Old versions keep their files, so ``vread``
returns the content as it was.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Any

from bson.binary import Binary as BsonBinary
from gridfs import AsyncGridFSBucket, NoFile
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from .. import clock
from ..errors import InvalidResource, Issue, NotFound, PayloadTooLarge
from ..json_io import dump_json

__all__ = ["BinaryStore", "StoredContent", "CONTENT_EXTENSION", "BUCKET", "content_id",
           "with_content", "metadata_of", "fhir_json_chunks", "fhir_json_length"]

BUCKET = "binary"
CONTENT_EXTENSION = "urn:fhir-server:binary:gridfs-file"
CHUNK_BYTES = 255 * 1024  # GridFS' default chunk size; a multiple of 3 keeps base64 aligned
BATCH_CHUNKS = 4  # chunks per insert while uploading (~1 MB)


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
        self.files = db[f"{BUCKET}.files"]
        self.chunks = db[f"{BUCKET}.chunks"]

    async def upload(self, chunks: AsyncIterable[bytes], limit: int, content_type: str) -> str:
        """Stream ``chunks`` into a new GridFS file; 413 (and nothing kept) past ``limit``.

        The GridFS layout is written here rather than through ``AsyncGridIn``, which buffers
        up to 32 MB before its first insert: this writes every ~1 MB, so memory stays
        bounded however large the content. The file document comes last, so a failed
        upload leaves no file (its chunks are removed).
        """
        file_id = str(uuid.uuid4())
        await self._ensure_indexes()
        pending, batch, size, number = bytearray(), [], 0, 0
        try:
            async for piece in chunks:
                size += len(piece)
                if size > limit:
                    raise PayloadTooLarge(f"Binary content exceeds the limit of {limit} bytes "
                                          "(setting FHIR_MAX_BINARY_BYTES)")
                pending += piece
                while len(pending) >= CHUNK_BYTES:
                    batch.append(self._chunk(file_id, number, pending[:CHUNK_BYTES]))
                    del pending[:CHUNK_BYTES]
                    number += 1
                    if len(batch) == BATCH_CHUNKS:
                        await self.chunks.insert_many(batch)
                        batch = []
            if pending:
                batch.append(self._chunk(file_id, number, pending))
            if batch:
                await self.chunks.insert_many(batch)
            await self.files.insert_one({
                "_id": file_id, "length": size, "chunkSize": CHUNK_BYTES,
                "uploadDate": clock.now(), "filename": file_id,
                "metadata": {"contentType": content_type}})
        except BaseException:
            await self.chunks.delete_many({"files_id": file_id})
            raise
        return file_id

    @staticmethod
    def _chunk(file_id: str, number: int, data: bytearray) -> dict[str, Any]:
        return {"files_id": file_id, "n": number, "data": BsonBinary(bytes(data))}

    async def _ensure_indexes(self) -> None:
        """The indexes the GridFS spec requires (idempotent)."""
        await self.chunks.create_index([("files_id", ASCENDING), ("n", ASCENDING)],
                                       unique=True)
        await self.files.create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])

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

    async def open(self, file_id: str) -> StoredContent:
        document = await self.files.find_one({"_id": file_id}, {"length": 1})
        if document is None:
            raise NotFound(f"The content of this Binary (file {file_id}) is missing")
        return StoredContent(file_id, document["length"], self.chunks)

    async def delete(self, file_id: str) -> None:
        try:
            await self.bucket.delete(file_id)
        except NoFile:
            pass


@dataclass
class StoredContent:
    """A GridFS file, read chunk by chunk (a few chunks per round trip).

    ``AsyncGridOut`` would fetch up to 16 MB per batch; this keeps reads as bounded as
    writes.
    """

    file_id: str
    length: int
    chunks: AsyncCollection

    async def read(self) -> AsyncIterator[bytes]:
        cursor = self.chunks.find({"files_id": self.file_id}, {"n": 1, "data": 1}).sort(
            "n", ASCENDING).batch_size(BATCH_CHUNKS)
        expected = 0
        async for chunk in cursor:
            if chunk["n"] != expected:
                raise NotFound(f"Chunk {expected} of Binary content {self.file_id} is missing")
            expected += 1
            yield bytes(chunk["data"])


async def fhir_json_chunks(resource: dict[str, Any], content: StoredContent | None
                           ) -> AsyncIterator[bytes]:
    """The Binary as FHIR JSON with ``data`` in base64, encoded chunk by chunk."""
    head = dump_json(metadata_of(resource))
    if content is None or content.length == 0:
        yield head
        return
    yield head[:-1] + b',"data":"'
    pending = b""
    async for chunk in content.read():
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
