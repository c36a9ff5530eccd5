"""What the sandbox clearinghouse knows about a claim, independent of how it arrived (an 837
over SFTP, or CHC professional-claims JSON over REST), and what it decided about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "ClaimDecision",
    "FrontEndResult",
    "LineDecision",
    "ReceivedClaim",
    "ReceivedLine",
    "ResponseFile",
    "Submitter",
]


@dataclass(frozen=True, slots=True)
class Submitter:
    """A trading partner account: SFTP user / REST client. ``sender_id`` is the ISA06 it must
    use, ``usage`` the ISA15 its account is for (a mismatch is a TA1 with TA105 020)."""

    username: str
    sender_id: str
    usage: str = "T"


@dataclass(frozen=True, slots=True)
class ReceivedLine:
    number: int
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    service_date: str
    """YYYYMMDD."""
    control_number: str = ""
    """REF*6R / providerControlNumber: comes back in the 835 REF*6R."""


@dataclass(frozen=True, slots=True)
class ReceivedClaim:
    pcn: str
    """CLM01 / patientControlNumber."""
    charge: Decimal
    payer_id: str
    payer_name: str
    member_id: str
    subscriber_last: str
    subscriber_first: str
    patient_last: str
    patient_first: str
    billing_npi: str
    billing_name: str
    billing_tin: str
    billing_zip: str
    place_of_service: str
    frequency: str
    lines: tuple[ReceivedLine, ...]
    diagnoses: tuple[str, ...] = ()
    # Where it came from, for acknowledgments (X12.md section 2.3).
    isa13: str = ""
    gs06: str = ""
    st02: str = ""
    bht03: str = ""
    sender_id: str = ""


@dataclass(frozen=True, slots=True)
class FrontEndResult:
    """The clearinghouse front end's verdict (277CA STC): ``A1``/``A2`` accepted, ``A3``/``A6``/
    ``A7`` rejected with ``status_code`` (claim status code) and ``entity`` (entity identifier)."""

    claim: ReceivedClaim
    accepted: bool
    category: str
    status_code: str
    entity: str = ""
    message: str = ""
    trace: str = ""
    """Clearinghouse trace number (277CA 2200D REF*D9)."""


@dataclass(frozen=True, slots=True)
class LineDecision:
    line: ReceivedLine
    allowed: Decimal
    paid: Decimal
    adjustments: tuple[tuple[str, str, Decimal], ...]
    """(group CO|OA|PI|PR, CARC, amount); charge = paid + sum(adjustments)."""
    remarks: tuple[str, ...] = ()
    """RARC codes (LQ*HE)."""


@dataclass(frozen=True, slots=True)
class ClaimDecision:
    claim: ReceivedClaim
    status: str
    """CLP02: 1 processed as primary, 4 denied."""
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    lines: tuple[LineDecision, ...]
    claim_adjustments: tuple[tuple[str, str, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class ResponseFile:
    """A file the clearinghouse returns: ``kind`` TA1|999|277CA|835|271|277, X12 text."""

    kind: str
    content: str
    name: str = ""
    meta: dict[str, str] = field(default_factory=dict)
