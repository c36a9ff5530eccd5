"""Every registered search parameter of every served type, against a corpus with known answers.

The corpus (``tests/api/search_corpus.py``) is written once per module with fixed ids; each row
of :data:`TABLE` is one search over HTTP and the exact set of ids it must return. Searches run
with ``Prefer: handling=strict``, so a parameter the server silently dropped fails instead of
returning everything. :func:`test_every_registered_parameter_is_in_the_table` iterates the
registry, so a new row in ``capability/search_parameter_table.py`` without a test here fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import httpx
import pytest
import pytest_asyncio

from capability.resource_types import RESOURCE_TYPES
from capability.search_parameters import parameters_for
from tests.api.corpus_terms import (
    BASE_URL,
    CPT,
    ICD10,
    MRN,
    NPI,
    PROFILE,
    SCT,
    SECURITY,
    SOURCE,
    TAG,
    UCUM,
    V2_0203,
)
from tests.api.search_corpus import RESOURCES, corpus_server, ids_of

STRICT = {"Prefer": "handling=strict"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def corpus(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A server holding the whole corpus (written once for the module)."""
    async with corpus_server(tmp_path_factory.mktemp("search-corpus")) as client:
        yield client


# ---------------------------------------------------------------------------------------------
# The table: (query, expected ids). Queries are `Type?name=value&...`, values unencoded.
# ---------------------------------------------------------------------------------------------

Row = tuple[str, set[str]]


def _common_rows() -> list[Row]:
    """`_id`, `_lastUpdated`, `_profile`, `_security`, `_source`, `_tag` on every type: the
    first corpus resource of each type carries the meta, the others do not."""
    rows: list[Row] = []
    for rtype in sorted(RESOURCE_TYPES):
        ids = ids_of(rtype)
        first = next(r["id"] for r in RESOURCES if r["resourceType"] == rtype)
        rows += [
            (f"{rtype}?_id={first}", {first}),
            (f"{rtype}?_id:not={first}", ids - {first}),
            (f"{rtype}?_lastUpdated=ge2020-01-01", ids),
            (f"{rtype}?_lastUpdated=lt2020-01-01", set()),
            (f"{rtype}?_profile={PROFILE}", {first}),
            (f"{rtype}?_profile:below={PROFILE.rsplit('/', 1)[0]}", {first}),
            (f"{rtype}?_security={SECURITY['system']}|{SECURITY['code']}", {first}),
            (f"{rtype}?_source={SOURCE}", {first}),
            (f"{rtype}?_tag={TAG['system']}|{TAG['code']}", {first}),
            (f"{rtype}?_tag:not={TAG['system']}|{TAG['code']}", ids - {first}),
        ]
    return rows


