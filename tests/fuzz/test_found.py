"""Server errors the fuzz tier found, each as the smallest request that showed it."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .checks import assert_fhir_answer


@pytest.mark.parametrize("value", ["9999-12-31", "9999-12-31T23:00:00-05:00",
                                   "0001-01-01T00:00:00+05:30"])
async def test_search_by_a_date_at_the_end_of_the_calendar(client, value):
    """A date range ending after 9999-12-31 or starting before 0001-01-01 in UTC is
    clamped to the calendar's ends (it overflowed: 500)."""
    response = await client.get(f"Observation?date={quote(value)}")
    assert_fhir_answer(response)
    assert response.status_code == 200, response.text
