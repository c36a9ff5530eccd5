"""Expected-entry helpers shared by the index extraction tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from server.storage.index_entries import DateEntry, IndexEntry

EXAMPLES = (
    Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "fhir" / "examples"
)
ISO_4217 = "urn:iso:std:iso:4217"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def us(text: str) -> int:
    """Microseconds since the epoch of an ISO instant (an independent computation)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment - datetime.fromisoformat("1970-01-01T00:00:00+00:00")) // timedelta(
        microseconds=1
    )


def day(date: str) -> DateEntry:
    return DateEntry("", us(f"{date}T00:00:00Z"), us(f"{date}T00:00:00Z") + 86_400_000_000)


def dated(param: str, low: int, high: int) -> DateEntry:
    return DateEntry(param, low, high)


def of(param: str, entries: list[IndexEntry]) -> list[IndexEntry]:
    return [e for e in entries if e.param == param]


def days(param: str, start: str, end_inclusive: str) -> DateEntry:
    return DateEntry(param, day(start).low_us, day(end_inclusive).high_us)