TABLE: list[Row] = [
    *_common_rows(),
    # --- Patient ----------------------------------------------------------------------------
    ("Patient?active=true", {"pat-1"}),
    ("Patient?active=false", {"pat-2"}),
    ("Patient?address=springfield", {"pat-1"}),
    ("Patient?address=12 elm", {"pat-1"}),
    ("Patient?address=CHICAGO", {"pat-2"}),
    ("Patient?address-city=spring", {"pat-1"}),
    ("Patient?address-country=US", {"pat-1", "pat-2"}),
    ("Patient?address-postalcode=606", {"pat-2"}),
    ("Patient?address-state=il", {"pat-1", "pat-2"}),
    ("Patient?address-use=home", {"pat-1"}),
    ("Patient?birthdate=1980-05-17", {"pat-1"}),
    ("Patient?birthdate=lt1960", {"pat-2"}),
    ("Patient?birthdate=2010", {"pat-3"}),
    ("Patient?birthdate=ge2010-06", {"pat-3"}),
    ("Patient?death-date=2023-04-01", {"pat-2"}),
    ("Patient?death-date=2023-05", set()),
    ("Patient?deceased=true", {"pat-2"}),
    ("Patient?deceased=false", {"pat-1", "pat-3"}),
    ("Patient?email=zoe.muller@example.org", {"pat-1"}),
    ("Patient?family=muller", {"pat-1"}),
    ("Patient?family=MÜLLER", {"pat-1"}),
    ("Patient?family:exact=Müller", {"pat-1"}),
    ("Patient?family:exact=muller", set()),
    ("Patient?family:contains=MIT", {"pat-2"}),
    ("Patient?gender=female", {"pat-1"}),
    ("Patient?gender=male,other", {"pat-2", "pat-3"}),
    ("Patient?gender=|female", {"pat-1"}),
    ("Patient?general-practitioner=Practitioner/prac-1", {"pat-1"}),
    ("Patient?general-practitioner=PractitionerRole/role-1", {"pat-2"}),
    ("Patient?general-practitioner:Practitioner=prac-1", {"pat-1"}),
    ("Patient?given=zoe", {"pat-1"}),
    ("Patient?given=jo", {"pat-2"}),
    ("Patient?identifier=" + MRN + "|MRN-1001", {"pat-1"}),
    ("Patient?identifier=MRN-1002", {"pat-2"}),
    ("Patient?identifier=" + MRN + "|", {"pat-1", "pat-2"}),
    ("Patient?identifier=|MRN-1001", set()),
    ("Patient?identifier:of-type=" + V2_0203 + "|MR|MRN-1001", {"pat-1"}),
    ("Patient?identifier:of-type=" + V2_0203 + "|MR|MRN-1002", set()),
    ("Patient?identifier:text=medical record", {"pat-1"}),
    ("Patient?identifier:not=MRN-1001", {"pat-2", "pat-3"}),
    ("Patient?language=es", {"pat-2"}),
    ("Patient?language=urn:ietf:bcp:47|en", {"pat-1"}),
    ("Patient?link=Patient/pat-3", {"pat-1"}),
    ("Patient?name=zoe", {"pat-1"}),
    ("Patient?name=doe", {"pat-3"}),
    ("Patient?name=zoe mue", {"pat-1"}),
    ("Patient?organization=Organization/org-prov", {"pat-1"}),
    ("Patient?organization=org-payer", {"pat-2"}),
    ("Patient?phone=555-0202", {"pat-2"}),
    ("Patient?phonetic=smith", {"pat-2"}),
    ("Patient?telecom=555-0101", {"pat-1"}),
    ("Patient?telecom=zoe.muller@example.org", {"pat-1"}),
    # --- Practitioner -----------------------------------------------------------------------
    ("Practitioner?active=true", {"prac-1"}),
    ("Practitioner?address=boston", {"prac-1"}),
    ("Practitioner?address-city=Boston", {"prac-1"}),
    ("Practitioner?address-country=us", {"prac-1"}),
    ("Practitioner?address-postalcode=02115", {"prac-1"}),
    ("Practitioner?address-state=MA", {"prac-1"}),
    ("Practitioner?address-use=work", {"prac-1"}),
    ("Practitioner?communication=fr", {"prac-1"}),
    ("Practitioner?email=a.carter@clinic.example.org", {"prac-1"}),
    ("Practitioner?family=nguyen", {"prac-2"}),
    ("Practitioner?gender=male", {"prac-2"}),
    ("Practitioner?given=amelie", {"prac-1"}),
    ("Practitioner?identifier=" + NPI + "|1987654320", {"prac-2"}),
    ("Practitioner?name=dr", {"prac-1"}),
    ("Practitioner?name=car,ngu", {"prac-1", "prac-2"}),
    ("Practitioner?phone=555-0300", {"prac-1"}),
    ("Practitioner?phonetic=nguyen", {"prac-2"}),
    ("Practitioner?telecom=555-0300", {"prac-1"}),
    # --- PractitionerRole -------------------------------------------------------------------
    ("PractitionerRole?active=false", {"role-2"}),
    ("PractitionerRole?date=ge2025-02", {"role-2"}),
    ("PractitionerRole?date=eb2025-06", {"role-1"}),
    ("PractitionerRole?date=le2020-06-01", {"role-1"}),
    ("PractitionerRole?email=frontdesk@clinic.example.org", {"role-1"}),
    ("PractitionerRole?endpoint=Endpoint/ep-1", {"role-1"}),
    ("PractitionerRole?identifier=urn:example:roles|R-2", {"role-2"}),
    ("PractitionerRole?location=Location/loc-1", {"role-1"}),
    ("PractitionerRole?organization=Organization/org-payer", {"role-2"}),
    ("PractitionerRole?phone=555-0400", {"role-1"}),
    ("PractitionerRole?practitioner=Practitioner/prac-2", {"role-2"}),
    ("PractitionerRole?practitioner=prac-1", {"role-1"}),
    ("PractitionerRole?role=nurse", {"role-2"}),
    ("PractitionerRole?service=HealthcareService/hs-1", {"role-1"}),
    ("PractitionerRole?specialty=http://nucc.org/provider-taxonomy|207Q00000X", {"role-1"}),
    ("PractitionerRole?telecom=frontdesk@clinic.example.org", {"role-1"}),
    # --- Organization -----------------------------------------------------------------------
    ("Organization?active=true", {"org-prov", "org-payer"}),
    ("Organization?address=chicago", {"org-payer"}),
    ("Organization?address-city=springfield", {"org-prov"}),
    ("Organization?address-country=US", {"org-prov", "org-payer"}),
    ("Organization?address-postalcode=60606", {"org-payer"}),
    ("Organization?address-state=il", {"org-prov", "org-payer"}),
    ("Organization?address-use=billing", {"org-payer"}),
    ("Organization?endpoint=Endpoint/ep-1", {"org-prov"}),
    ("Organization?identifier=PAYER-77", {"org-payer"}),
    ("Organization?name=acme", {"org-payer", "org-sub"}),
    ("Organization?name=sgc", {"org-prov"}),
    ("Organization?name=acme\\, inc", {"org-payer"}),
    ("Organization?name=acme\\, inc,sgc", {"org-payer", "org-prov"}),
    ("Organization?name:exact=Acme Health Insurance", {"org-payer"}),
    ("Organization?name:exact=Acme Health", set()),
    ("Organization?name:contains=plan", {"org-sub"}),
    (r"Organization?name=acme \$ave\|p", {"org-sub"}),
    (r"Organization?name:exact=Acme \$ave\|Plan", {"org-sub"}),
    ("Organization?partof=Organization/org-payer", {"org-sub"}),
    ("Organization?phonetic=springfield", {"org-prov"}),
    ("Organization?type=pay", {"org-payer"}),
    # --- Location ---------------------------------------------------------------------------
    ("Location?address=chicago", {"loc-2"}),
    ("Location?address-city=springfield", {"loc-1"}),
    ("Location?address-country=us", {"loc-1"}),
    ("Location?address-postalcode=62701", {"loc-1"}),
    ("Location?address-state=IL", {"loc-1", "loc-2"}),
    ("Location?address-state:exact=IL", {"loc-1"}),
    ("Location?address-use=temp", {"loc-2"}),
    ("Location?endpoint=Endpoint/ep-1", {"loc-1"}),
    ("Location?identifier=LOC-1", {"loc-1"}),
    (r"Location?identifier=urn:example:locations|LOC\|2\,\$", {"loc-2"}),
    (r"Location?identifier=LOC\|2\,\$,LOC-1", {"loc-1", "loc-2"}),
    (r"Location?identifier=LOC\|2", set()),
    ("Location?name=main", {"loc-1"}),
    ("Location?name=chicago", {"loc-2"}),
    ("Location?near=39.78|-89.65|10|km", {"loc-1"}),
    ("Location?near=41.88|-87.63|5", {"loc-2"}),
    ("Location?near=39.78|-89.65|400|km", {"loc-1", "loc-2"}),
    ("Location?near=39.78|-89.65|200|mi", {"loc-1", "loc-2"}),
    ("Location?near=39.78|-89.65|150|mi", {"loc-1"}),
    ("Location?near=0|0|100|km", set()),
    ("Location?operational-status=O", {"loc-1"}),
    ("Location?organization=Organization/org-prov", {"loc-1"}),
    ("Location?partof=Location/loc-1", {"loc-2"}),
    ("Location?status=active", {"loc-1"}),
    ("Location?type=HOSP", {"loc-1"}),
    # --- RelatedPerson ----------------------------------------------------------------------
    ("RelatedPerson?active=true", {"rp-1"}),
    ("RelatedPerson?address=evanston", {"rp-1"}),
    ("RelatedPerson?address-city=evan", {"rp-1"}),
    ("RelatedPerson?address-country=US", {"rp-1"}),
    ("RelatedPerson?address-postalcode=60201", {"rp-1"}),
    ("RelatedPerson?address-state=IL", {"rp-1"}),
    ("RelatedPerson?address-use=home", {"rp-1"}),
    ("RelatedPerson?birthdate=1950", {"rp-2"}),
    ("RelatedPerson?birthdate=gt1955", {"rp-1"}),
    ("RelatedPerson?email=maria.smith@example.org", {"rp-1"}),
    ("RelatedPerson?gender=female", {"rp-1"}),
    ("RelatedPerson?identifier=RP-1", {"rp-1"}),
    ("RelatedPerson?name=maria", {"rp-1"}),
    ("RelatedPerson?name=muller", {"rp-2"}),
    ("RelatedPerson?patient=Patient/pat-1", {"rp-2"}),
    ("RelatedPerson?phone=555-0505", {"rp-1"}),
    ("RelatedPerson?phonetic=smith", {"rp-1"}),
    ("RelatedPerson?relationship=FTH", {"rp-2"}),
    ("RelatedPerson?telecom=555-0505", {"rp-1"}),
    # --- Encounter --------------------------------------------------------------------------
    ("Encounter?account=Account/acct-1", {"enc-1"}),
    ("Encounter?account=http://other.example.org/fhir/Account/acct-1", {"enc-2"}),
    ("Encounter?appointment=Appointment/appt-1", {"enc-1"}),
    ("Encounter?based-on=ServiceRequest/sr-1", {"enc-1"}),
    ("Encounter?class=IMP", {"enc-2"}),
    ("Encounter?class=" + "http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB", {"enc-1"}),
    ("Encounter?date=2024-02-28", {"enc-1"}),
    ("Encounter?date=2024-02", {"enc-1"}),
    ("Encounter?date=2024", {"enc-1"}),
    ("Encounter?date=2025", set()),
    ("Encounter?date=eq2024-02-28", {"enc-1"}),
    ("Encounter?date=ne2024-02-28", {"enc-2"}),
    ("Encounter?date=gt2024-12-31", {"enc-2"}),
    ("Encounter?date=lt2024-03", {"enc-1"}),
    ("Encounter?date=ge2025-06-01", {"enc-2"}),
    ("Encounter?date=ge2024-02-28T09:00:00Z", {"enc-1", "enc-2"}),
    ("Encounter?date=le2024-02-28", {"enc-1"}),
    ("Encounter?date=sa2024-12-31", {"enc-2"}),
    ("Encounter?date=sa2024-02-28T08:59:59Z", {"enc-1", "enc-2"}),
    ("Encounter?date=eb2025", {"enc-1"}),
    ("Encounter?date=ap2024-02-28", {"enc-1"}),
    ("Encounter?date=ge2024&date=le2024-12", {"enc-1"}),
    ("Encounter?date=2024-02-28T10:00%2B01:00", set()),
    ("Encounter?date=lt2024-02-28T10:00:00%2B01:00", set()),
    ("Encounter?date=lt2024-02-28T10:00:01%2B01:00", {"enc-1"}),
    ("Encounter?diagnosis=Condition/cond-1", {"enc-1"}),
    ("Encounter?episode-of-care=EpisodeOfCare/eoc-1", {"enc-1"}),
    ("Encounter?identifier=ENC-1", {"enc-1"}),
    ("Encounter?length=30|" + UCUM + "|min", {"enc-1"}),
    ("Encounter?length=gt1", {"enc-1", "enc-2"}),
    ("Encounter?length=lt10", {"enc-2"}),
    ("Encounter?length=3||d", {"enc-2"}),
    ("Encounter?length=3||min", set()),
    ("Encounter?location=Location/loc-2", {"enc-2"}),
    ("Encounter?location-period=2024-02-28", {"enc-1"}),
    ("Encounter?part-of=Encounter/enc-1", {"enc-2"}),
    ("Encounter?participant=Practitioner/prac-1", {"enc-1"}),
    ("Encounter?participant=PractitionerRole/role-2", {"enc-2"}),
    ("Encounter?participant=prac-1", {"enc-1"}),
    ("Encounter?participant=http://other.example.org/fhir/Practitioner/prac-1", {"enc-2"}),
    ("Encounter?practitioner=prac-1", {"enc-1"}),
    ("Encounter?participant.family=carter", {"enc-1"}),
    ("Encounter?participant-type=PPRF", {"enc-1"}),
    ("Encounter?patient=Patient/pat-2", {"enc-2"}),
    ("Encounter?patient=pat-1", {"enc-1"}),
    ("Encounter?practitioner=Practitioner/prac-1", {"enc-1"}),
    ("Encounter?reason-code=38341003", {"enc-1"}),
    ("Encounter?reason-reference=Condition/cond-1", {"enc-1"}),
    ("Encounter?service-provider=Organization/org-prov", {"enc-1"}),
    ("Encounter?service-provider=org-prov", {"enc-1"}),
    ("Encounter?service-provider=http://other.example.org/fhir/Organization/org-prov", {"enc-2"}),
    ("Encounter?service-provider.name=springfield", {"enc-1"}),
    ("Encounter?special-arrangement=wheel", {"enc-1"}),
    ("Encounter?status=in-progress", {"enc-2"}),
    ("Encounter?subject=Patient/pat-1", {"enc-1"}),
    ("Encounter?type=" + SCT + "|185349003", {"enc-1"}),
    ("Encounter?type:text=encounter for", {"enc-1"}),
    # --- Condition --------------------------------------------------------------------------
    ("Condition?abatement-age=40", {"cond-2"}),
    ("Condition?abatement-age=41", set()),
    ("Condition?abatement-age=ge40||a", {"cond-2"}),
    ("Condition?abatement-date=2020", {"cond-3"}),
    ("Condition?abatement-date=2020-03", set()),
    ("Condition?abatement-date=lt2020-03", {"cond-3"}),
    ("Condition?abatement-string=in remission", {"cond-1"}),
    ("Condition?asserter=Practitioner/prac-1", {"cond-1"}),
    ("Condition?asserter=Patient/pat-2", {"cond-2"}),
    ("Condition?body-site=38266002", {"cond-1"}),
    ("Condition?category=problem-list-item", {"cond-2"}),
    ("Condition?clinical-status=resolved", {"cond-2"}),
    ("Condition?clinical-status:not=resolved", {"cond-1", "cond-3"}),
    ("Condition?clinical-status:not=resolved,remission", {"cond-3"}),
    ("Patient?gender:not=male,other", {"pat-1"}),
    ("Condition?code=" + ICD10 + "|E11.9", {"cond-1"}),
    ("Condition?code=I10,J45.909", {"cond-2", "cond-3"}),
    ("Condition?code:text=type 2", {"cond-1"}),
    ("Condition?code:text=unspecified asthma", {"cond-2"}),
    ("Condition?encounter=Encounter/enc-1", {"cond-1"}),
    ("Condition?evidence=271327008", {"cond-1"}),
    ("Condition?evidence-detail=Procedure/proc-1", {"cond-1"}),
    ("Condition?identifier=COND-1", {"cond-1"}),
    ("Condition?onset-age=12", {"cond-2"}),
    ("Condition?onset-age=12|" + UCUM + "|a", {"cond-2"}),
    ("Condition?onset-age=12||mo", set()),
    ("Condition?onset-age=gt11", {"cond-2"}),
    ("Condition?onset-age=gt12", set()),
    ("Condition?onset-age=lt13", {"cond-2"}),
    ("Condition?onset-age=ge12", {"cond-2"}),
    ("Condition?onset-age=le11.9", set()),
    ("Condition?onset-age=ne12", set()),
    ("Condition?onset-age=ne13", {"cond-2"}),
    ("Condition?onset-age=ap11", {"cond-2"}),
    ("Condition?onset-age=ap10", set()),
    ("Condition?onset-age=sa11", {"cond-2"}),
    ("Condition?onset-age=eb13", {"cond-2"}),
    ("Condition?onset-age=12.0", {"cond-2"}),
    ("Condition?onset-age=12.1", set()),
    ("Condition?onset-date=2019-03-10", {"cond-1"}),
    ("Condition?onset-date=le2019", {"cond-1"}),
    ("Condition?onset-info=child", {"cond-3"}),
    ("Condition?patient=Patient/pat-1", {"cond-1"}),
    ("Condition?patient:Patient=pat-2", {"cond-2"}),
    ("Condition?patient=Group/grp-1", set()),
    ("Condition?recorded-date=2024-02-28", {"cond-1"}),
    ("Condition?recorded-date=lt2024", {"cond-2"}),
    ("Condition?severity=24484000", {"cond-1"}),
    ("Condition?stage=14803004", {"cond-1"}),
    ("Condition?subject=Group/grp-1", {"cond-3"}),
    ("Condition?subject:Group=grp-1", {"cond-3"}),
    ("Condition?verification-status=provisional", {"cond-2"}),
    # --- Procedure --------------------------------------------------------------------------
    ("Procedure?based-on=ServiceRequest/sr-1", {"proc-1"}),
    ("Procedure?category=409063005", {"proc-2"}),
    ("Procedure?code=" + CPT + "|99213", {"proc-2"}),
    ("Procedure?date=2025-06-01", {"proc-2"}),
    ("Procedure?date=2024-02-28T09:15:00Z", {"proc-1"}),
    ("Procedure?encounter=Encounter/enc-1", {"proc-1"}),
    ("Procedure?identifier=PROC-1", {"proc-1"}),
    (
        "Procedure?instantiates-canonical=http://example.org/fhir/PlanDefinition/diabetes-care",
        {"proc-1"},
    ),
    ("Procedure?instantiates-uri=http://example.org/protocols/a1c/v2", {"proc-1"}),
    ("Procedure?instantiates-uri=http://example.org/protocols", set()),
    ("Procedure?instantiates-uri:below=http://example.org/protocols", {"proc-1"}),
    ("Procedure?instantiates-uri:below=http://example.org/other", set()),
    ("Procedure?instantiates-uri:above=http://example.org/protocols/a1c/v2/annex", {"proc-1"}),
    ("Procedure?instantiates-uri:above=http://example.org/protocols", set()),
    ("Procedure?location=Location/loc-1", {"proc-1"}),
    ("Procedure?part-of=Procedure/proc-2", {"proc-1"}),
    ("Procedure?patient=Patient/pat-1", {"proc-1"}),
    ("Procedure?performer=Organization/org-prov", {"proc-2"}),
    ("Procedure?reason-code=E11.9", {"proc-1"}),
    ("Procedure?reason-reference=Condition/cond-1", {"proc-1"}),
    ("Procedure?status=completed", {"proc-1"}),
    ("Procedure?subject=Group/grp-1", {"proc-2"}),
    # --- Group ------------------------------------------------------------------------------
    ("Group?actual=true", {"grp-1"}),
    ("Group?characteristic=73211009", {"grp-1", "grp-2"}),
    ("Group?characteristic=77386006", {"grp-1"}),
    ("Group?characteristic-value=" + SCT + "|73211009$" + SCT + "|373066001", {"grp-1"}),
    ("Group?characteristic-value=73211009$373067005", {"grp-2"}),
    ("Group?characteristic-value=77386006$true", {"grp-1"}),
    ("Group?characteristic-value=77386006$373066001", set()),
    ("Group?characteristic-value=73211009$373066001,73211009$373067005", {"grp-1", "grp-2"}),
    ("Group?code=diabetes-cohort", {"grp-1"}),
    ("Group?exclude=true", {"grp-1"}),
    ("Group?exclude=false", {"grp-1", "grp-2"}),
    ("Group?identifier=GRP-1", {"grp-1"}),
    ("Group?managing-entity=Practitioner/prac-1", {"grp-2"}),
    ("Group?member=Patient/pat-2", {"grp-1"}),
    ("Group?member=Practitioner/prac-1", {"grp-2"}),
    ("Group?type=practitioner", {"grp-2"}),
    ("Group?value=373067005", {"grp-2"}),
    ("Group?value=true", {"grp-1"}),
    # --- Coverage ---------------------------------------------------------------------------
    ("Coverage?beneficiary=Patient/pat-2", {"cov-2"}),
    ("Coverage?class-type=plan", {"cov-1"}),
    ("Coverage?class-value=GRP-6000", {"cov-2"}),
    ("Coverage?class-value=grp", {"cov-1", "cov-2"}),
    ("Coverage?dependent=02", {"cov-2"}),
    ("Coverage?identifier=urn:example:member-ids|MEM-1001-01", {"cov-1"}),
    ("Coverage?identifier:of-type=" + V2_0203 + "|MB|MEM-1001-01", {"cov-1"}),
    ("Coverage?patient=Patient/pat-1", {"cov-1"}),
    ("Coverage?payor=Organization/org-payer", {"cov-1"}),
    ("Coverage?payor:Organization=org-sub", {"cov-2"}),
    ("Coverage?policy-holder=RelatedPerson/rp-1", {"cov-2"}),
    ("Coverage?status=active", {"cov-1"}),
    ("Coverage?subscriber=Patient/pat-1", {"cov-1"}),
    ("Coverage?type=HIP", {"cov-1"}),
    # --- CoverageEligibilityRequest ---------------------------------------------------------
    ("CoverageEligibilityRequest?created=2024-02-20", {"cer-1"}),
    ("CoverageEligibilityRequest?enterer=Practitioner/prac-1", {"cer-1"}),
    ("CoverageEligibilityRequest?facility=Location/loc-1", {"cer-1"}),
    ("CoverageEligibilityRequest?identifier=ER-2", {"cer-2"}),
    ("CoverageEligibilityRequest?patient=Patient/pat-2", {"cer-2"}),
    ("CoverageEligibilityRequest?provider=PractitionerRole/role-1", {"cer-2"}),
    ("CoverageEligibilityRequest?status=cancelled", {"cer-2"}),
    # --- CoverageEligibilityResponse --------------------------------------------------------
    ("CoverageEligibilityResponse?created=ge2025", {"cerr-2"}),
    ("CoverageEligibilityResponse?disposition=policy", {"cerr-1"}),
    ("CoverageEligibilityResponse?identifier=ERR-1", {"cerr-1"}),
    ("CoverageEligibilityResponse?insurer=Organization/org-sub", {"cerr-2"}),
    ("CoverageEligibilityResponse?outcome=error", {"cerr-2"}),
    ("CoverageEligibilityResponse?patient=Patient/pat-1", {"cerr-1"}),
    ("CoverageEligibilityResponse?request=CoverageEligibilityRequest/cer-1", {"cerr-1"}),
    ("CoverageEligibilityResponse?requestor=Practitioner/prac-2", {"cerr-2"}),
    ("CoverageEligibilityResponse?status=entered-in-error", {"cerr-2"}),
    # --- Claim ------------------------------------------------------------------------------
    ("Claim?care-team=Practitioner/prac-1", {"claim-1"}),
    ("Claim?care-team=Organization/org-prov", {"claim-2"}),
    ("Claim?created=2024-03-01", {"claim-1"}),
    ("Claim?created=2023-12-01", {"claim-3"}),
    ("Claim?created=lt2024", {"claim-3"}),
    ("Claim?created=ge2025-07-15", {"claim-2"}),
    ("Claim?detail-udi=Device/dev-2", {"claim-1"}),
    ("Claim?encounter=Encounter/enc-1", {"claim-1"}),
    ("Claim?enterer=Practitioner/prac-1", {"claim-1"}),
    ("Claim?facility=Location/loc-1", {"claim-1"}),
    ("Claim?identifier=PCN-2002", {"claim-2"}),
    ("Claim?identifier=urn:example:claims|", {"claim-1", "claim-2"}),
    ("Claim?insurer=Organization/org-sub", {"claim-2"}),
    ("Claim?insurer=Organization/org-payer", {"claim-1"}),
    ("Claim?insurer:identifier=urn:example:payer-ids|PAYER-77", {"claim-3"}),
    ("Claim?item-udi=Device/dev-1", {"claim-1"}),
    ("Claim?patient=Patient/pat-1", {"claim-1", "claim-3"}),
    ("Claim?patient=pat-1", {"claim-1", "claim-3"}),
    ("Claim?patient=" + BASE_URL + "/fhir/Patient/pat-1", {"claim-1", "claim-3"}),
    ("Claim?patient:Patient=pat-2", {"claim-2"}),
    ("Claim?patient=Patient/pat-2/_history/1", {"claim-2"}),
    ("Claim?patient=http://other.example.org/fhir/Patient/pat-1", set()),
    ("Claim?payee=Patient/pat-2", {"claim-2"}),
    ("Claim?priority=normal", {"claim-1", "claim-3"}),
    ("Claim?procedure-udi=Device/dev-3", {"claim-1"}),
    ("Claim?provider=Practitioner/prac-2", {"claim-3"}),
    ("Claim?status=draft", {"claim-2"}),
    ("Claim?subdetail-udi=Device/dev-4", {"claim-1"}),
    ("Claim?use=preauthorization", {"claim-2"}),
    # --- ClaimResponse ----------------------------------------------------------------------
    ("ClaimResponse?created=2024-03-05", {"cr-1"}),
    ("ClaimResponse?disposition=pended", {"cr-2"}),
    ("ClaimResponse?identifier=CR-1001", {"cr-1"}),
    ("ClaimResponse?insurer=Organization/org-payer", {"cr-1"}),
    ("ClaimResponse?outcome=queued", {"cr-2"}),
    ("ClaimResponse?patient=Patient/pat-2", {"cr-2"}),
    ("ClaimResponse?payment-date=2024-03-20", {"cr-1"}),
    ("ClaimResponse?request=Claim/claim-1", {"cr-1"}),
    ("ClaimResponse?requestor=PractitionerRole/role-1", {"cr-2"}),
    ("ClaimResponse?status=active", {"cr-1"}),
    ("ClaimResponse?use=claim", {"cr-1"}),
    # --- ExplanationOfBenefit ---------------------------------------------------------------
    ("ExplanationOfBenefit?billable-period-start=2024-02-01", {"eob-1"}),
    ("ExplanationOfBenefit?billable-period-start=ge2025", {"eob-2"}),
    ("ExplanationOfBenefit?care-team=Practitioner/prac-1", {"eob-1"}),
    ("ExplanationOfBenefit?care-team=PractitionerRole/role-1", {"eob-1"}),
    ("ExplanationOfBenefit?care-team=Practitioner/prac-2", {"eob-2"}),
    ("ExplanationOfBenefit?claim=Claim/claim-1", {"eob-1"}),
    ("ExplanationOfBenefit?coverage=Coverage/cov-1", {"eob-1", "eob-3"}),
    ("ExplanationOfBenefit?created=2023-08-20", {"eob-3"}),
    ("ExplanationOfBenefit?created=2024-03-10", {"eob-1"}),
    ("ExplanationOfBenefit?detail-udi=Device/dev-2", {"eob-1"}),
    ("ExplanationOfBenefit?disposition=pending", {"eob-2"}),
    ("ExplanationOfBenefit?encounter=Encounter/enc-1", {"eob-1"}),
    ("ExplanationOfBenefit?enterer=Practitioner/prac-1", {"eob-1"}),
    ("ExplanationOfBenefit?facility=Location/loc-1", {"eob-1"}),
    ("ExplanationOfBenefit?identifier=https://example.org/fhir/claim-ids|EOB-2002", {"eob-2"}),
    ("ExplanationOfBenefit?insurer=Organization/org-payer", {"eob-1", "eob-3"}),
    ("ExplanationOfBenefit?item-udi=Device/dev-1", {"eob-1"}),
    ("ExplanationOfBenefit?patient=Patient/pat-1", {"eob-1", "eob-3"}),
    ("ExplanationOfBenefit?payee=Organization/org-prov", {"eob-1"}),
    ("ExplanationOfBenefit?procedure-udi=Device/dev-3", {"eob-1"}),
    ("ExplanationOfBenefit?provider=PractitionerRole/role-1", {"eob-2"}),
    ("ExplanationOfBenefit?service-date=2024-02-28", {"eob-1"}),
    ("ExplanationOfBenefit?service-date=2023-08-15", {"eob-3"}),
    ("ExplanationOfBenefit?service-date=2024-02", {"eob-1"}),
    ("ExplanationOfBenefit?service-date=ge2025-06-03", {"eob-2"}),
    ("ExplanationOfBenefit?service-start-date=2024-02-10", {"eob-1"}),
    ("ExplanationOfBenefit?service-start-date=2023", {"eob-3"}),
    ("ExplanationOfBenefit?status=cancelled", {"eob-3"}),
    ("ExplanationOfBenefit?subdetail-udi=Device/dev-4", {"eob-1"}),
    ("ExplanationOfBenefit?type=pharmacy", {"eob-3"}),
    # --- PaymentNotice ----------------------------------------------------------------------
    ("PaymentNotice?created=2024-03-21", {"pn-1"}),
    ("PaymentNotice?identifier=PN-1", {"pn-1"}),
    ("PaymentNotice?payment-status=cleared", {"pn-2"}),
    ("PaymentNotice?provider=Practitioner/prac-2", {"pn-2"}),
    ("PaymentNotice?request=Claim/claim-1", {"pn-1"}),
    ("PaymentNotice?response=ClaimResponse/cr-1", {"pn-1"}),
    ("PaymentNotice?status=cancelled", {"pn-2"}),
    # --- PaymentReconciliation --------------------------------------------------------------
    ("PaymentReconciliation?created=2025-08-01", {"prec-2"}),
    ("PaymentReconciliation?disposition=march", {"prec-1"}),
    ("PaymentReconciliation?identifier=REM-1", {"prec-1"}),
    ("PaymentReconciliation?outcome=partial", {"prec-2"}),
    ("PaymentReconciliation?payment-issuer=Organization/org-payer", {"prec-1"}),
    ("PaymentReconciliation?request=Task/task-1", {"prec-1"}),
    ("PaymentReconciliation?requestor=Practitioner/prac-2", {"prec-2"}),
    ("PaymentReconciliation?status=active", {"prec-1"}),
    # --- :missing -----------------------------------------------------------------------------
    ("Patient?active:missing=true", {"pat-3"}),
    ("Patient?active:missing=false", {"pat-1", "pat-2"}),
    ("Patient?name:missing=true", set()),
    ("Patient?birthdate:missing=false", {"pat-1", "pat-2", "pat-3"}),
    ("Claim?enterer:missing=true", {"claim-2", "claim-3"}),
    ("ExplanationOfBenefit?billable-period-start:missing=true", {"eob-3"}),
    ("Condition?onset-age:missing=false", {"cond-2"}),
    ("Group?characteristic-value:missing=false", {"grp-1", "grp-2"}),
    ("Location?near:missing=false", {"loc-1", "loc-2"}),
    ("Procedure?instantiates-uri:missing=true", {"proc-2"}),
    ("Encounter?length:missing=false", {"enc-1", "enc-2"}),
    ("Claim?_lastUpdated:missing=true", set()),
    ("Claim?_id:missing=false", {"claim-1", "claim-2", "claim-3"}),
    ("Patient?link.name:missing=false", {"pat-1"}),
    # --- AND (repetition) and OR (comma) ------------------------------------------------------
    ("Claim?patient=Patient/pat-1&status=active", {"claim-1"}),
    ("Claim?status=active,draft&use=claim", {"claim-1"}),
    ("Claim?created=ge2024&created=lt2025", {"claim-1"}),
    ("Claim?identifier=PCN-1001,PCN-2002&_id=claim-2,claim-3", {"claim-2"}),
    # --- chains -----------------------------------------------------------------------------
    ("Claim?patient.identifier=" + MRN + "|MRN-1001", {"claim-1", "claim-3"}),
    ("Claim?patient:Patient.name=smith", {"claim-2"}),
    ("Claim?patient.birthdate=lt1960", {"claim-2"}),
    ("Coverage?payor.name=acme", {"cov-1", "cov-2"}),
    ("Coverage?payor.name=acme health insurance", {"cov-1"}),
    ("ExplanationOfBenefit?coverage.payor.name=acme health plan", {"eob-2"}),
    ("ExplanationOfBenefit?coverage.payor.identifier=PAYER-77", {"eob-1", "eob-3"}),
    ("ExplanationOfBenefit?care-team.name=carter", {"eob-1"}),
    ("ExplanationOfBenefit?care-team:Practitioner.family=nguyen", {"eob-2"}),
    ("Encounter?subject:Patient.birthdate=lt1960", {"enc-2"}),
    ("Encounter?patient.organization.name=springfield", {"enc-1"}),
    ("ExplanationOfBenefit?coverage.payor.partof.name=acme", {"eob-2"}),
    # --- reverse chains (_has) ----------------------------------------------------------------
    ("Patient?_has:Claim:patient:status=active", {"pat-1"}),
    ("Patient?_has:Claim:patient:status=draft,cancelled", {"pat-1", "pat-2"}),
    ("Organization?_has:Coverage:payor:status=active", {"org-payer"}),
    ("Group?_has:Condition:subject:code=I10", {"grp-1"}),
    ("Organization?_has:Encounter:service-provider:status=finished", {"org-prov"}),
    ("Organization?_has:Encounter:service-provider:status=in-progress", set()),
    ("Practitioner?_has:PractitionerRole:practitioner:organization.name=acme", {"prac-2"}),
    (
        "Patient?_has:Coverage:beneficiary:_has:ExplanationOfBenefit:coverage:status=cancelled",
        {"pat-1"},
    ),
    ("Patient?_has:Claim:patient:status=active&gender=male", set()),
]


