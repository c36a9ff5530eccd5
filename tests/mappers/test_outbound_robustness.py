"""Outbound FHIR -> X12 under damaged input: whatever is deleted, blanked, lengthened, filled
with X12 delimiters or swapped for an unknown code, every translation either writes X12 that
passes our validator (and pyx12 for the 837) or raises a FacadeError whose issues each name the
FHIRPath of the element at fault. Anything else (another exception, invalid X12) is a bug."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.translations import outbound
from mappers.x12 import CountingControlNumbers, validate
from server.errors import FacadeError
from tests.mappers.claim_bundles import institutional_bundle, professional_bundle, secondary_bundle

Json = dict[str, Any]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
WHEN = datetime(2026, 10, 7, 9, 30)


def _fixture(name: str) -> Callable[[], Json]:
    def load() -> Json:
        data: Json = json.loads((FIXTURES / name).read_text())
        return data
    return load


CASES: dict[str, tuple[str, Callable[[], Json]]] = {
    "837P-professional": ("837P", professional_bundle),
    "837P-secondary": ("837P", secondary_bundle),
    "837I-institutional": ("837I", institutional_bundle),
    "270-subscriber": ("270", _fixture("eligibility_request_subscriber.json")),
    "270-dependent": ("270", _fixture("eligibility_request_dependent.json")),
    "276-claim": ("276", _fixture("claim_status_claim_bundle.json")),
    "276-dependent": ("276", _fixture("claim_status_dependent_bundle.json")),
    "278-pas": ("278", _fixture("pas_request_bundle.json")),
}
BASES = {name: make() for name, (_, make) in CASES.items()}
UNKNOWN_CODES = ("ZZZ9", "Q9", "0", "unknown-code")
DELIMITERS = "*~:^"
#: pyx12 is slow: it checks the first valid 837s of each case only.
PYX12_PER_CASE = 4
_pyx12_runs: dict[str, int] = {}

Path_ = tuple[str | int, ...]


def _paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every key and list position below ``node``, depth first."""
    out: list[Path_] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.append((*prefix, index))
            out += _paths(value, (*prefix, index))
    return out


def _holder(doc: Any, path: Path_) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


def _value(doc: Any, path: Path_) -> Any:
    return _holder(doc, path)[path[-1]]


@st.composite
def mutation(draw: st.DrawFn, doc: Json) -> str:
    """Apply one random damage to ``doc`` in place; returns what was done (for the report)."""
    kind = draw(st.sampled_from(["delete", "delete", "blank", "delimiter", "long", "code",
                                 "entry"]))
    if kind == "entry":
        entries = doc.get("entry") or []
        if entries:
            index = draw(st.integers(0, len(entries) - 1))
            del entries[index]
            return f"drop entry {index}"
        kind = "delete"
    if kind == "delete":
        paths = _paths(doc)
        if not paths:
            return "nothing"
        path = paths[draw(st.integers(0, len(paths) - 1))]
        del _holder(doc, path)[path[-1]]
        return f"delete {path}"
    strings = [p for p in _paths(doc) if isinstance(_value(doc, p), str)]
    if not strings:
        return "nothing"
    path = strings[draw(st.integers(0, len(strings) - 1))]
    old: str = _value(doc, path)
    if kind == "blank":
        new = ""
    elif kind == "delimiter":
        at = draw(st.integers(0, len(old)))
        new = old[:at] + draw(st.sampled_from(DELIMITERS)) + old[at:]
    elif kind == "long":
        new = ((old or "X") * 200)[:200]
    else:
        new = draw(st.sampled_from(UNKNOWN_CODES)) if path[-1] == "code" else f"unknown-{old}"
    _holder(doc, path)[path[-1]] = new
    return f"{kind} {path}: {new[:40]!r}"


HAVE_PYX12 = importlib.util.find_spec("pyx12") is not None


def pyx12_accepts(text: str) -> tuple[bool, str]:
    params = importlib.import_module("pyx12.params")
    document = importlib.import_module("pyx12.x12n_document")
    errors = io.StringIO()
    ok = document.x12n_document(param=params.params(), src_file=io.StringIO(text),
                                fd_997=io.StringIO(), fd_html=None, fd_json=errors)
    return bool(ok), errors.getvalue()


def translate(transaction: str, source: Json) -> str | FacadeError:
    """The X12 text, or the FacadeError raised; any other exception propagates (a bug)."""
    try:
        return outbound(transaction, [source], TradingPartners(), CountingControlNumbers(1), WHEN)
    except FacadeError as error:
        return error


