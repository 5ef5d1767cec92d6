"""Reading HL7 v2 messages (ER7 encoding), liberally.

HL7 v2.5.1 chapter 2.5-2.7 (message construction rules): segments end with a carriage
return, fields are split by MSH-1, components, repetitions, escape and sub-components by the
four characters of MSH-2. Real feeds deviate: LF or CRLF segment ends, byte order marks,
trailing separators left out, Z-segments. ``parse`` accepts all of those: hl7apy's parser
functions read MSH (``get_message_info``: encoding characters, message structure, version;
``check_encoding_chars``), and a thin splitter on those delimiters reads the segments, keeping
every value as written, so no field is lost to a version's segment definition. (hl7apy's
element tree is not built: its ``parse_segment`` alone takes 8-75 ms for one MSH here.)

The work one message may cause is bounded (:class:`Limits`: repetitions of a field, segments)
and reading it is linear in its size; text with control characters is refused, so none can
reach a stored resource or be echoed into an ACK.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property

from hl7apy import check_encoding_chars
from hl7apy.parser import get_message_info

__all__ = ["Encoding", "Value", "Segment", "V2Message", "V2ParseError", "Limits", "parse",
           "decode"]

_SEGMENT_NAME = re.compile(r"^[A-Z][A-Z0-9]{2}$")
# C0 controls and DEL; tab is text. CR and LF end segments and never reach a segment's text.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CHARSETS = {
    "8859/1": "latin-1", "8859/15": "iso8859-15", "UNICODE UTF-8": "utf-8",
    "ASCII": "ascii", "UNICODE": "utf-8", "UTF-8": "utf-8",
}


class V2ParseError(ValueError):
    """The text is not an HL7 v2 message this reader can make sense of (answer AR).

    ``location`` is the ERR-2 location (``segment^sequence^field``) when known.
    """

    def __init__(self, message: str, location: str = "", code: str = "100") -> None:
        super().__init__(message)
        self.location = location
        self.code = code


@dataclass(frozen=True)
class Limits:
    """How much one message may ask of the server; beyond this it is refused (AR, ERR 207).

    ``repetitions``: of one field (a PID-3 with 50,000 identifiers is not a patient);
    ``segments``: in one message. Each has an environment variable (``from_environment``).
    """

    repetitions: int = 1000
    segments: int = 5000

    @classmethod
    def from_environment(cls) -> Limits:
        """``FHIR_HL7_MAX_REPETITIONS`` and ``FHIR_HL7_MAX_SEGMENTS``, else the defaults."""
        def read(name: str, default: int) -> int:
            value = os.environ.get(name, "").strip()
            return int(value) if value.isdigit() and int(value) > 0 else default

        return cls(read("FHIR_HL7_MAX_REPETITIONS", cls.repetitions),
                   read("FHIR_HL7_MAX_SEGMENTS", cls.segments))


@dataclass(frozen=True)
class Encoding:
    """The delimiters of one message (MSH-1 and MSH-2)."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    @property
    def characters(self) -> str:
        return self.component + self.repetition + self.escape + self.subcomponent

    def unescape(self, text: str) -> str:
        """Replace the escape sequences of HL7 v2.5.1 section 2.7 with the characters meant."""
        esc = self.escape
        if not esc or esc not in text:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            end = text.find(esc, i + 1) if char == esc else -1
            if end < 0:
                out.append(char)
                i += 1
                continue
            out.append(self._sequence(text[i + 1:end], text[i:end + 1]))
            i = end + 1
        return "".join(out)

    def _sequence(self, body: str, whole: str) -> str:
        simple = {"F": self.field, "S": self.component, "T": self.subcomponent,
                  "R": self.repetition, "E": self.escape, ".br": "\n"}
        if body in simple:
            return simple[body]
        if body in ("H", "N") or body.startswith((".sp", ".in", ".ti", ".fi", ".nf", ".ce")):
            return "\n" if body.startswith(".sp") else ""
        if body[:1] == "X" and len(body) % 2 == 1:
            try:
                decoded = bytes.fromhex(body[1:]).decode("latin-1")
            except ValueError:
                return whole
            return _CONTROL.sub(lambda m: m.group() if m.group() in "\r\n" else "", decoded)
        return whole


