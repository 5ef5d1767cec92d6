"""Export output files in GridFS (bucket ``export``): NDJSON written and read in chunks.

A file's id is ``<job>/<name>`` (``Observation.ndjson``, ``error.ndjson``); its metadata
names the job, so a job's files are found and deleted together. Lines are buffered up
to ``FLUSH_BYTES`` and written as GridFS chunks, so memory stays bounded whatever the
size of the export.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gridfs import AsyncGridFSBucket, NoFile
from pymongo.asynchronous.database import AsyncDatabase

from ..json_io import dump_json

__all__ = ["OutputStore", "NdjsonFile", "BUCKET"]

BUCKET = "export"
FLUSH_BYTES = 1 << 20
CHUNK_BYTES = 255 * 1024


def file_id(job_id: str, name: str) -> str:
    return f"{job_id}/{name}"


class NdjsonFile:
    """One NDJSON output file being written."""

    def __init__(self, stream: Any, resource_type: str) -> None:
        self.stream = stream
        self.resource_type = resource_type
        self.count = 0
        self.buffer = bytearray()

    async def write(self, resource: dict[str, Any]) -> None:
        self.buffer += dump_json(resource)
        self.buffer += b"\n"
        self.count += 1
        if len(self.buffer) >= FLUSH_BYTES:
            await self.flush()

    async def flush(self) -> None:
        if self.buffer:
            await self.stream.write(bytes(self.buffer))
            self.buffer.clear()

    async def close(self) -> None:
        await self.flush()
        await self.stream.close()

    async def abort(self) -> None:
        await self.stream.abort()


class OutputStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)

    async def ensure_indexes(self) -> None:
        await self.db[f"{BUCKET}.files"].create_index("metadata.job", name="export_job")

    async def open(self, job_id: str, name: str, resource_type: str) -> NdjsonFile:
        """A new file (any partial one of the same name from an interrupted run is
        deleted first)."""
        await self.delete(job_id, name)
        stream = self.bucket.open_upload_stream_with_id(
            file_id(job_id, name), name,
            metadata={"job": job_id, "type": resource_type,
                      "contentType": "application/fhir+ndjson"})
        return NdjsonFile(stream, resource_type)

    async def delete(self, job_id: str, name: str) -> None:
        try:
            await self.bucket.delete(file_id(job_id, name))
        except NoFile:
            pass

    async def delete_job(self, job_id: str) -> None:
        cursor = self.db[f"{BUCKET}.files"].find({"metadata.job": job_id}, {"_id": 1})
        async for document in cursor:
            try:
                await self.bucket.delete(document["_id"])
            except NoFile:
                pass

    async def exists(self, job_id: str, name: str) -> bool:
        found = await self.db[f"{BUCKET}.files"].find_one({"_id": file_id(job_id, name)},
                                                          {"_id": 1})
        return found is not None

    async def chunks(self, job_id: str, name: str) -> AsyncIterator[bytes]:
        """The file's bytes, one GridFS chunk at a time."""
        stream = await self.bucket.open_download_stream(file_id(job_id, name))
        try:
            while chunk := await stream.readchunk():
                yield chunk
        finally:
            await stream.close()