def assert_sound(transaction: str, outcome: str | FacadeError, case: str = "") -> None:
    """Valid X12, or an error whose every issue names the element at fault."""
    if isinstance(outcome, FacadeError):
        assert outcome.issues, outcome
        for issue in outcome.issues:
            assert issue.expression and all(issue.expression), issue
        return
    report = validate(outcome)
    problems = [str(e) for ic in report.interchanges for g in ic.groups for s in g.sets
                for e in s.errors]
    assert report.valid, (report.errors, problems)
    if HAVE_PYX12 and transaction.startswith("837") and _pyx12_runs.get(case, 0) < PYX12_PER_CASE:
        _pyx12_runs[case] = _pyx12_runs.get(case, 0) + 1
        ok, errors = pyx12_accepts(outcome)
        assert ok, errors


@pytest.mark.parametrize("case", CASES)
@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_damaged_input_yields_valid_x12_or_located_gaps(case: str, data: st.DataObject) -> None:
    transaction, _ = CASES[case]
    doc = copy.deepcopy(BASES[case])
    count = data.draw(st.integers(1, 4), label="mutations")
    for _ in range(count):
        data.draw(mutation(doc))
    assert_sound(transaction, translate(transaction, doc), case)


@pytest.mark.parametrize("case", CASES)
def test_undamaged_fixtures_translate(case: str) -> None:
    transaction, make = CASES[case]
    outcome = translate(transaction, make())
    assert isinstance(outcome, str), outcome
    assert_sound(transaction, outcome, case)


# -- regressions: each damage once, with the outcome it must have ----------------------------

def _set(doc: Json, path: Path_, value: Any) -> None:
    _holder(doc, path)[path[-1]] = value


def _resource(doc: Json, kind: str) -> Json:
    found: Json = next(e["resource"] for e in doc["entry"]
                       if e["resource"]["resourceType"] == kind)
    return found


def _gap(case: str, damage: Callable[[Json], None]) -> list[str]:
    transaction, make = CASES[case]
    doc = make()
    damage(doc)
    outcome = translate(transaction, doc)
    assert_sound(transaction, outcome)
    assert isinstance(outcome, FacadeError), "expected a gap"
    return [e for issue in outcome.issues for e in issue.expression]


def _valid(case: str, damage: Callable[[Json], None]) -> str:
    transaction, make = CASES[case]
    doc = make()
    damage(doc)
    outcome = translate(transaction, doc)
    assert isinstance(outcome, str), outcome
    assert_sound(transaction, outcome)
    return outcome


def _coverage_type(doc: Json) -> None:
    _resource(doc, "Coverage")["type"]["coding"][0]["code"] = "ZZZ9"


def _first_item(doc: Json) -> Json:
    item: Json = next(e["resource"]["item"][0] for e in doc["entry"] if e["resource"][
        "resourceType"] in ("Claim", "CoverageEligibilityRequest"))
    return item


@pytest.mark.parametrize("case", ["837P-professional", "270-subscriber", "276-claim",
                                  "278-pas"])
def test_a_bundle_without_resource_type_is_a_gap(case: str) -> None:
    assert _gap(case, lambda doc: doc.pop("resourceType"))


def test_a_provider_of_unknown_type_is_a_gap_not_a_crash() -> None:
    def damage(doc: Json) -> None:
        claim = _resource(doc, "Claim")
        provider = next(e["resource"] for e in doc["entry"]
                        if claim["provider"]["reference"].endswith(e["resource"]["id"]))
        provider["resourceType"] = "Unknown"
        provider["name"] = "Riverside"
    assert _gap("276-claim", damage)


@pytest.mark.parametrize("birth", ["unknown", "1980-13-45", "198:-02-01", "1980-02-3"])
def test_a_malformed_birth_date_is_a_gap(birth: str) -> None:
    expressions = _gap("837P-professional",
                       lambda doc: _set(_resource(doc, "Patient"), ("birthDate",), birth))
    assert any(e.endswith("birthDate") for e in expressions)


def test_a_malformed_claim_period_is_not_written_in_the_276() -> None:
    text = _valid("276-claim", lambda doc: _set(_resource(doc, "Claim"), ("billablePeriod",),
                                                 {"start": "2024-03-0~1"}))
    assert "2024030" not in text.replace("20240301", "")


@pytest.mark.parametrize("state", ["I", "UN", "I~L"])
def test_a_state_that_is_no_state_code_is_a_gap(state: str) -> None:
    expressions = _gap("837P-professional", lambda doc: _set(
        _resource(doc, "Patient"), ("address", 0, "state"), state))
    assert any(e.endswith("address.state") for e in expressions)


def test_a_taxonomy_with_a_delimiter_is_left_out() -> None:
    def damage(doc: Json) -> None:
        for entry in doc["entry"]:
            for q in entry["resource"].get("qualification") or []:
                q["code"]["coding"][0]["code"] = "207Q~00000X"
    assert "PRV*PE*PXC*207Q" not in _valid("837P-professional", damage)


