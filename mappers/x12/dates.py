"""Regular expressions for X12 dates and times (X12.6 data element types DT and TM)."""

from __future__ import annotations

__all__ = ["DATE6", "DATE8", "TIME", "iso_date"]

_DAY_31 = r"(?:0[13578]|1[02])(?:0[1-9]|[12]\d|3[01])"
_DAY_30 = r"(?:0[469]|11)(?:0[1-9]|[12]\d|30)"
_DAY_FEB = r"02(?:0[1-9]|1\d|2[0-8])"
_LEAP = r"(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
# CCYYMMDD from 1800 on (earlier years are placeholders, not dates), Gregorian leap years.
DATE8 = (
    rf"(?:(?:1[89]|2\d)\d\d(?:{_DAY_31}|{_DAY_30}|{_DAY_FEB})|(?=1[89]|2){_LEAP}0229)"
)
DATE6 = rf"(?:\d\d(?:{_DAY_31}|{_DAY_30}|{_DAY_FEB}|0229))"
# HHMM[SS[d[d]]]
TIME = r"(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d\d{0,2})?"


def iso_date(value: str) -> str:
    """CCYYMMDD as YYYY-MM-DD (FHIR date); anything else unchanged."""
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 else value
