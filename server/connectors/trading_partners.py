"""Who we are and who we send to on one connection, from its settings (CLEARINGHOUSES.md
section 5: ISA05/ISA06 and ISA07/ISA08 with their qualifiers, 837 1000A submitter name and
contact, 1000B receiver name, ISA15 / ``usageIndicator`` T or P)."""

from __future__ import annotations

from mappers.fhir_x12.interchange import TradingPartners
from server.settings import X12Settings

__all__ = ["partners_of"]


def partners_of(settings: X12Settings) -> TradingPartners:
    """The submitter and receiver of what we send: a connection's envelope, or the
    ``FACADE_X12__*`` defaults (``facade fhir to-x12``)."""
    return TradingPartners(
        sender_id=settings.sender_id, sender_name=settings.sender_name,
        receiver_id=settings.receiver_id, receiver_name=settings.receiver_name,
        contact_name=settings.contact_name, contact_phone=settings.contact_phone,
        sender_qualifier=settings.sender_qualifier,
        receiver_qualifier=settings.receiver_qualifier, usage=settings.usage)