@dataclass(frozen=True)
class Value:
    """One datatype instance: a field repetition, a component or a sub-component.

    ``part(i)`` is its i-th (1-based) component (of a field repetition) or sub-component (of
    a component); ``text`` is the value with escapes resolved. The HL7 explicit null ``""``
    reads as empty.
    """

    raw: str
    encoding: Encoding
    level: int = 0  # 0 field repetition, 1 component, 2 sub-component

    def _separator(self) -> str | None:
        return {0: self.encoding.component, 1: self.encoding.subcomponent}.get(self.level)

    def parts(self) -> list[Value]:
        separator = self._separator()
        pieces = self.raw.split(separator) if separator else [self.raw]
        return [Value(p, self.encoding, self.level + 1) for p in pieces]

    def part(self, index: int) -> Value:
        separator = self._separator()
        if separator is None:
            return self if index == 1 else Value("", self.encoding, 3)
        pieces = self.raw.split(separator)
        raw = pieces[index - 1] if 0 < index <= len(pieces) else ""
        return Value(raw, self.encoding, self.level + 1)

    def __getitem__(self, index: int) -> str:
        """The text of component/sub-component ``index``, or of the first part when 1."""
        return self.part(index).first_text

    @property
    def first_text(self) -> str:
        value = self
        while value.level < 2 and value._separator() and value._separator() in value.raw:
            value = value.part(1)
        return value.text

    @property
    def text(self) -> str:
        if self.raw in ('""', ""):
            return ""
        return self.encoding.unescape(self.raw).strip()

    @property
    def has_parts(self) -> bool:
        separator = self._separator()
        return bool(separator) and separator in self.raw

    def __bool__(self) -> bool:
        stripped = self.raw.replace(self.encoding.component, "").replace(
            self.encoding.subcomponent, "").strip()
        return stripped not in ("", '""')


@dataclass
class Segment:
    """One segment: its name, its place in the message and its fields as written."""

    name: str
    index: int  # 0-based position in the message
    fields: list[str]  # fields[0] is the name; for MSH fields[1] is MSH-1
    encoding: Encoding
    sequence: int = 1  # 1-based occurrence of this segment name in the message
    _repetitions: dict[int, list[Value]] = field(default_factory=dict, repr=False,
                                                 compare=False)

    def raw(self, number: int) -> str:
        return self.fields[number] if 0 < number < len(self.fields) else ""

    def repetitions(self, number: int) -> list[Value]:
        """The non-empty repetitions of field ``number`` (split once, then remembered)."""
        found = self._repetitions.get(number)
        if found is None:
            found = self._repetitions[number] = self._split_repetitions(number)
        return list(found)

    def _split_repetitions(self, number: int) -> list[Value]:
        raw = self.raw(number)
        if not raw:
            return []
        if self.name == "MSH" and number in (1, 2):
            return [Value(raw, self.encoding, 3)]
        reps = [Value(r, self.encoding, 0) for r in raw.split(self.encoding.repetition)]
        return [r for r in reps if r]

    def field(self, number: int, repetition: int = 0) -> Value:
        reps = self._repetitions.get(number) or self.repetitions(number)
        return reps[repetition] if repetition < len(reps) else Value("", self.encoding, 0)

    def __getitem__(self, number: int) -> str:
        """The text of the first component of the first repetition of field ``number``."""
        return self.field(number).first_text

    def field_name(self, number: int, component: int | None = None) -> str:
        """How people write a field: ``PID-7``, ``OBX-5.1``, with the occurrence if not 1."""
        name = f"{self.name}-{number}" + (f".{component}" if component else "")
        return name if self.sequence == 1 else f"{name} (occurrence {self.sequence})"

    def location(self, number: int | None = None, component: int | None = None) -> str:
        """An ERR-2 location (HL7 v2.5.1 ERL): ``PID^1^7`` or ``OBX^3^5^1^1``."""
        parts = [self.name, str(self.sequence)]
        if number is not None:
            parts.append(str(number))
            if component is not None:
                parts += ["1", str(component)]
        return "^".join(parts)


