"""Order groups of a message: ORC and its primary segment (OBR, RXA, RXE, RXO) with the
segments that follow them, as the v2 message structures nest them (HL7 v2.5.1 2.5.2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..message import Segment, V2Message

__all__ = ["OrderGroup", "order_groups", "following"]


@dataclass
class OrderGroup:
    orc: Segment | None = None
    primary: Segment | None = None
    members: list[Segment] = field(default_factory=list)

    def all(self, name: str) -> list[Segment]:
        return [s for s in self.members if s.name == name]

    def first(self, name: str) -> Segment | None:
        found = self.all(name)
        return found[0] if found else None


def order_groups(message: V2Message, primary: str,
                 stop: frozenset[str] = frozenset()) -> tuple[list[Segment], list[OrderGroup]]:
    """Segments before the first order (e.g. patient-level OBX) and the order groups."""
    before: list[Segment] = []
    groups: list[OrderGroup] = []
    for segment in message.segments[1:]:
        current = groups[-1] if groups else None
        if segment.name == "ORC":
            groups.append(OrderGroup(orc=segment))
        elif segment.name == primary:
            if current is not None and current.primary is None:
                current.primary = segment
            else:
                groups.append(OrderGroup(orc=current.orc if current else None,
                                         primary=segment))
        elif segment.name in stop:
            continue
        elif current is not None:
            current.members.append(segment)
        else:
            before.append(segment)
    return before, groups


def following(message: V2Message, segment: Segment, names: frozenset[str]) -> list[Segment]:
    """The run of ``names`` segments right after ``segment`` (e.g. the NTEs of an OBX)."""
    found = []
    for later in message.segments[segment.index + 1:]:
        if later.name not in names:
            break
        found.append(later)
    return found
