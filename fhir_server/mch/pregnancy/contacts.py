"""The eight antenatal care contacts of the WHO 2016 model, and where a pregnancy stands.

WHO recommendations on antenatal care for a positive pregnancy experience (2016,
https://www.who.int/publications/i/item/9789241549912), the recommended contact schedule:
contact 1 up to 12 weeks, then contacts at 20, 26, 30, 34, 36, 38 and 40 weeks.

A contact is *done* when a prenatal contact took place in its window. The windows cut the
pregnancy at the midpoints between scheduled contacts, so each recorded contact counts once:
contact 1 from the start up to 15 6/7 weeks, contact 2 from 16 to 22 6/7, contact 3 from 23
to 27 6/7, contact 4 from 28 to 31 6/7, contact 5 from 32 to 34 6/7, contact 6 from 35 to
36 6/7, contact 7 from 37 to 38 6/7 and contact 8 from 39 weeks on. A contact not done is
*upcoming* until 14 days before its due date, *due* from 14 days before to 14 days after
it, *overdue* after that. Once the pregnancy has ended, a contact not done whose due period
had not passed by the end is *not-applicable*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from .records import Visit

__all__ = ["AntenatalContact", "CONTACT_WEEKS", "antenatal_contacts", "next_contact"]

CONTACT_WEEKS = (12, 20, 26, 30, 34, 36, 38, 40)
DUE_DAYS = 14
# First day (gestational age in days) of each contact's window: midpoints between contacts.
_WINDOW_STARTS = (0, *(7 * (a + b) // 2 for a, b in pairwise(CONTACT_WEEKS)))


@dataclass(frozen=True)
class AntenatalContact:
    """A contact of the model: ``status`` is done, due, overdue, upcoming or
    not-applicable; ``visit`` the first recorded contact in its window when done."""

    number: int
    due: date
    status: str
    visit: Visit | None = None


def _window(number: int, start: date) -> tuple[date, date | None]:
    first = start + timedelta(days=_WINDOW_STARTS[number - 1])
    if number == len(CONTACT_WEEKS):
        return first, None
    return first, start + timedelta(days=_WINDOW_STARTS[number] - 1)


def _status(due: date, day: date, ended: bool) -> str:
    if day > due + timedelta(days=DUE_DAYS):
        return "overdue"
    if ended:
        return "not-applicable"
    return "upcoming" if day < due - timedelta(days=DUE_DAYS) else "due"


def antenatal_contacts(start: date, visits: list[Visit], day: date,
                       end: date | None) -> list[AntenatalContact]:
    """The eight contacts of a pregnancy starting (menstrual dating) on ``start`` as of
    ``day``, from its recorded ``visits``; ``end`` is the date it ended, if it did."""
    last = day if end is None else min(day, end)
    contacts = []
    for number, weeks in enumerate(CONTACT_WEEKS, start=1):
        first, until = _window(number, start)
        done = sorted((v for v in visits if first <= v.date <= last
                       and (until is None or v.date <= until)),
                      key=lambda v: (v.date, v.reference))
        due = start + timedelta(weeks=weeks)
        if done:
            contacts.append(AntenatalContact(number, due, "done", done[0]))
        else:
            contacts.append(AntenatalContact(number, due, _status(due, last, end is not None)))
    return contacts


def next_contact(contacts: list[AntenatalContact], day: date) -> tuple[int, date] | None:
    """The number and date of the next contact: the first one due or upcoming, on its due
    date or ``day`` when that has passed."""
    for contact in contacts:
        if contact.status in ("due", "upcoming"):
            return contact.number, max(contact.due, day)
    return None