def _request(query: str) -> tuple[str, list[tuple[str, str]]]:
    path, _, text = query.partition("?")
    return f"/fhir/{path}", parse_qsl(text, keep_blank_values=True)


async def _ids(client: httpx.AsyncClient, query: str) -> set[str]:
    path, params = _request(query)
    response = await client.get(path, params=tuple(params), headers=STRICT)
    assert response.status_code == 200, f"{query}: {response.text}"
    body = response.json()
    entries = body.get("entry", [])
    assert all(e["search"]["mode"] == "match" for e in entries), query
    assert not any(link["relation"] == "next" for link in body["link"]), query
    return {e["resource"]["id"] for e in entries}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("query", "expected"), TABLE, ids=[q for q, _ in TABLE])
async def test_search(corpus: httpx.AsyncClient, query: str, expected: set[str]) -> None:
    assert await _ids(corpus, query) == expected


def _covered() -> set[tuple[str, str]]:
    """(type, code) of every parameter a row of the table searches on directly."""
    covered: set[tuple[str, str]] = set()
    for query, _ in TABLE:
        rtype, params = query.split("?", 1)[0], _request(query)[1]
        for key, _value in params:
            if key.startswith("_has:"):
                continue
            covered.add((rtype, key.split(".", 1)[0].split(":", 1)[0]))
    return covered


