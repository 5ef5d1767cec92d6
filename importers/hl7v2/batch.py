"""Files of HL7 v2 messages: one or many messages, batches (HL7 v2.5.1 section 2.10.3:
FHS/BHS ... BTS/FTS), MLLP-framed captures, any line ends.

The batch envelope segments are dropped; each MSH starts a message. Text before the first
MSH that is not an envelope is returned as its own item, so it is answered and kept as a
dead letter rather than silently skipped.
"""

from __future__ import annotations

import re

from .message import decode

__all__ = ["split_batch"]

_ENVELOPE = {"FHS", "BHS", "BTS", "FTS"}
_FRAMING = re.compile(r"[\x0b\x1c]")


def split_batch(data: bytes | str) -> list[str]:
    """The messages of a file, each as segments joined by CR."""
    text = decode(data) if isinstance(data, bytes) else data
    lines = [line.strip("\ufeff") for line in
             _FRAMING.sub("\r", text).replace("\r\n", "\r").replace("\n", "\r").split("\r")]
    messages: list[list[str]] = []
    stray: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        name = line[:3]
        if name in _ENVELOPE:
            continue
        if name == "MSH":
            messages.append([line])
        elif messages:
            messages[-1].append(line)
        else:
            stray.append(line)
    found = ["\r".join(m) + "\r" for m in messages]
    return (["\r".join(stray) + "\r"] if stray else []) + found
