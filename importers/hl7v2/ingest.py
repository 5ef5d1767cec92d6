"""One message in, one ACK out: parse, check for a repeat, map, validate, commit.

Everything a message produces (its resources, the Binary with its text, its Provenance and
its message record with the ACK) is written in ONE transaction through the server's
:class:`~.store.FeedStore`, so the AA goes out only once all of it is committed, and a
repeat of the message (same sender and MSH-10) gets the stored ACK back without writing
anything. Failures are answered AR or AE and kept as dead letters.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import DuplicateKeyError, PyMongoError

from profiles.validator import Validator

from . import instants
from .ack import AckError, Header, best_effort_header, build_ack, header_of
from .datatypes import DataTypeError, date_time
from .mapping import MappingError, UnsupportedMessage, Write, map_message
from .mapping.context import resource_id
from .message import Encoding, V2Message, V2ParseError, decode, parse
from .patients import resolve_message_patient
from .provenance import message_provenance, raw_binary
from .store import DeadLetter, FeedStore, message_key, raw_key
from .tables import load_tables

__all__ = ["Ingestor", "Outcome", "DEFAULT_MAX_BYTES"]

log = logging.getLogger("fhir_server.hl7v2")
DEFAULT_MAX_BYTES = 4 << 20


@dataclass
class Outcome:
    """The answer to one message and what came of it."""

    code: str  # AA, AE or AR
    ack: str
    control_id: str = ""
    key: str = ""
    duplicate: bool = False
    error: AckError | None = None
    targets: list[str] = field(default_factory=list)
    held: str | None = None  # why the message waits for a patient identity review


class Failure(Exception):
    """A message that is answered AE or AR (and becomes a dead letter)."""

    def __init__(self, code: str, error: AckError) -> None:
        super().__init__(error.text)
        self.code = code
        self.error = error


@dataclass
class _Parsed:
    message: V2Message
    header: Header
    key: str


class Ingestor:
    """Turns HL7 v2 messages into stored FHIR resources through a :class:`FeedStore`."""

    def __init__(self, store: FeedStore, validator: Validator | None = None, *,
                 config_path: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.store = store
        self.validator = validator or Validator()
        self.config_path = config_path
        self.max_bytes = max_bytes

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()

    async def ingest(self, data: bytes | str, *, source: str = "mllp") -> Outcome:
        """Store one message; never raises for bad input (the Outcome says AE/AR)."""
        text = decode(data) if isinstance(data, bytes) else data
        header, key, message = best_effort_header(text), raw_key(text), None
        try:
            if len(text.encode("utf-8", "replace")) > self.max_bytes:
                raise Failure("AR", AckError("207", f"The message is larger than the "
                                             f"{self.max_bytes}-byte limit"))
            parsed = await asyncio.to_thread(self._parse, text)
            header, key, message = parsed.header, parsed.key, parsed.message
            done = await self.store.message(key)
            if done is not None:
                return self._repeat(done, header)
            writes = await asyncio.to_thread(self._map, message, key)
            resolved = await resolve_message_patient(self.store, message, key, writes)
            if resolved.held is not None:
                return await self._hold(parsed, resolved.held, text, source)
            return await self._commit(parsed, resolved.writes, text, source)
        except Failure as failure:
            return await self._fail(failure, header, key, message, text, source)
        except (PyMongoError, *self.store.retryable) as error:
            log.exception("storing HL7 v2 message %s failed", header.control_id)
            failure = Failure("AR", AckError("207", f"The message could not be stored now "
                                             f"({type(error).__name__}); send it again"))
            return await self._fail(failure, header, key, message, text, source)
        except Exception as error:  # a bug must not take the listener down or lose the text
            log.exception("HL7 v2 message %s failed", header.control_id)
            failure = Failure("AE", AckError("207", f"Internal error: {type(error).__name__}"))
            return await self._fail(failure, header, key, message, text, source)

    # -- steps ------------------------------------------------------------------------
    def _parse(self, text: str) -> _Parsed:
        try:
            message = parse(text)
        except V2ParseError as error:
            raise Failure("AR", AckError(error.code, str(error), error.location)) from None
        header = header_of(message)
        if not message.msh.field(9):
            raise Failure("AR", AckError("101", "MSH-9 (message type) is required but empty",
                                         "MSH^1^9"))
        if not message.control_id:
            raise Failure("AR", AckError("101", "MSH-10 (message control id) is required but "
                                         "empty", "MSH^1^10"))
        return _Parsed(message, header, message_key(message.sender, message.control_id))

    def _map(self, message: V2Message, key: str) -> list[Write]:
        try:
            context = map_message(message, load_tables(self.config_path), key)
        except UnsupportedMessage as error:
            raise Failure("AR", AckError(error.code, str(error), "MSH^1^9")) from None
        except MappingError as error:
            raise Failure("AE", AckError(error.code, str(error), error.location)) from None
        except Exception as error:  # a mapping bug must not take the listener down
            log.exception("mapping HL7 v2 message %s failed", message.control_id)
            raise Failure("AE", AckError("207", f"Internal mapping error: "
                                         f"{type(error).__name__}: {error}")) from None
        writes = list(context.writes.values())
        for write in writes:
            if write.mode != "amend":
                self._validate(write.resource, write.source)
        return writes

    def _validate(self, resource: dict[str, Any], source: str) -> None:
        issues = [i for i in self.validator.validate(resource)
                  if i.severity in ("error", "fatal")]
        if issues:
            first = issues[0]
            where = f" at {', '.join(first.expression)}" if first.expression else ""
            raise Failure("AE", AckError(
                "207", f"{resource['resourceType']} mapped from {source or 'the message'} is "
                f"not valid FHIR: {first.diagnostics}{where}", source))

    async def _commit(self, parsed: _Parsed, writes: list[Write], text: str,
                      source: str) -> Outcome:
        message, key = parsed.message, parsed.key
        ack = build_ack(parsed.header, "AA")

        async def work(session: Any) -> Outcome:
            done = await self.store.message(key, session)
            if done is not None:
                return self._repeat(done, parsed.header)
            moment = instants.now()
            binary = raw_binary(key, text)
            await self.store.prefetch(
                [(w.resource["resourceType"], w.resource["id"]) for w in writes]
                + [("Binary", binary["id"]), ("Provenance", resource_id("Provenance", key))],
                session)
            targets = [await self._apply(write, session) for write in writes]
            await self.store.write(binary, session)
            provenance = message_provenance(
                message, key, targets, binary["id"], instants.to_instant(moment),
                self._occurred(message))
            self._validate(provenance, "MSH^1")
            await self.store.write(provenance, session)
            await self.store.record_message({
                "_id": key, "sender": message.sender, "controlId": message.control_id,
                "event": message.event_type, "receivedAt": moment, "source": source,
                "ackCode": "AA", "ack": ack, "binary": f"Binary/{binary['id']}",
                "provenance": f"Provenance/{provenance['id']}", "resources": targets,
            }, session)
            await self.store.resolve_dead_letter(key, moment, session)
            return Outcome("AA", ack, message.control_id, key, targets=targets)

        try:
            return await self.store.in_transaction(work)
        except DuplicateKeyError:
            done = await self.store.message(key)
            if done is None:
                raise
            return self._repeat(done, parsed.header)

    async def _apply(self, write: Write, session: Any) -> str:
        """Store one planned write; returns the versioned reference of what is stored."""
        resource_type, rid = write.resource["resourceType"], write.resource["id"]
        resource = write.resource
        if write.mode == "if-absent":
            current = await self.store.current(resource_type, rid, session)
            if current is not None:
                return f"{resource_type}/{rid}/_history/{current[0]}"
        elif write.mode == "amend" and write.amend is not None:
            current = await self.store.current(resource_type, rid, session)
            stored = current[1] if current else None
            resource = {**write.amend(stored, write.resource), "resourceType": resource_type,
                        "id": rid}
            self._validate(resource, write.source)
        vid = await self.store.write(resource, session)
        return f"{resource_type}/{rid}/_history/{vid}"

    async def _hold(self, parsed: _Parsed, reason: str, text: str, source: str) -> Outcome:
        """AA: the message is kept (a ``held`` dead letter) until a reviewer decides who
        its patient is; then it is ingested again (``fhir-server review``)."""
        message = parsed.message
        await self.store.record_dead_letter(DeadLetter(
            key=parsed.key, text=text, ack_code="AA", error_code="0",
            error=f"held for patient review: {reason}", sender=message.sender,
            control_id=message.control_id, event=message.event_type, source=source,
            status="held"), instants.now())
        return Outcome("AA", build_ack(parsed.header, "AA"), message.control_id, parsed.key,
                       held=reason)

    @staticmethod
    def _repeat(done: dict[str, Any], header: Header) -> Outcome:
        return Outcome(done["ackCode"], done["ack"], header.control_id, done["_id"],
                       duplicate=True, targets=list(done.get("resources", [])))

    async def reject_oversized(self, head: bytes, size: int, *, source: str) -> Outcome:
        """AR for a message over the size limit; its first bytes become the dead letter."""
        text = decode(head)
        failure = Failure("AR", AckError("207", f"The message ({size} bytes) is larger than "
                                         f"the {self.max_bytes}-byte limit"))
        return await self._fail(failure, best_effort_header(text), raw_key(text), None, text,
                                source, truncated=True)

    @staticmethod
    def internal_error_ack() -> str:
        return build_ack(Header(Encoding()), "AR", [AckError("207", "Internal error")])

    async def _fail(self, failure: Failure, header: Header, key: str,
                    message: V2Message | None, text: str, source: str,
                    truncated: bool = False) -> Outcome:
        ack = build_ack(header, failure.code, [failure.error])
        limit = self.max_bytes
        letter = DeadLetter(
            key=key, text=text[:limit], ack_code=failure.code, error_code=failure.error.code,
            error=failure.error.text, location=failure.error.location,
            sender=message.sender if message else "", control_id=header.control_id,
            event=message.event_type if message else "", source=source,
            truncated=truncated or len(text) > limit)
        try:
            await self.store.record_dead_letter(letter, instants.now())
        except PyMongoError:
            log.exception("could not keep the dead letter of message %s", header.control_id)
        return Outcome(failure.code, ack, header.control_id, key, error=failure.error)

    def _occurred(self, message: V2Message) -> str | None:
        """MSH-7 (date/time of message) as a dateTime, if it is one."""
        try:
            return date_time(message.msh[7], load_tables(self.config_path).timezone)
        except DataTypeError:
            return None
