"""CARIN Blue Button 2.0.0 searches (hl7.fhir.us.carin-bb, CapabilityStatement
c4bb): ExplanationOfBenefit by `_id`, `patient`, `_lastUpdated`, `type`, `identifier`,
`service-date` (billablePeriod | item.serviced), `service-start-date`, `billable-period-start`,
`care-team`, `coverage`, `insurer`, `provider`; Coverage by `payor`; and the `_include`s a
consumer app uses to fetch an EOB with everything it references."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import pytest_asyncio

from tests.api.fhir_client import strict_model
from tests.api.search_corpus import BASE_URL, cc, corpus_server, ref, search_ids, usd

pytestmark = pytest.mark.asyncio(loop_scope="module")

C4BB = "http://hl7.org/fhir/us/carin-bb"
IDENTIFIER_TYPE = f"{C4BB}/CodeSystem/C4BBIdentifierType"
CARE_TEAM_ROLE = f"{C4BB}/CodeSystem/C4BBClaimCareTeamRole"
ADJUDICATION = f"{C4BB}/CodeSystem/C4BBAdjudication"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
EOB_IDS = "https://payer.example.org/fhir/EOBIdentifier"
STRICT = {"Prefer": "handling=strict"}


def _eob_professional() -> dict[str, Any]:
    """A C4BB Professional/NonClinician EOB: billablePeriod, one line with a servicedDate and
    one with a servicedPeriod, a performing and a referring care-team member, a payee."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": "c4bb-prof",
        "meta": {
            "profile": [
                f"{C4BB}/StructureDefinition/C4BB-ExplanationOfBenefit-Professional-NonClinician"
            ]
        },
        "identifier": [
            {
                "type": cc(IDENTIFIER_TYPE, "uc"),
                "system": EOB_IDS,
                "value": "AW123412341234123412341234123412",
            }
        ],
        "status": "active",
        "type": cc(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("Patient/c4bb-pat"),
        "billablePeriod": {"start": "2020-03-02", "end": "2020-03-05"},
        "created": "2020-03-15T00:00:00-07:00",
        "insurer": ref("Organization/c4bb-payer"),
        "provider": ref("Organization/c4bb-billing"),
        "payee": {
            "type": cc("http://terminology.hl7.org/CodeSystem/payeetype", "provider"),
            "party": ref("Organization/c4bb-billing"),
        },
        "outcome": "complete",
        "careTeam": [
            {
                "sequence": 1,
                "provider": ref("Practitioner/c4bb-prac"),
                "role": cc(CARE_TEAM_ROLE, "performing"),
            },
            {
                "sequence": 2,
                "provider": ref("PractitionerRole/c4bb-role"),
                "role": cc(CARE_TEAM_ROLE, "referring"),
            },
        ],
        "supportingInfo": [
            {
                "sequence": 1,
                "category": cc(f"{C4BB}/CodeSystem/C4BBSupportingInfoType", "clmrecvddate"),
                "timingDate": "2020-03-10",
            }
        ],
        "insurance": [{"focal": True, "coverage": ref("Coverage/c4bb-cov")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc("http://www.ama-assn.org/go/cpt", "99231"),
                "servicedDate": "2020-03-04",
                "adjudication": [
                    {
                        "category": cc(ADJUDICATION, "paidtoprovider"),
                        "amount": usd(80),
                    }
                ],
            },
            {
                "sequence": 2,
                "productOrService": cc("http://www.ama-assn.org/go/cpt", "36415"),
                "servicedPeriod": {"start": "2020-03-01", "end": "2020-03-02"},
            },
        ],
        "total": [
            {
                "category": cc("http://terminology.hl7.org/CodeSystem/adjudication", "submitted"),
                "amount": usd(150),
            }
        ],
    }


