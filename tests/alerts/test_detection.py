"""The pure parts of community alerts: windows, areas, thresholds and suppression
(hand-computed figures)."""

from __future__ import annotations

import math
from datetime import date

from fhir_server.alerts import Area, AreaCount, Scan, Windows, area_of, assess

TODAY = date(2026, 12, 7)


def test_windows_are_whole_days_ending_with_the_last_day():
    windows = Windows(TODAY, days=14, baseline=4)
    assert windows.start == date(2026, 11, 24) and windows.earliest == date(2026, 9, 29)
    assert [windows.index(d) for d in (date(2026, 12, 7), date(2026, 11, 24),
                                       date(2026, 11, 23), date(2026, 9, 29),
                                       date(2026, 9, 28), date(2026, 12, 8))] == [
        0, 0, 1, 4, None, None]


def test_the_area_is_the_current_home_district_else_a_postal_code():
    patient = {"address": [
        {"use": "old", "district": "Old Town"},
        {"use": "work", "district": "Office District"},
        {"use": "home", "postalCode": "302001"},
        {"use": "home", "district": "Jaipur  ", "period": {"end": "2026-12-31"}},
        {"use": "home", "district": "Ended", "period": {"end": "2026-01-01"}}]}
    assert area_of(patient, TODAY) == Area("district", "Jaipur")
    assert area_of({"address": [{"postalCode": " 302 001 "}]}, TODAY) == Area(
        "postalCode", "302 001")
    assert area_of({"address": [{"city": "Jaipur"}]}, TODAY) is None
    assert area_of({}, TODAY) is None
    assert Area("district", "JAIPUR").key == Area("district", " jaipur").key


def test_threshold_alert_and_suppression():
    scan = Scan(baseline=4, deviations=2, minimum_cell=5)
    jaipur, kota = Area("district", "Jaipur"), Area("district", "Kota")
    found = assess({jaipur.key: [8, 1, 0, 0, 0], kota.key: [4, 0, 0, 0, 0],
                    ("district", "none"): [0, 3, 3, 3, 3]},
                   {jaipur.key: jaipur, kota.key: kota,
                    ("district", "none"): Area("district", "None")}, scan)
    assert [a.area for a in found] == [jaipur, kota]  # areas with a current case only
    outbreak, small = found
    # mean 0.25, sd sqrt(0.1875) = 0.433 < sqrt(0.25) = 0.5: threshold 0.25 + 2 * 0.5
    assert math.isclose(outbreak.threshold, 1.25) and outbreak.alerts
    assert not outbreak.baseline_shown  # one case before: not shown
    assert small.suppressed and small.shown_count == "<5" and not small.alerts
    steady = AreaCount(jaipur, 9, (6, 6, 5, 7), 5, 2.0)
    # mean 6, sd sqrt(0.5) = 0.707 < sqrt(6) = 2.449: threshold 10.899
    assert math.isclose(steady.threshold, 6 + 2 * math.sqrt(6)) and not steady.alerts
    assert AreaCount(jaipur, 11, (6, 6, 5, 7), 5, 2.0).alerts
    assert not AreaCount(jaipur, 5, (0, 0, 0, 0), 6, 2.0).alerts  # below a raised minimum
