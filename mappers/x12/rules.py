"""Implementation-guide rules beyond X12 syntax, checked where payers enforce them.

- ``zip9``: 837P 2010AA/2310C and 837I 2010AA/2310E N403 must be a nine-digit ZIP (ZIP+4) for US
  addresses (TR3 005010X222A1 / X223A2, N403 notes).
- Date formats: DTP03 (and DMG02) must follow the format its qualifier DTP02 (DMG01) names
  (D8 CCYYMMDD, RD8 CCYYMMDD-CCYYMMDD, DT CCYYMMDDHHMM, ...) - X12 data element 1250.
- NPI check digit (CMS NPI standard, Luhn over "80840" + the first nine digits): reported as a
  warning, since the TR3 examples use placeholder NPIs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mappers.x12.dates import DATE8, TIME
from mappers.x12.errors import ElementError

__all__ = ["DATE_FORMAT_AT", "check_dtp", "check_zip9", "npi_is_valid"]

# Segments whose date value follows a format qualifier (1250) at this element: DTP02/DTP03,
# DMG01/DMG02.
DATE_FORMAT_AT = {"DTP": 2, "DMG": 1}

_D8 = DATE8
_FORMATS = {
    "D8": re.compile(_D8),
    "RD8": re.compile(f"({_D8})-({_D8})"),
    "DT": re.compile(_D8 + TIME),
    "D6": re.compile(r"\d{6}"),
    "TM": re.compile(TIME),
    "RDT": re.compile(f"{_D8}{TIME}-{_D8}{TIME}"),
    "DTS": re.compile(_D8 + TIME),
    "CY": re.compile(r"\d{4}"),
    "CM": re.compile(r"\d{6}"),
}
_ZIP9 = re.compile(r"\d{9}")


def check_dtp(parts: list[str], qualifier_at: int = 2) -> ElementError | None:
    """DTP02/DTP03 (or DTM05/DTM06 with ``qualifier_at=5``): the value fits its format."""
    if len(parts) <= qualifier_at + 1:
        return None
    fmt, value = parts[qualifier_at], parts[qualifier_at + 1]
    pattern = _FORMATS.get(fmt)
    if pattern is None or value == "":
        return None
    m = pattern.fullmatch(value)
    if m is None:
        return ElementError(qualifier_at + 1, "8", value=value[:99],
                            message=f"Date does not match format {fmt}")
    if fmt == "RD8" and m.group(1) > m.group(2):
        return ElementError(qualifier_at + 1, "8", value=value,
                            message="Date range ends before it starts")
    return None


def check_zip9(parts: list[str]) -> ElementError | None:
    """N403 is ZIP+4 when the address is in the US (no N404 country code, or US)."""
    country = parts[4] if len(parts) > 4 else ""
    if country not in ("", "US"):
        return None
    zip_code = parts[3] if len(parts) > 3 else ""
    if zip_code and not _ZIP9.fullmatch(zip_code):
        return ElementError(3, "I12", "N403", "116", value=zip_code,
                            message="ZIP code must have nine digits (ZIP+4) here")
    return None


@lru_cache(maxsize=8192)
def npi_is_valid(npi: str) -> bool:
    """Luhn check digit over the card-issuer prefix 80840 and the first nine digits."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 24  # the constant contribution of the 80840 prefix
    for i, ch in enumerate(reversed(npi[:9])):
        digit = int(ch)
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])
