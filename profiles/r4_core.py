"""FHIR R4 (4.0.1) core facts the R4B models do not carry, as data.

The validator (``server/fhir/validation.py``) enforces required code bindings
(R4 ``terminologies.html#required``: "the concept SHALL be from the specified value set").
The ``fhir.resources`` R4B models list some required codes in their field metadata
(``enum_values``), but they never enforce them, some lists are truncated by the generator
(``Encounter.status`` ends in ``"+"``), one is an extensible binding mislabelled as required
(``Expression.language``), and a few bindings are missing altogether (``Money.currency``,
``Quantity.comparator``, ``Attachment.contentType``). This module is the authoritative R4 list
for the bindings the server must check (reference/STANDARDS.md section 2); rows here override
the models' ``enum_values`` for the same element. A few other R4 facts the models get wrong
follow the bindings (``SIMPLE_QUANTITY_ELEMENTS``, ``R4B_MISSING_PRIMITIVE_EXTENSIONS``).

Element paths are written as in the R4 spec (``Patient.contact.gender``). A data-type row
(``Money.currency``) applies wherever that data type, or a specialisation of it (``Age`` and
``Duration`` for ``Quantity``), is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "RequiredBinding",
    "ISO_4217_CURRENCIES",
    "REQUIRED_BINDINGS",
    "MIME_TYPE_PATTERN",
    "R4B_ENUMS_NOT_REQUIRED_IN_R4",
    "R4B_MISSING_PRIMITIVE_EXTENSIONS",
    "SIMPLE_QUANTITY_ELEMENTS",
]

_VS: Final = "http://hl7.org/fhir/ValueSet/"


@dataclass(frozen=True, slots=True)
class RequiredBinding:
    """One required binding: the elements bound, the value set, and its codes.

    ``codes`` is ``None`` when the value set is defined by a grammar rather than a list
    (``mimetypes``: any BCP 13 media type, checked with :data:`MIME_TYPE_PATTERN`).
    """

    elements: tuple[str, ...]
    value_set: str
    codes: frozenset[str] | None


ISO_4217_CURRENCIES: Final[frozenset[str]] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL
    """.split()
)
"""ISO 4217 alphabetic currency codes: the value set http://hl7.org/fhir/ValueSet/currencies
(required binding of ``Money.currency``, system ``urn:iso:std:iso:4217``).

The ISO 4217 list one codes (snapshot of Debian ``iso-codes`` 4.15) plus ZWG (2024) and XCG
(2025). Codes withdrawn after R4 was published (HRK 2023, and the superseded ANG, CUC, SLL,
ZWL) are kept so that claims and remittances written while they were current stay valid.
"""

_FM_STATUS: Final = frozenset({"active", "cancelled", "draft", "entered-in-error"})
_PURPOSES: Final = frozenset({"auth-requirements", "benefits", "discovery", "validation"})
_GENDER: Final = frozenset({"male", "female", "other", "unknown"})
_ENCOUNTER_STATUS: Final = frozenset(
    {
        "planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
        "entered-in-error", "unknown",
    }
)  # fmt: skip
_ISSUE_TYPE: Final = frozenset(
    {
        "invalid", "structure", "required", "value", "invariant", "security", "login",
        "unknown", "expired", "forbidden", "suppressed", "processing", "not-supported",
        "duplicate", "multiple-matches", "not-found", "deleted", "too-long", "code-invalid",
        "extension", "too-costly", "business-rule", "conflict", "transient", "lock-error",
        "no-store", "exception", "timeout", "incomplete", "throttled", "informational",
    }
)  # fmt: skip

