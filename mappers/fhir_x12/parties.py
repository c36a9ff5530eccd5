"""The party segments every outbound guide shares: NM1 names, N3/N4 addresses, DMG, PER.

Element sizes follow the 5010 guides (NM103 60, NM104 35, NM105 25, NM107 10, N301/N302 55,
N401 30, N403 15). Where a guide needs a value FHIR does not hold, a gap is recorded with the
FHIRPath of the missing element (``gaps.py``); nothing is invented. 837 billing provider and
service facility addresses need a 9-digit ZIP (X12.md 2.2): a 5-digit one is a gap there, never
padded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mappers.fhir_x12.fhir_values import first_address, human_name, phone, text, x12_date
from mappers.fhir_x12.gaps import Gaps
from mappers.x12.schema import code_set

__all__ = [
    "GENDER_CODES",
    "address_segments",
    "dmg",
    "organization_nm1",
    "person_nm1",
    "per_segment",
    "party_nm1",
]

Segment = list[str]

#: FHIR administrative gender -> DMG03 (1068): F, M, U.
GENDER_CODES = {"female": "F", "male": "M", "other": "U", "unknown": "U"}
_ZIP = re.compile(r"^(\d{5})-?(\d{4})?$")
_US = {"", "US", "USA", "UNITED STATES", "UNITED STATES OF AMERICA"}


def nm1(entity: str, kind: str, last: str, first: str = "", middle: str = "",
        suffix: str = "", qualifier: str = "", ident: str = "") -> Segment:
    """NM1 (X12 segment NM1): NM101 entity, NM102 1 person / 2 non-person, NM103-NM109
    (NM108 and NM109 together or not at all, syntax note P0809)."""
    ident = text(ident, 80)
    return ["NM1", entity, kind, text(last, 60), text(first, 35), text(middle, 25), "",
            text(suffix, 10), qualifier if ident else "", ident]


def person_nm1(entity: str, person: Mapping[str, Any] | None, path: str, gaps: Gaps,
               qualifier: str = "", ident: str = "") -> Segment:
    """NM1 for a Patient, Practitioner or RelatedPerson: the last name is required."""
    name = human_name(person)
    last = text(name.get("family"), 60) or text(name.get("text"), 60)
    gaps.need(last, f"{path}.name.family", "A last name is required (NM103)")
    return nm1(entity, "1", last, name.get("given", ""), name.get("middle", ""),
               name.get("suffix", ""), qualifier, ident)


def organization_nm1(entity: str, org: Mapping[str, Any] | None, path: str, gaps: Gaps,
                     qualifier: str = "", ident: str = "") -> Segment:
    """NM1 for an Organization (or Location): its name is required."""
    name = text((org or {}).get("name"), 60)
    gaps.need(name, f"{path}.name", "An organization name is required (NM103)")
    return nm1(entity, "2", name, qualifier=qualifier, ident=ident)


def party_nm1(entity: str, party: Mapping[str, Any] | None, path: str, gaps: Gaps,
              qualifier: str = "", ident: str = "") -> Segment:
    """NM1 for a person or an organization, by resource type."""
    if party is not None and party.get("resourceType") in ("Organization", "Location"):
        return organization_nm1(entity, party, path, gaps, qualifier, ident)
    return person_nm1(entity, party, path, gaps, qualifier, ident)


def address_segments(holder: Mapping[str, Any] | None, path: str, gaps: Gaps, *,
                     zip9: bool = False, required: bool = True) -> list[Segment]:
    """N3 and N4 from the holder's address (work/billing first). ``zip9`` demands ZIP+4
    (837 2010AA, 2310C/2310E); ``required`` makes a missing address a gap."""
    address = first_address(holder, "billing", "work", "home")
    if address is None:
        if required:
            gaps.add(f"{path}.address", "An address is required (N3/N4)")
        return []
    lines = [text(line, 55) for line in address.get("line") or [] if text(line)]
    city = text(address.get("city"), 30)
    state = text(address.get("state")).upper()
    postal = (address.get("postalCode") or "").strip()
    country = text(address.get("country"), 3).upper()
    us = country in _US
    gaps.need(lines, f"{path}.address.line", "An address line is required (N301)")
    gaps.need(city, f"{path}.address.city", "A city is required (N401)")
    if us:
        gaps.need(state, f"{path}.address.state", "A state code is required (N402)")
        if state and state not in (code_set("states") or ()):
            gaps.add(f"{path}.address.state", "Not a US state or territory code (N402)",
                     "invalid")
            state = ""
        match = _ZIP.match(postal)
        if match is None:
            gaps.add(f"{path}.address.postalCode", "A US ZIP code is required (N403)")
            postal = ""
        elif zip9 and not match.group(2):
            gaps.add(f"{path}.address.postalCode",
                     "This address needs a 9-digit ZIP+4 (N403, 5010)")
            postal = match.group(1)
        else:
            postal = match.group(1) + (match.group(2) or "")
    n3 = ["N3", *lines[:2]] if lines else ["N3", ""]
    n4 = ["N4", city, state if us else "", text(postal, 15), "" if us else country]
    return [n3, n4]


def dmg(person: Mapping[str, Any] | None, path: str, gaps: Gaps) -> Segment:
    """DMG*D8*birth date*gender (X12 segment DMG)."""
    born = x12_date((person or {}).get("birthDate"))
    gaps.need(born, f"{path}.birthDate", "A birth date is required (DMG02)")
    gender = GENDER_CODES.get((person or {}).get("gender", ""), "")
    gaps.need(gender, f"{path}.gender", "An administrative gender is required (DMG03)")
    return ["DMG", "D8", born, gender]


def per_segment(
    function: str, contact_name: str, holder: Mapping[str, Any] | None
) -> Segment | None:
    """PER with a telephone number, or None when the holder has no phone."""
    number = phone(holder)
    if not number:
        return None
    return ["PER", function, text(contact_name, 60), "TE", number[:256]]
