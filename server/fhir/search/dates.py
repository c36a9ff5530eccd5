"""FHIR date, dateTime and instant values as half-open microsecond ranges (R4 search.html#date).

A value denotes the whole interval its precision implies: ``2026`` is the year,
``2026-11-22T10:00`` the minute, ``...:05.250`` the millisecond. Values without a time zone are
taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["DateRange", "parse_date_range"]

_DATE_RE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DateRange = tuple[int, int]


def _us(dt: datetime) -> int:
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _add_months(dt: datetime, months: int) -> datetime:
    total = dt.month - 1 + months
    return dt.replace(year=dt.year + total // 12, month=total % 12 + 1)


def parse_date_range(text: str) -> DateRange:
    """[low, high) in microseconds since the epoch; ``ValueError`` when ``text`` is no date."""
    try:
        return _parse(text)
    except OverflowError:
        if text.startswith("9999"):
            return _parse("9998" + text[4:])[0] + _YEAR_US, DATE_CEILING_US
        raise ValueError(text) from None


_YEAR_US = 365 * 86_400 * 1_000_000
#: The end of year 9999 (no range extends past it).
DATE_CEILING_US = 253_402_300_800_000_000


def _parse(text: str) -> DateRange:
    match = _DATE_RE.match(text)
    if match is None:
        raise ValueError(text)
    g = match.groupdict()
    tz = timezone.utc
    if g["tz"] and g["tz"] != "Z":
        sign = 1 if g["tz"][0] == "+" else -1
        hours, minutes = int(g["tz"][1:3]), int(g["tz"][4:6])
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    fraction = g["f"] or ""
    start = datetime(
        int(g["y"]),
        int(g["m"] or 1),
        int(g["d"] or 1),
        int(g["H"] or 0),
        int(g["M"] or 0),
        int(g["S"] or 0),
        int((fraction + "000000")[:6]),
        tzinfo=tz,
    )
    try:
        if g["m"] is None:
            end = start.replace(year=start.year + 1)
        elif g["d"] is None:
            end = _add_months(start, 1)
        elif g["H"] is None:
            end = start + timedelta(days=1)
        elif g["S"] is None:
            end = start + timedelta(minutes=1)
        elif not fraction:
            end = start + timedelta(seconds=1)
        else:
            step_us = 10 ** max(0, 6 - len(fraction))
            end = start + timedelta(microseconds=step_us)
    except (OverflowError, ValueError):
        # The interval ends after 9999-12-31 (`9999`, `9999-12`): datetime cannot hold its end.
        return _us(start), DATE_CEILING_US
    return _us(start), _us(end)
