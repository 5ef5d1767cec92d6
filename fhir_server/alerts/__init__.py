"""Community health alerts: counting recent cases by area, comparing them with a
baseline, and raising one ``DetectedIssue`` per area and window (docs/community-alerts.md)."""

from .areas import Area, area_of
from .detection import AreaCount, Scan, assess
from .scan import ScanRequest, ScanResult, run_scan
from .windows import Windows

__all__ = ["Area", "area_of", "AreaCount", "Scan", "assess", "ScanRequest", "ScanResult",
           "run_scan", "Windows"]
