"""The linked synthetic data set of ``bench/search.py``: Patients, Coverages, insurer and provider
Organizations, Practitioners, Claims and ExplanationOfBenefits with known references between
them, valid against the facade's strict R4 validation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from claims import bench_claim

#: Service dates are spread over [FIRST_DAY, FIRST_DAY + SPAN_DAYS); a search window is a year.
FIRST_DAY: Final = date(2023, 1, 1)
SPAN_DAYS: Final = 730
WINDOW_DAYS: Final = 365

_CLAIM_TYPE: Final = "http://terminology.hl7.org/CodeSystem/claim-type"
_ADJUDICATION: Final = "http://terminology.hl7.org/CodeSystem/adjudication"
_ORG_TYPE: Final = "http://terminology.hl7.org/CodeSystem/organization-type"
_NPI: Final = "http://hl7.org/fhir/sid/us-npi"
PCN_SYSTEM: Final = "urn:bench:pcn"
_CITIES: Final = (
    "Aspen", "Bayview", "Cedar", "Delta", "Evergreen",
    "Fairmont", "Granite", "Harbor", "Ironwood", "Juniper",
)  # fmt: skip
_PLAN_KINDS: Final = ("Health Plan", "Mutual", "Assurance", "Benefit Trust", "Care Alliance")
_FAMILY: Final = ("Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Kim", "Brown", "Lopez")
_GIVEN: Final = ("Ana", "James", "Mei", "Omar", "Priya", "Lucas", "Grace", "Tariq", "Elena")


# --- the data set ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sizes:
    patients: int
    coverages: int
    insurers: int
    providers: int
    practitioners: int
    claims: int
    eobs: int

    @property
    def total(self) -> int:
        return sum(asdict(self).values())


FULL: Final = Sizes(10_000, 12_000, 50, 200, 1_000, 100_000, 100_000)
QUICK: Final = Sizes(1_000, 1_200, 50, 20, 100, 10_000, 10_000)


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return {"coding": [coding]}


def _usd(value: Decimal) -> dict[str, Any]:
    return {"value": value, "currency": "USD"}


def _ref(type_: str, id_: str) -> dict[str, str]:
    return {"reference": f"{type_}/{id_}"}


class DataSet:
    """Ids, links and resources of the data set; everything derives from the index ``n``.

    Claim and EOB ``n`` belong to patient ``n % patients`` (its visit ``n // patients``); the
    visits of a patient are ``SPAN_DAYS / visits`` days apart, so every 365-day window holds
    the same number of them (5 for 10 visits).
    """

    def __init__(self, sizes: Sizes) -> None:
        if len(_CITIES) * len(_PLAN_KINDS) < sizes.insurers:
            raise ValueError("not enough distinct insurer names")
        self.sizes = sizes
        self.visits = max(1, -(-sizes.claims // sizes.patients))
        self.step = max(1, SPAN_DAYS // self.visits)

    # ids -----------------------------------------------------------------------------------

    @staticmethod
    def patient_id(n: int) -> str:
        return f"pat-{n:06d}"

    @staticmethod
    def coverage_id(n: int) -> str:
        return f"cov-{n:06d}"

    @staticmethod
    def insurer_id(n: int) -> str:
        return f"ins-{n:02d}"

    @staticmethod
    def provider_id(n: int) -> str:
        return f"org-{n:04d}"

    @staticmethod
    def practitioner_id(n: int) -> str:
        return f"prac-{n:05d}"

    @staticmethod
    def claim_id(n: int) -> str:
        return f"claim-{n:06d}"

    @staticmethod
    def eob_id(n: int) -> str:
        return f"eob-{n:06d}"

    @staticmethod
    def pcn(n: int) -> str:
        return f"PCN-{n:07d}"

    @staticmethod
    def insurer_name(n: int) -> str:
        return f"{_CITIES[n % len(_CITIES)]} {_PLAN_KINDS[n // len(_CITIES)]}"

    # links ---------------------------------------------------------------------------------

    def coverage_insurer(self, c: int) -> int:
        return (c + (c // self.sizes.patients) * 17) % self.sizes.insurers

    def patient_coverages(self, p: int) -> list[int]:
        return list(range(p, self.sizes.coverages, self.sizes.patients))

    def visit(self, n: int) -> tuple[int, int]:
        """(patient, visit number) of Claim/EOB ``n``."""
        return n % self.sizes.patients, n // self.sizes.patients

    def service_day(self, n: int) -> int:
        p, k = self.visit(n)
        return (k * self.step + p % self.step) % SPAN_DAYS

    def service_date(self, n: int) -> date:
        return FIRST_DAY + timedelta(days=self.service_day(n))

    def claim_coverage(self, n: int) -> int:
        p, k = self.visit(n)
        covers = self.patient_coverages(p)
        return covers[k % len(covers)]

    def eobs_of(self, p: int) -> list[int]:
        return list(range(p, self.sizes.eobs, self.sizes.patients))

    # resources -----------------------------------------------------------------------------

    def insurer(self, n: int) -> dict[str, Any]:
        return {
            "resourceType": "Organization",
            "id": self.insurer_id(n),
            "identifier": [{"system": "urn:bench:payer-id", "value": f"PAYER{n:05d}"}],
            "active": True,
            "type": [_concept(_ORG_TYPE, "pay", "Payer")],
            "name": self.insurer_name(n),
            "telecom": [{"system": "phone", "value": f"800-555-{n:04d}", "use": "work"}],
            "address": [{"line": [f"{100 + n} Market St"], "city": "Hartford", "state": "CT"}],
        }

    def provider(self, n: int) -> dict[str, Any]:
        return {
            "resourceType": "Organization",
            "id": self.provider_id(n),
            "identifier": [{"system": _NPI, "value": f"{1_200_000_000 + n}"}],
            "active": True,
            "type": [_concept(_ORG_TYPE, "prov", "Healthcare Provider")],
            "name": f"Riverside Medical Group {n:04d}",
            "address": [{"line": [f"{n} Clinic Way"], "city": "Springfield", "state": "IL"}],
        }

    def practitioner(self, n: int) -> dict[str, Any]:
        return {
            "resourceType": "Practitioner",
            "id": self.practitioner_id(n),
            "identifier": [{"system": _NPI, "value": f"{1_700_000_000 + n}"}],
            "active": True,
            "name": [{"family": _FAMILY[n % len(_FAMILY)], "given": [_GIVEN[n % len(_GIVEN)]]}],
        }

    def patient(self, n: int) -> dict[str, Any]:
        birth = date(1940, 1, 1) + timedelta(days=(n * 37) % 29_000)
        return {
            "resourceType": "Patient",
            "id": self.patient_id(n),
            "identifier": [{"use": "usual", "system": "urn:bench:mrn", "value": f"MRN-{n:07d}"}],
            "active": True,
            "name": [
                {
                    "use": "official",
                    "family": _FAMILY[n % len(_FAMILY)],
                    "given": [_GIVEN[(n // 8) % len(_GIVEN)]],
                }
            ],
            "gender": ("female", "male")[n % 2],
            "birthDate": birth.isoformat(),
            "address": [{"use": "home", "line": [f"{n % 900 + 1} Oak Ave"], "city": "Peoria"}],
        }

    def coverage(self, n: int) -> dict[str, Any]:
        p = n % self.sizes.patients
        insurer = self.coverage_insurer(n)
        return {
            "resourceType": "Coverage",
            "id": self.coverage_id(n),
            "identifier": [{"system": "urn:bench:member-id", "value": f"MEM-{n:08d}"}],
            "status": "active",
            "type": _concept(
                "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "HIP",
                "health insurance plan policy",
            ),
            "subscriber": _ref("Patient", self.patient_id(p)),
            "subscriberId": f"SUB-{n:08d}",
            "beneficiary": _ref("Patient", self.patient_id(p)),
            "relationship": _concept(
                "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self"
            ),
            "period": {"start": "2022-01-01", "end": "2025-12-31"},
            "payor": [_ref("Organization", self.insurer_id(insurer))],
            "class": [
                {
                    "type": _concept(
                        "http://terminology.hl7.org/CodeSystem/coverage-class", "group"
                    ),
                    "value": f"GRP-{insurer:02d}-{n % 40:02d}",
                    "name": f"{self.insurer_name(insurer)} group {n % 40}",
                }
            ],
        }

    def claim(self, n: int) -> dict[str, Any]:
        """``bench/claims.py``'s ~2 KB professional Claim, linked into this data set."""
        p, _ = self.visit(n)
        served = self.service_date(n).isoformat()
        coverage = self.claim_coverage(n)
        resource = bench_claim(n)
        resource["id"] = self.claim_id(n)
        resource["identifier"] = [{"system": PCN_SYSTEM, "value": self.pcn(n)}]
        resource["patient"] = _ref("Patient", self.patient_id(p))
        resource["billablePeriod"] = {"start": served, "end": served}
        resource["created"] = f"{self.service_date(n) + timedelta(days=2)}T10:00:00Z"
        resource["insurer"] = _ref("Organization", self.insurer_id(self.coverage_insurer(coverage)))
        resource["provider"] = _ref("Organization", self.provider_id(n % self.sizes.providers))
        resource["careTeam"][0]["provider"] = _ref(
            "Practitioner", self.practitioner_id(n % self.sizes.practitioners)
        )
        resource["insurance"] = [
            {"sequence": 1, "focal": True, "coverage": _ref("Coverage", self.coverage_id(coverage))}
        ]
        for item in resource["item"]:
            item["servicedDate"] = served
        return resource

    def eob(self, n: int) -> dict[str, Any]:
        """The adjudication of Claim ``n``: eligible 80 % of submitted, all of it paid."""
        claim = self.claim(n)
        items: list[dict[str, Any]] = []
        submitted = benefit = Decimal("0.00")
        for item in claim["item"]:
            net: Decimal = item["net"]["value"]
            eligible = (net * Decimal("0.8")).quantize(Decimal("0.01"))
            submitted += net
            benefit += eligible
            items.append(
                {
                    **item,
                    "adjudication": [
                        {"category": _concept(_ADJUDICATION, "submitted"), "amount": _usd(net)},
                        {"category": _concept(_ADJUDICATION, "eligible"), "amount": _usd(eligible)},
                        {"category": _concept(_ADJUDICATION, "benefit"), "amount": _usd(eligible)},
                    ],
                }
            )
        decided = self.service_date(n) + timedelta(days=20)
        return {
            "resourceType": "ExplanationOfBenefit",
            "id": self.eob_id(n),
            "identifier": [{"system": "urn:bench:eob", "value": f"EOB-{n:07d}"}],
            "status": "active",
            "type": _concept(_CLAIM_TYPE, "professional"),
            "use": "claim",
            "patient": claim["patient"],
            "billablePeriod": claim["billablePeriod"],
            "created": f"{decided}T09:30:00Z",
            "insurer": claim["insurer"],
            "provider": claim["provider"],
            "claim": _ref("Claim", self.claim_id(n)),
            "outcome": "complete",
            "disposition": "Claim settled as per contract.",
            "careTeam": claim["careTeam"],
            "diagnosis": claim["diagnosis"],
            "insurance": [{"focal": True, "coverage": claim["insurance"][0]["coverage"]}],
            "item": items,
            "total": [
                {"category": _concept(_ADJUDICATION, "submitted"), "amount": _usd(submitted)},
                {"category": _concept(_ADJUDICATION, "benefit"), "amount": _usd(benefit)},
            ],
            "payment": {
                "type": _concept(
                    "http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete"
                ),
                "date": decided.isoformat(),
                "amount": _usd(benefit),
            },
        }


@dataclass(frozen=True, slots=True)
class Kind:
    """One load phase: ``count`` resources built by ``build(n)``."""

    label: str
    resource_type: str
    count: int
    build: Callable[[int], dict[str, Any]]


def kinds(data: DataSet) -> list[Kind]:
    s = data.sizes
    return [
        Kind("Organization (insurer)", "Organization", s.insurers, data.insurer),
        Kind("Organization (provider)", "Organization", s.providers, data.provider),
        Kind("Practitioner", "Practitioner", s.practitioners, data.practitioner),
        Kind("Patient", "Patient", s.patients, data.patient),
        Kind("Coverage", "Coverage", s.coverages, data.coverage),
        Kind("Claim", "Claim", s.claims, data.claim),
        Kind("ExplanationOfBenefit", "ExplanationOfBenefit", s.eobs, data.eob),
    ]
