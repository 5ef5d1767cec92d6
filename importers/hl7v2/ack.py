"""Original-mode acknowledgments (HL7 v2.5.1 section 2.9.2): ``ACK`` with MSA and ERR.

AA: the message was stored (only after the commit); AE: the content could not be mapped or
stored (ERR names the field); AR: the message was rejected (unreadable, unsupported type,
missing MSH-9/MSH-10, or the server could not store it now). MSA-2 echoes MSH-10.
Nothing is echoed that is not printable: a control character in a header value is replaced.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from .message import Encoding, V2Message

__all__ = ["AckError", "Header", "build_ack", "header_of", "best_effort_header"]

_DEFAULT = Encoding()
_ERROR_TEXT = {
    "0": "Message accepted", "100": "Segment sequence error", "101": "Required field missing",
    "102": "Data type error", "103": "Table value not found", "200": "Unsupported message type",
    "201": "Unsupported event code", "202": "Unsupported processing id",
    "203": "Unsupported version id", "204": "Unknown key identifier",
    "205": "Duplicate key identifier",
    "206": "Application record locked", "207": "Application internal error",
}


@dataclass(frozen=True)
class AckError:
    """One ERR: HL7 table 0357 code, ERR-2 location (``PID^1^7``) and the diagnostic."""

    code: str
    text: str
    location: str = ""


@dataclass(frozen=True)
class Header:
    """What an ACK copies from the message header, raw (already in its encoding)."""

    encoding: Encoding
    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    trigger: str = ""
    control_id: str = ""
    processing_id: str = "P"
    version: str = "2.5.1"


def header_of(message: V2Message) -> Header:
    msh = message.msh
    return Header(message.encoding, msh.raw(3), msh.raw(4), msh.raw(5), msh.raw(6),
                  message.trigger_event, message.control_id, msh.raw(11) or "P",
                  message.version or "2.5.1")


def best_effort_header(text: str) -> Header:
    """Header of a message that could not be parsed: MSH-10 if a field separator is found."""
    first = text.lstrip("\ufeff\x0b \r\n").replace("\n", "\r").split("\r", 1)[0]
    if not first.startswith("MSH") or len(first) < 4 or first[3].isalnum():
        return Header(_DEFAULT)
    fields = first.split(first[3])
    control = fields[9] if len(fields) > 9 else ""
    control = control if control.isprintable() and len(control) <= 199 else ""
    return Header(_DEFAULT, control_id=control)


def _printable(text: str) -> str:
    """``text`` with every character that is not printable (NUL, CR, ...) made a space."""
    return text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)


def _escape(text: str, encoding: Encoding) -> str:
    text = text.replace(encoding.escape, f"{encoding.escape}E{encoding.escape}")
    for char, code in ((encoding.field, "F"), (encoding.component, "S"),
                       (encoding.repetition, "R"), (encoding.subcomponent, "T")):
        text = text.replace(char, f"{encoding.escape}{code}{encoding.escape}")
    return _printable(text)


def _err(error: AckError, encoding: Encoding, version: str) -> str:
    f, c, s = encoding.field, encoding.component, encoding.subcomponent
    label = _ERROR_TEXT.get(error.code, "Application error")
    location = _printable(error.location).replace("^", c)
    if version < "2.5":
        return f"ERR{f}{location}{c}{error.code}{s}{label}{s}HL70357"
    diagnostic = _escape(error.text[:250], encoding)
    return (f"ERR{f}{f}{location}{f}{error.code}{c}{label}{c}HL70357{f}E{f}{f}{f}{f}"
            f"{diagnostic}")


def build_ack(header: Header, code: str, errors: list[AckError] | None = None,
              now: datetime | None = None) -> str:
    """The ACK message (segments separated by CR) answering ``header`` with ``code``."""
    encoding = header.encoding
    f = encoding.field
    moment = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S+0000")
    version = header.version if header.version[:1] == "2" else "2.5.1"
    msh = f.join(_printable(value) for value in (
        "MSH", encoding.characters, header.receiving_application, header.receiving_facility,
        header.sending_application, header.sending_facility, moment, "",
        f"ACK{encoding.component}{header.trigger}{encoding.component}ACK"
        if header.trigger else "ACK",
        uuid.uuid4().hex[:20], header.processing_id or "P", version,
    ))
    text = _escape((errors or [AckError("0", "")])[0].text[:80], encoding) if errors else ""
    msa = f.join(["MSA", code, _escape(header.control_id, encoding), text]).rstrip(f)
    segments = [msh, msa, *(_err(e, encoding, version) for e in errors or [])]
    return "\r".join(segments) + "\r"