REQUIRED_BINDINGS: Final[tuple[RequiredBinding, ...]] = (
    # --- the financial resources' own elements (STANDARDS.md section 2, first table) ---
    RequiredBinding(
        (
            "Claim.status",
            "ClaimResponse.status",
            "Coverage.status",
            "CoverageEligibilityRequest.status",
            "CoverageEligibilityResponse.status",
            "PaymentNotice.status",
            "PaymentReconciliation.status",
        ),
        _VS + "fm-status",
        _FM_STATUS,
    ),
    RequiredBinding(
        ("ExplanationOfBenefit.status",), _VS + "explanationofbenefit-status", _FM_STATUS
    ),
    RequiredBinding(
        ("Claim.use", "ClaimResponse.use", "ExplanationOfBenefit.use"),
        _VS + "claim-use",
        frozenset({"claim", "preauthorization", "predetermination"}),
    ),
    RequiredBinding(
        (
            "ClaimResponse.outcome",
            "ExplanationOfBenefit.outcome",
            "CoverageEligibilityResponse.outcome",
            "PaymentReconciliation.outcome",
        ),
        _VS + "remittance-outcome",
        frozenset({"queued", "complete", "error", "partial"}),
    ),
    RequiredBinding(
        ("CoverageEligibilityRequest.purpose",), _VS + "eligibilityrequest-purpose", _PURPOSES
    ),
    RequiredBinding(
        ("CoverageEligibilityResponse.purpose",), _VS + "eligibilityresponse-purpose", _PURPOSES
    ),
    RequiredBinding(
        (
            "ClaimResponse.processNote.type",
            "ExplanationOfBenefit.processNote.type",
            "PaymentReconciliation.processNote.type",
        ),
        _VS + "note-type",
        frozenset({"display", "print", "printoper"}),
    ),
    # --- data types and the resources travelling with them (second table) ---
    RequiredBinding(("Money.currency",), _VS + "currencies", ISO_4217_CURRENCIES),
    RequiredBinding(
        ("Identifier.use",),
        _VS + "identifier-use",
        frozenset({"usual", "official", "temp", "secondary", "old"}),
    ),
    RequiredBinding(
        ("HumanName.use",),
        _VS + "name-use",
        frozenset({"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"}),
    ),
    RequiredBinding(
        ("ContactPoint.system",),
        _VS + "contact-point-system",
        frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"}),
    ),
    RequiredBinding(
        ("ContactPoint.use",),
        _VS + "contact-point-use",
        frozenset({"home", "work", "temp", "old", "mobile"}),
    ),
    RequiredBinding(
        ("Address.use",),
        _VS + "address-use",
        frozenset({"home", "work", "temp", "old", "billing"}),
    ),
    RequiredBinding(
        ("Address.type",), _VS + "address-type", frozenset({"postal", "physical", "both"})
    ),
    RequiredBinding(
        ("Narrative.status",),
        _VS + "narrative-status",
        frozenset({"generated", "extensions", "additional", "empty"}),
    ),
    RequiredBinding(
        ("Quantity.comparator",), _VS + "quantity-comparator", frozenset({"<", "<=", ">=", ">"})
    ),
    RequiredBinding(("Attachment.contentType",), _VS + "mimetypes", None),
    RequiredBinding(
        (
            "Patient.gender",
            "Patient.contact.gender",
            "Practitioner.gender",
            "RelatedPerson.gender",
        ),
        _VS + "administrative-gender",
        _GENDER,
    ),
    RequiredBinding(
        ("Patient.link.type",),
        _VS + "link-type",
        frozenset({"replaced-by", "replaces", "refer", "seealso"}),
    ),
    RequiredBinding(
        ("Encounter.status", "Encounter.statusHistory.status"),
        _VS + "encounter-status",
        _ENCOUNTER_STATUS,
    ),
    RequiredBinding(
        ("Encounter.location.status",),
        _VS + "encounter-location-status",
        frozenset({"planned", "active", "reserved", "completed"}),
    ),
    RequiredBinding(
        ("Bundle.type",),
        _VS + "bundle-type",
        frozenset(
            {
                "document",
                "message",
                "transaction",
                "transaction-response",
                "batch",
                "batch-response",
                "history",
                "searchset",
                "collection",
            }
        ),
    ),
    # --- beyond STANDARDS.md: an input type whose R4B model lacks the list ---
    RequiredBinding(("OperationOutcome.issue.code",), _VS + "issue-type", _ISSUE_TYPE),
)
"""The required bindings checked on input (reference/STANDARDS.md section 2)."""

MIME_TYPE_PATTERN: Final = (
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
    r"""(\s*;\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+=("[^"\\]*(\\.[^"\\]*)*"|[A-Za-z0-9!#$%&'*+.^_`|~-]+))*"""
)
"""A BCP 13 media type (RFC 6838 names, RFC 9110 parameters): the ``mimetypes`` value set."""

R4B_ENUMS_NOT_REQUIRED_IN_R4: Final[frozenset[str]] = frozenset({"Expression.language"})
"""Elements whose R4B model lists ``enum_values`` although the R4 binding is not required."""

SIMPLE_QUANTITY_ELEMENTS: Final[frozenset[str]] = frozenset(
    {
        "Claim.item.quantity", "Claim.item.detail.quantity",
        "Claim.item.detail.subDetail.quantity",
        "ClaimResponse.addItem.quantity", "ClaimResponse.addItem.detail.quantity",
        "ClaimResponse.addItem.detail.subDetail.quantity",
        "ExplanationOfBenefit.item.quantity", "ExplanationOfBenefit.item.detail.quantity",
        "ExplanationOfBenefit.item.detail.subDetail.quantity",
        "ExplanationOfBenefit.addItem.quantity",
        "ExplanationOfBenefit.addItem.detail.quantity",
        "ExplanationOfBenefit.addItem.detail.subDetail.quantity",
        "Coverage.costToBeneficiary.valueQuantity",
    }
)  # fmt: skip
"""Elements typed ``SimpleQuantity`` in R4 (the R4B models type them ``Quantity``); a
SimpleQuantity has no ``comparator`` (invariant sqty-1, R4 datatypes.html#SimpleQuantity)."""

R4B_MISSING_PRIMITIVE_EXTENSIONS: Final[frozenset[str]] = frozenset({"Extension.value[x]"})
"""Primitive elements that may carry an ``_element`` sibling in R4 although their R4B model has
no ``__ext`` field for it. R4 ``json.html#primitive`` gives every element of a primitive type
its ``_element`` sibling, and ``Extension.value[x]`` of a primitive type is such an element
(``"valueString": "Hello", "_valueString": {"extension": [translation]}``); the R4B
``Extension`` model rejects that sibling as an unknown field. The other primitives without a
sibling in the models (``Resource.id``, ``Element.id``, ``Extension.url``, typed with FHIRPath
System types in the R4 definitions) keep having none."""
