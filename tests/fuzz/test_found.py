"""Server errors the fuzz tier found in code this tier does not own, each as the smallest
request that shows it: strict xfails, so the fix makes them fail until the mark is taken
off (and the value left out of the strategies is put back)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .checks import assert_fhir_answer


@pytest.mark.xfail(strict=True, reason="lead: fhir_server/dates.py parse_date_range: a date "
                   "range ending after 9999-12-31 or starting before 0001-01-01 in UTC "
                   "overflows (OverflowError: 500)")
@pytest.mark.parametrize("value", ["9999-12-31", "9999-12-31T23:00:00-05:00",
                                   "0001-01-01T00:00:00+05:30"])
async def test_search_by_a_date_at_the_end_of_the_calendar(client, value):
    assert_fhir_answer(await client.get(f"Observation?date={quote(value)}"))