@dataclass
class V2Message:
    """A parsed message: its segments and the MSH values every step needs."""

    text: str
    encoding: Encoding
    segments: list[Segment]
    version: str
    structure: str | None
    charset: str = "utf-8"
    _by_name: dict[str, list[Segment]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for segment in self.segments:
            self._by_name.setdefault(segment.name, []).append(segment)

    @property
    def msh(self) -> Segment:
        return self.segments[0]

    def first(self, name: str) -> Segment | None:
        found = self._by_name.get(name)
        return found[0] if found else None

    def all(self, name: str) -> list[Segment]:
        return list(self._by_name.get(name, ()))

    @property
    def message_code(self) -> str:
        return self.msh.field(9)[1].upper()

    @property
    def trigger_event(self) -> str:
        return self.msh.field(9)[2].upper()

    @property
    def control_id(self) -> str:
        return self.msh.field(10).text

    @property
    def sender(self) -> str:
        """MSH-3 and MSH-4 as written: who sent it, for the duplicate check."""
        return f"{self.msh.raw(3)}|{self.msh.raw(4)}"

    @property
    def processing_id(self) -> str:
        return self.msh[11]

    @cached_property
    def event_type(self) -> str:
        """``ADT^A01`` etc., from MSH-9 (or EVN-1 when MSH-9.2 is empty, as v2.3 allows)."""
        event = self.trigger_event
        if not event and self.first("EVN") is not None:
            event = self.first("EVN")[1].upper()  # type: ignore[index]
        return f"{self.message_code}^{event}"


def decode(data: bytes) -> str:
    """Bytes to text: BOMs stripped, MSH-18 charset honoured, UTF-8 then Latin-1 fallback."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                       (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace")
    head = data[:512].split(b"\r", 1)[0].split(b"\n", 1)[0]
    declared = head.split(head[3:4] or b"|")[17:18] if head[:3] == b"MSH" else []
    codec = _CHARSETS.get(declared[0].decode("ascii", "replace").strip().upper(), None) \
        if declared else None
    try:
        return data.decode(codec or "utf-8")
    except (UnicodeDecodeError, LookupError):
        return data.decode("latin-1")


def _normalise(text: str) -> list[str]:
    text = text.lstrip("\ufeff\x0b \t\r\n").rstrip("\x1c\x00")
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    return [line.rstrip(" \t") for line in text.split("\r") if line.strip()]


def parse(data: bytes | str, limits: Limits | None = None) -> V2Message:
    """One message from its ER7 text; raises :class:`V2ParseError` when it cannot be read
    or is beyond ``limits`` (by default :meth:`Limits.from_environment`)."""
    limits = limits or Limits.from_environment()
    text = decode(data) if isinstance(data, bytes) else data
    lines = _normalise(text)
    if not lines:
        raise V2ParseError("The message is empty", "", "100")
    if not lines[0].startswith("MSH"):
        raise V2ParseError("The message does not start with an MSH segment", "MSH^1", "100")
    lines[0] = _repair_msh(lines[0])
    encoding, structure, version = _read_msh(lines[0])
    if len(lines) > limits.segments:
        raise V2ParseError(f"The message has {len(lines)} segments; this server takes at "
                           f"most {limits.segments} (FHIR_HL7_MAX_SEGMENTS)",
                           lines[limits.segments][:3], "207")
    segments = _split(lines, encoding, limits)
    charset = segments[0].raw(18) or "utf-8"
    return V2Message("\r".join(lines) + "\r", encoding, segments, version, structure, charset)


def _repair_msh(line: str) -> str:
    """``MSH|^~\\\\&|``: an escape character doubled by a string-escaping sender."""
    if line[4:9] == "^~\\\\&" and line[9:10] == line[3]:
        return line[:6] + line[7:]
    return line


def _read_msh(line: str) -> tuple[Encoding, str | None, str]:
    """MSH through hl7apy's parser functions: encoding characters, structure, version."""
    try:
        characters, structure, version = get_message_info(line)
    except Exception as error:  # hl7apy raises several unrelated types here
        raise V2ParseError(f"MSH-1/MSH-2 encoding characters are invalid: {error}",
                           "MSH^1^2", "102") from None
    encoding = Encoding(characters["FIELD"], characters["COMPONENT"], characters["REPETITION"],
                        characters["ESCAPE"], characters["SUBCOMPONENT"])
    if any(c.isalnum() or not c.isprintable() or c.isspace()
           for c in encoding.field + encoding.characters):
        raise V2ParseError("MSH-1/MSH-2 encoding characters must be printable and not letters, "
                           "digits or spaces", "MSH^1^2", "102")
    try:
        check_encoding_chars(characters)
    except Exception as error:
        raise V2ParseError(f"MSH-2 encoding characters are invalid: {error}",
                           "MSH^1^2", "102") from None
    return encoding, structure, (version or "").strip()


def _split(lines: list[str], encoding: Encoding, limits: Limits) -> list[Segment]:
    """The segments, each line split once; every check here is linear in the line."""
    segments: list[Segment] = []
    counts: dict[str, int] = {}
    for index, line in enumerate(lines):
        fields = line.split(encoding.field)
        name = fields[0].strip().upper()
        if not _SEGMENT_NAME.match(name):
            raise V2ParseError(f"Segment {index + 1} has no valid segment name "
                               f"({fields[0][:10]!r})", f"{name[:3]}^{index + 1}", "100")
        if name == "MSH":
            if index:
                raise V2ParseError("A second MSH segment: one message per frame",
                                   f"MSH^{index + 1}", "100")
            fields = ["MSH", encoding.field, *fields[1:]]
        counts[name] = counts.get(name, 0) + 1
        segment = Segment(name, index, fields, encoding, counts[name])
        _refuse_control_characters(segment, line)
        _bound_repetitions(segment, limits)
        segments.append(segment)
    return segments


def _refuse_control_characters(segment: Segment, line: str) -> None:
    """A NUL, form feed, escape... in the text: refused, so it is neither stored nor echoed."""
    found = _CONTROL.search(line)
    if found is None:
        return
    number = line.count(segment.encoding.field, 0, found.start()) + (segment.name == "MSH")
    raise V2ParseError(f"{segment.field_name(number)} contains the control character "
                       f"U+{ord(found.group()):04X}; HL7 v2 text may not carry control "
                       f"characters other than tab", segment.location(number), "102")


def _bound_repetitions(segment: Segment, limits: Limits) -> None:
    repetition = segment.encoding.repetition
    for number, raw in enumerate(segment.fields):
        if number and repetition in raw and not (segment.name == "MSH" and number < 3):
            count = raw.count(repetition) + 1
            if count > limits.repetitions:
                raise V2ParseError(
                    f"{segment.field_name(number)} repeats {count} times; this server takes "
                    f"at most {limits.repetitions} repetitions of a field "
                    f"(FHIR_HL7_MAX_REPETITIONS)", segment.location(number), "207")