@pytest.mark.parametrize(("case", "damage", "where"), [
    ("837P-professional", _coverage_type, "coverage.type"),
    ("837P-professional", lambda d: _set(_resource(d, "Claim"),
                                         ("diagnosis", 0, "diagnosisCodeableConcept"),
                                         {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                                      "code": "E11" * 20}]}), "diagnosis[0]"),
    ("837P-professional", lambda d: _set(_first_item(d), ("modifier",),
                                         [{"coding": [{"code": "2^5"}]}]), "modifier[0]"),
    ("837P-professional", lambda d: _set(_first_item(d), ("locationCodeableConcept",),
                                         {"coding": [{"system": "https://www.cms.gov/Medicare/"
                                                      "Coding/place-of-service-codes/"
                                                      "Place_of_Service_Code_Set",
                                                      "code": "11^"}]}),
     "locationCodeableConcept"),
    ("837I-institutional", lambda d: _set(_first_item(d), ("revenue",),
                                          {"coding": [{"code": "01:20"}]}), "revenue"),
    ("837P-professional", lambda d: _set(_resource(d, "Claim"), ("identifier", 0, "value"),
                                         "PCN~1"), "Claim.identifier"),
])
def test_an_unusable_837_code_is_a_gap(case: str, damage: Callable[[Json], None],
                                       where: str) -> None:
    assert any(where in e for e in _gap(case, damage))


def test_an_837i_procedure_and_institutional_codes_must_fit() -> None:
    def damage(doc: Json) -> None:
        claim = _resource(doc, "Claim")
        claim["procedure"][0]["procedureCodeableConcept"]["coding"][0]["code"] = "0270*3ZZ"
        for info in claim["supportingInfo"]:
            if "code" in info:
                info["code"]["coding"][0]["code"] = "ZZZ9"
    expressions = _gap("837I-institutional", damage)
    assert "Claim.procedure[0]" in expressions and "Claim.supportingInfo" in expressions


def test_an_837_ndc_and_adjustment_reason_must_fit() -> None:
    def damage(doc: Json) -> None:
        for entry in doc["entry"]:
            resource = entry["resource"]
            for holder in (resource, *(resource.get("item") or [])):
                for adj in holder.get("adjudication") or []:
                    if adj.get("reason"):
                        adj["reason"]["coding"][0]["code"] = "4:5"
            for item in resource.get("item") or []:
                for detail in item.get("detail") or []:
                    detail["productOrService"]["coding"][0]["code"] = "00003-0293-0^5"
    expressions = _gap("837P-secondary", damage)
    assert any("adjudication" in e for e in expressions)
    assert any(".detail[0].productOrService" in e for e in expressions)


def test_a_blank_prior_authorization_writes_no_empty_ref() -> None:
    def damage(doc: Json) -> None:
        _resource(doc, "Claim")["insurance"][0]["preAuthRef"] = [""]
    assert "REF*G1*~" not in _valid("837P-professional", damage)


def test_an_npi_of_delimiters_never_leaves_nm108_alone() -> None:
    def damage(doc: Json) -> None:
        for entry in doc["entry"]:
            for ident in entry["resource"].get("identifier") or []:
                if ident.get("system") == "http://hl7.org/fhir/sid/us-npi" \
                        and entry["resource"]["resourceType"] == "Practitioner":
                    ident["value"] = "*"
    _valid("837P-professional", damage)


@pytest.mark.parametrize("service", ["ZZZ9", "Q9", "A:L"])
def test_an_unknown_service_type_is_a_gap_in_the_270(service: str) -> None:
    expressions = _gap("270-subscriber", lambda doc: _set(
        _first_item(doc), ("category", "coding", 0, "code"), service))
    assert any(".item[0].category" in e for e in expressions)


@pytest.mark.parametrize(("path", "value"), [
    (("category", "coding", 0, "code"), "ZZZ9"),
    (("locationCodeableConcept", "coding", 0, "code"), "1^1"),
    (("modifier", 0, "coding", 0, "code"), "R~T"),
])
def test_an_unknown_278_code_is_a_gap(path: Path_, value: str) -> None:
    assert _gap("278-pas", lambda doc: _set(_first_item(doc), path, value))


def test_a_278_diagnosis_too_long_is_a_gap() -> None:
    assert _gap("278-pas", lambda doc: _set(_resource(doc, "Claim"),
                                            ("diagnosis", 0, "diagnosisCodeableConcept",
                                             "coding", 0, "code"), "M1711" * 40))


@pytest.mark.parametrize("case", ["278-pas", "270-subscriber"])
def test_a_time_with_delimiters_never_reaches_bht05(case: str) -> None:
    def damage(doc: Json) -> None:
        doc["timestamp"] = "2024-03-01T09:1^:00-05:00"
        _resource(doc, "CoverageEligibilityRequest" if case.startswith("270") else "Claim")[
            "created"] = "2024-03-01T0^:15:00-05:00"
    _valid(case, damage)