def test_every_registered_parameter_is_in_the_table() -> None:
    registered = {(t, code) for t in RESOURCE_TYPES for code in parameters_for(t)}
    assert len(registered) >= 360
    assert sorted(registered - _covered()) == []


def test_every_parameter_has_a_hit_and_a_miss() -> None:
    """Per (type, code), the single-parameter rows together return some resource of the type
    and leave out some other one."""
    found: dict[tuple[str, str], set[str]] = {}
    missed: dict[tuple[str, str], set[str]] = {}
    for query, expected in TABLE:
        rtype, params = query.split("?", 1)[0], _request(query)[1]
        if len(params) != 1 or params[0][0].startswith("_has:") or "." in params[0][0]:
            continue
        pair = (rtype, params[0][0].split(":", 1)[0])
        found.setdefault(pair, set()).update(expected)
        missed.setdefault(pair, set()).update(ids_of(rtype) - expected)
    registered = {(t, code) for t in RESOURCE_TYPES for code in parameters_for(t)}
    assert sorted(registered - set(found)) == []
    assert sorted(pair for pair in found if not found[pair] or not missed[pair]) == []


def test_quantity_and_number_parameters() -> None:
    """The served types have three quantity parameters (no Money one: Claim/EOB totals are
    not searchable in R4 or CARIN BB) and no number parameter; the table covers each."""
    kinds = {(t, code): p.type for t in RESOURCE_TYPES for code, p in parameters_for(t).items()}
    assert sorted(k for k, v in kinds.items() if v == "quantity") == [
        ("Condition", "abatement-age"),
        ("Condition", "onset-age"),
        ("Encounter", "length"),
    ]
    assert [k for k, v in kinds.items() if v == "number"] == []
