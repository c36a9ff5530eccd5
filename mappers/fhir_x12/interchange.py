"""Who outbound X12 is from and to, and the interchange the built transaction sets go into.

ISA06/GS02 are our sender id, ISA08/GS03 the receiver (clearinghouse or payer); 837 1000A
names the submitter (NM1*41 with its ETIN and a contact) and 1000B the receiver (NM1*40). One
interchange holds one functional group per guide (837P and 837I never share a GS: GS08 names
one guide), each set numbered by the caller's durable counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mappers.x12.writer import ControlNumbers, Envelope, Group, write_groups

__all__ = ["FUNCTIONAL_IDS", "TradingPartners", "interchange"]

#: GS01 and GS08 of each guide we write.
FUNCTIONAL_IDS = {
    "005010X222A1": "HC",
    "005010X223A2": "HC",
    "005010X279A1": "HS",
    "005010X212": "HR",
    "005010X217": "HI",
}


@dataclass(frozen=True)
class TradingPartners:
    """The submitter and receiver of outbound X12 (837 1000A/1000B, ISA06/ISA08)."""

    sender_id: str = "FACADE"
    sender_name: str = "FHIR FINANCIAL FACADE"
    receiver_id: str = "CLEARINGHOUSE"
    receiver_name: str = "CLEARINGHOUSE"
    contact_name: str = "BILLING OFFICE"
    contact_phone: str = "5555550100"
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage: str = "T"
    """ISA15: T test, P production."""


def interchange(
    sets: Sequence[tuple[str, list[list[str]]]],
    partners: TradingPartners,
    numbers: ControlNumbers,
    when: datetime | None = None,
) -> str:
    """One interchange: the (guide version, segments) sets grouped by guide, in first-seen order."""
    by_version: dict[str, list[list[list[str]]]] = {}
    for version, segments in sets:
        by_version.setdefault(version, []).append(segments)
    env = Envelope(
        sender_id=partners.sender_id, receiver_id=partners.receiver_id, functional_id="",
        version="", sender_qualifier=partners.sender_qualifier,
        receiver_qualifier=partners.receiver_qualifier, usage=partners.usage, when=when,
    )
    groups = [Group(FUNCTIONAL_IDS[v], v, members) for v, members in by_version.items()]
    return write_groups(groups, env, numbers)