def _eob_inpatient() -> dict[str, Any]:
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": "c4bb-inpatient",
        "identifier": [
            {"type": cc(IDENTIFIER_TYPE, "uc"), "system": EOB_IDS, "value": "INPT-2021-0001"}
        ],
        "status": "active",
        "type": cc(CLAIM_TYPE, "institutional"),
        "use": "claim",
        "patient": ref("Patient/c4bb-pat-2"),
        "billablePeriod": {"start": "2021-06-01", "end": "2021-06-10"},
        "created": "2021-07-01T12:00:00Z",
        "insurer": ref("Organization/c4bb-payer"),
        "provider": ref("Organization/c4bb-hospital"),
        "outcome": "complete",
        "careTeam": [{"sequence": 1, "provider": ref("Practitioner/c4bb-prac-2")}],
        "insurance": [{"focal": True, "coverage": ref("Coverage/c4bb-cov-2")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc("https://www.nubc.org/CodeSystem/RevenueCodes", "0120"),
            }
        ],
    }


def _eob_pharmacy() -> dict[str, Any]:
    """No billablePeriod: `service-date` has only the line's servicedDate to go by."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": "c4bb-pharmacy",
        "identifier": [
            {"type": cc(IDENTIFIER_TYPE, "uc"), "system": EOB_IDS, "value": "RX-2022-0042"}
        ],
        "status": "active",
        "type": cc(CLAIM_TYPE, "pharmacy"),
        "use": "claim",
        "patient": ref(f"{BASE_URL}/fhir/Patient/c4bb-pat"),
        "created": "2022-01-20",
        "insurer": ref("Organization/c4bb-payer-2"),
        "provider": ref("Practitioner/c4bb-prac-2"),
        "outcome": "complete",
        "insurance": [{"focal": True, "coverage": ref("Coverage/c4bb-cov")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc("http://hl7.org/fhir/sid/ndc", "0002-8215-01"),
                "servicedDate": "2022-01-15",
            }
        ],
    }


SUPPORT: list[dict[str, Any]] = [
    {
        "resourceType": "Patient",
        "id": "c4bb-pat",
        "identifier": [
            {
                "type": cc("http://terminology.hl7.org/CodeSystem/v2-0203", "MB"),
                "system": "https://payer.example.org/member",
                "value": "88800933501",
            }
        ],
        "name": [{"family": "Example", "given": ["Johnny"]}],
        "gender": "male",
        "birthDate": "1986-01-01",
    },
    {"resourceType": "Patient", "id": "c4bb-pat-2", "name": [{"family": "Other"}]},
    {
        "resourceType": "Organization",
        "id": "c4bb-payer",
        "identifier": [{"system": "urn:example:naic", "value": "12345"}],
        "active": True,
        "type": [cc("http://terminology.hl7.org/CodeSystem/organization-type", "pay")],
        "name": "Example Health Plan",
    },
    {"resourceType": "Organization", "id": "c4bb-payer-2", "name": "Pharmacy Benefit Co"},
    {"resourceType": "Organization", "id": "c4bb-billing", "name": "Example Billing Group"},
    {"resourceType": "Organization", "id": "c4bb-hospital", "name": "Example Hospital"},
    {
        "resourceType": "Practitioner",
        "id": "c4bb-prac",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "9941339108"}],
        "name": [{"family": "Bone", "given": ["Ronald"], "prefix": ["Dr"]}],
    },
    {"resourceType": "Practitioner", "id": "c4bb-prac-2", "name": [{"family": "Kildare"}]},
    {
        "resourceType": "PractitionerRole",
        "id": "c4bb-role",
        "practitioner": ref("Practitioner/c4bb-prac-2"),
        "organization": ref("Organization/c4bb-billing"),
    },
    {
        "resourceType": "Coverage",
        "id": "c4bb-cov",
        "status": "active",
        "type": cc("http://terminology.hl7.org/CodeSystem/v3-ActCode", "HIP"),
        "subscriberId": "888009335",
        "beneficiary": ref("Patient/c4bb-pat"),
        "relationship": cc("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self"),
        "payor": [ref("Organization/c4bb-payer")],
    },
    {
        "resourceType": "Coverage",
        "id": "c4bb-cov-2",
        "status": "active",
        "beneficiary": ref("Patient/c4bb-pat-2"),
        "payor": [ref("Organization/c4bb-payer-2")],
    },
]

EOBS = [_eob_professional(), _eob_inpatient(), _eob_pharmacy()]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def carin(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    folder = tmp_path_factory.mktemp("carin")
    async with corpus_server(folder, [*SUPPORT, *EOBS]) as client:
        yield client


async def _search(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    path, _, text = query.partition("?")
    response = await client.get(
        f"/fhir/{path}",
        params=tuple(parse_qsl(text, keep_blank_values=True)),
        headers=STRICT,
    )
    assert response.status_code == 200, f"{query}: {response.text}"
    body: dict[str, Any] = response.json()
    strict_model(body)
    return body


async def _ids(client: httpx.AsyncClient, query: str) -> set[str]:
    return {i.split("/", 1)[1] for i in search_ids(await _search(client, query))}


PROF, INPT, RX = "c4bb-prof", "c4bb-inpatient", "c4bb-pharmacy"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"_id={PROF}", {PROF}),
        ("patient=Patient/c4bb-pat", {PROF, RX}),
        ("patient=c4bb-pat", {PROF, RX}),
        (f"patient={BASE_URL}/fhir/Patient/c4bb-pat", {PROF, RX}),
        ("patient:Patient=c4bb-pat-2", {INPT}),
        ("type=professional", {PROF}),
        (f"type={CLAIM_TYPE}|institutional,{CLAIM_TYPE}|pharmacy", {INPT, RX}),
        (f"identifier={EOB_IDS}|AW123412341234123412341234123412", {PROF}),
        ("identifier=RX-2022-0042", {RX}),
        (f"identifier:of-type={IDENTIFIER_TYPE}|uc|INPT-2021-0001", {INPT}),
        # service-date = billablePeriod | item.serviced (servicedDate and servicedPeriod)
        ("service-date=2020-03-04", {PROF}),
        ("service-date=2020-03", {PROF}),
        ("service-date=2022-01-15", {RX}),
        ("service-date=2022-01", {RX}),
        ("service-date=ge2021-06-05", {INPT, RX}),
        ("service-date=ge2020-01-01&service-date=le2020-12-31", {PROF}),
        ("service-date=lt2020-03-02", {PROF}),
        ("service-date=sa2021-12-31", {RX}),
        ("service-date=eb2021", {PROF}),
        ("service-date=2019", set()),
        ("service-start-date=2020-03-02", {PROF}),
        ("service-start-date=2020-03-01", {PROF}),
        ("service-start-date=2022-01-15", {RX}),
        ("service-start-date=ge2021", {INPT, RX}),
        ("billable-period-start=2021-06-01", {INPT}),
        ("billable-period-start=lt2021", {PROF}),
        ("billable-period-start:missing=true", {RX}),
        ("care-team=Practitioner/c4bb-prac", {PROF}),
        ("care-team=PractitionerRole/c4bb-role", {PROF}),
        ("care-team=c4bb-prac-2", {INPT}),
        ("coverage=Coverage/c4bb-cov", {PROF, RX}),
        ("coverage=c4bb-cov-2", {INPT}),
        ("insurer=Organization/c4bb-payer", {PROF, INPT}),
        ("provider=Organization/c4bb-billing", {PROF}),
        ("provider=Practitioner/c4bb-prac-2", {RX}),
        ("coverage.payor.name=example health", {PROF, RX}),
        ("coverage.payor=Organization/c4bb-payer-2", {INPT}),
        ("patient.identifier=https://payer.example.org/member|88800933501", {PROF, RX}),
        ("care-team:Practitioner.name=bone", {PROF}),
        ("patient=Patient/c4bb-pat&service-date=ge2022&type=pharmacy", {RX}),
    ],
)
async def test_eob_search(carin: httpx.AsyncClient, query: str, expected: set[str]) -> None:
    assert await _ids(carin, f"ExplanationOfBenefit?{query}") == expected


async def test_coverage_by_payor(carin: httpx.AsyncClient) -> None:
    assert await _ids(carin, "Coverage?payor=Organization/c4bb-payer") == {"c4bb-cov"}
    assert await _ids(carin, "Coverage?payor=c4bb-payer-2") == {"c4bb-cov-2"}
    assert await _ids(carin, "Coverage?payor.name=pharmacy") == {"c4bb-cov-2"}


async def test_last_updated(carin: httpx.AsyncClient) -> None:
    stamps = {}
    for eob in EOBS:
        read = await carin.get(f"/fhir/ExplanationOfBenefit/{eob['id']}")
        stamps[eob["id"]] = read.json()["meta"]["lastUpdated"]
    assert await _ids(carin, f"ExplanationOfBenefit?_lastUpdated=gt{stamps[INPT]}") == {RX}
    assert await _ids(carin, f"ExplanationOfBenefit?_lastUpdated=le{stamps[INPT]}") == {PROF, INPT}
    assert await _ids(carin, f"ExplanationOfBenefit?_lastUpdated=eq{stamps[PROF]}") == {PROF}
    ge = await _ids(carin, f"ExplanationOfBenefit?_lastUpdated=ge{stamps[PROF]}&patient=c4bb-pat")
    assert ge == {PROF, RX}


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("patient", {"Patient/c4bb-pat"}),
        ("provider", {"Organization/c4bb-billing"}),
        ("care-team", {"Practitioner/c4bb-prac", "PractitionerRole/c4bb-role"}),
        ("coverage", {"Coverage/c4bb-cov"}),
        ("insurer", {"Organization/c4bb-payer"}),
        ("payee", {"Organization/c4bb-billing"}),
    ],
)
async def test_include(carin: httpx.AsyncClient, param: str, expected: set[str]) -> None:
    body = await _search(
        carin, f"ExplanationOfBenefit?_id={PROF}&_include=ExplanationOfBenefit:{param}"
    )
    assert search_ids(body) == [f"ExplanationOfBenefit/{PROF}"]
    assert set(search_ids(body, "include")) == expected


async def test_include_star(carin: httpx.AsyncClient) -> None:
    body = await _search(carin, f"ExplanationOfBenefit?_id={PROF}&_include=ExplanationOfBenefit:*")
    included = search_ids(body, "include")
    assert len(included) == len(set(included))
    assert set(included) >= {
        "Patient/c4bb-pat",  # patient
        "Organization/c4bb-billing",  # provider, payee
        "Practitioner/c4bb-prac",  # care-team
        "PractitionerRole/c4bb-role",  # care-team
        "Coverage/c4bb-cov",  # coverage
        "Organization/c4bb-payer",  # insurer
    }
    assert all(e["search"]["mode"] == "include" for e in body["entry"][1:])


async def test_everything_for_a_patient(carin: httpx.AsyncClient) -> None:
    """What a consumer app asks for: a member's EOBs with their references, and the payer of
    each coverage (`:iterate`)."""
    body = await _search(
        carin,
        "ExplanationOfBenefit?patient=c4bb-pat&_sort=-service-date"
        "&_include=ExplanationOfBenefit:patient&_include=ExplanationOfBenefit:provider"
        "&_include=ExplanationOfBenefit:care-team&_include=ExplanationOfBenefit:coverage"
        "&_include=ExplanationOfBenefit:insurer&_include:iterate=Coverage:payor",
    )
    assert search_ids(body) == [f"ExplanationOfBenefit/{RX}", f"ExplanationOfBenefit/{PROF}"]
    assert set(search_ids(body, "include")) == {
        "Patient/c4bb-pat",
        "Organization/c4bb-billing",
        "Practitioner/c4bb-prac-2",
        "Practitioner/c4bb-prac",
        "PractitionerRole/c4bb-role",
        "Coverage/c4bb-cov",
        "Organization/c4bb-payer",
        "Organization/c4bb-payer-2",
    }


async def test_coverage_then_payor(carin: httpx.AsyncClient) -> None:
    body = await _search(
        carin,
        "ExplanationOfBenefit?_id=c4bb-inpatient&_include=ExplanationOfBenefit:coverage"
        "&_include:iterate=Coverage:payor",
    )
    assert set(search_ids(body, "include")) == {"Coverage/c4bb-cov-2", "Organization/c4bb-payer-2"}


async def test_revinclude_from_patient(carin: httpx.AsyncClient) -> None:
    body = await _search(
        carin,
        "Patient?_id=c4bb-pat&_revinclude=ExplanationOfBenefit:patient&_revinclude=Coverage:beneficiary",
    )
    assert set(search_ids(body, "include")) == {
        f"ExplanationOfBenefit/{PROF}",
        f"ExplanationOfBenefit/{RX}",
        "Coverage/c4bb-cov",
    }
