"""The clearinghouse port: what the claim pipeline asks of any connection (DESIGN.md law 7).

A connector turns FHIR in (Claim and CoverageEligibilityRequest Bundles: the resource and
everything it references) into what its vendor takes (an 837 interchange in a file, or CHC JSON),
and hands back what the vendor answers as :class:`Inbound` documents: X12 text (TA1, 999,
277CA, 835, 271, 277) for the mappers in ``mappers/fhir_x12``, or FHIR resources a vendor-JSON
mapper in ``mappers/vendor`` already built.

Sending a claim is split in two so that it is never blindly retried (CLEARINGHOUSES.md
section 6): :meth:`ClaimConnector.prepare` builds the exact payload and its references (file
name, ISA13/GS06/ST02, idempotency key), which the pipeline stores durably; only then does
:meth:`ClaimConnector.send` deliver it. When a send ends with its outcome unknown (a timeout, a
dropped connection after the upload began), the pipeline asks :meth:`ClaimConnector.delivered`
and waits for acknowledgments or claim status before it sends the same prepared payload again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mappers.x12.writer import ControlNumbers
from server.errors import (
    ConnectorDownError,
    ConnectorError,
    ConnectorRejectedError,
    DeliveryUnknownError,
)

__all__ = [
    "ClaimConnector",
    "ConnectorDownError",
    "ConnectorError",
    "ConnectorRejectedError",
    "DeliveryUnknownError",
    "Inbound",
    "Prepared",
]

Resource = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """What one send delivers, recorded before the send (so a resend is byte-identical).

    ``reference`` is the remote file name (SFTP) or the idempotency key / correlation id (JSON).
    ``control_number`` is ISA13 of the interchange ('' for JSON). ``documents`` hold the payload:
    one X12 interchange for SFTP, one JSON body per claim for CHC/Stedi, in ``pcns`` order.
    ``sets`` maps each patient control number (CLM01) to ``(GS06, ST02)`` of the set carrying it,
    for 999 correlation (X12.md section 2.3)."""

    connector: str
    reference: str
    control_number: str
    documents: tuple[bytes, ...]
    pcns: tuple[str, ...]
    sets: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One document a clearinghouse returned. Exactly one of ``x12`` / ``resources`` is set.

    ``name`` is unique per connector (remote file name, mailbox report name, or a synthetic name
    for a synchronous answer) and is the key of the seen-file ledger; ``settle`` it after the
    pipeline stored what it says."""

    connector: str
    name: str
    x12: str | None = None
    resources: Sequence[Resource] | None = None
    received: datetime | None = None


class ClaimConnector(Protocol):
    """One configured clearinghouse connection (``server/connectors/registry.py`` builds them)."""

    name: str
    kind: str
    """``sftp``, ``chc`` or ``stedi``."""

    def prepare(self, claims: Sequence[Mapping[str, Any]], numbers: ControlNumbers,
                when: datetime | None = None) -> Prepared:
        """Build the payload for ``claims`` (each a Bundle: Claim first, then what it references).
        Pure (no I/O). Raises ``MappingGapError`` listing every gap of every claim."""
        ...

    async def send(self, prepared: Prepared) -> list[Inbound]:
        """Deliver ``prepared``. Returns any synchronous answers (e.g. a JSON claim response
        mapped to a ClaimResponse, or Stedi's 277CA ``x12``). Raises ConnectorDownError (not
        delivered), DeliveryUnknownError (maybe delivered) or ConnectorRejectedError."""
        ...

    async def delivered(self, prepared: Prepared) -> bool | None:
        """After an unknown outcome: True when the vendor has it (the file is in the inbound
        folder, the idempotency key or correlation id is known), False when it surely does not,
        None when this connector cannot tell (wait for acknowledgments / claim status)."""
        ...

    async def poll(self) -> list[Inbound]:
        """Documents waiting in the outbound folder or the reports mailbox (not yet settled)."""
        ...

    async def settle(self, document: Inbound) -> None:
        """Delete or archive a polled document remotely; called only after it was stored."""
        ...

    async def eligibility(self, request: Mapping[str, Any], numbers: ControlNumbers) -> Inbound:
        """Real-time eligibility (270/271 or CHC eligibility v3) for a CoverageEligibilityRequest
        Bundle. The answer maps to a CoverageEligibilityResponse."""
        ...

    async def claim_status(self, claim: Mapping[str, Any], numbers: ControlNumbers) -> Inbound:
        """Real-time claim status (276/277 or CHC claim status v2) for a Claim Bundle. The answer
        maps to ClaimResponse resources (x277_to_fhir or the vendor mapper)."""
        ...

    async def close(self) -> None: ...
