"""The code tables of ``mappers.codes`` (X12.md §5): shape, coverage of the guides' code sets,
lookups, and that the JSON ships as package data."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from mappers import codes

ROOT = Path(__file__).resolve().parents[2]
CODE_SETS: dict[str, list[str]] = json.loads(
    resources.files("mappers.x12.guides").joinpath("code_sets.json").read_text("utf-8")
)

#: code_sets.json key -> the table that must describe every code of it.
COVERED = {
    "remark_code": "rarc",
    "claim_status_cat": "claim_status_category",
    "claim_status": "claim_status",
    "service_type": "service_type",
    "pos": "place_of_service",
}

#: Tables documented (module docstring) as having no FHIR code system.
NO_SYSTEM = {"claim_frequency"}

#: Descriptions must stay short (a few words to one short sentence).
MAX_DESCRIPTION = 120


def _raw(name: str) -> str:
    return resources.files("mappers.codes").joinpath("data", f"{name}.json").read_text("utf-8")


def _natural(code: str) -> tuple[Any, ...]:
    match = re.fullmatch(r"([A-Z]*)(\d+)([A-Z]*)", code)
    if match:
        return (match.group(1), int(match.group(2)), match.group(3))
    return (code, -1, "")


@pytest.mark.parametrize("name", codes.TABLES)
def test_table_shape(name: str) -> None:
    data = json.loads(_raw(name))
    assert set(data) == {"title", "element", "source", "system", "codes"}
    for key in ("title", "element", "source"):
        assert isinstance(data[key], str) and data[key].strip()
    table = codes.table(name)
    assert table == data["codes"] and table
    for code, description in table.items():
        assert isinstance(code, str) and code and not re.search(r"\s", code), code
        assert isinstance(description, str) and description.strip() == description, code
        assert description and len(description) <= MAX_DESCRIPTION, code


@pytest.mark.parametrize("name", codes.TABLES)
def test_system(name: str) -> None:
    system = codes.system_of(name)
    if name in NO_SYSTEM:
        assert system is None
    else:
        assert isinstance(system, str) and system.startswith("https://")


def test_systems_match_the_mappers_uris() -> None:
    from mappers.fhir_x12 import systems

    assert codes.system_of("carc") == systems.CARC
    assert codes.system_of("rarc") == systems.RARC
    assert codes.system_of("claim_status") == systems.CLAIM_STATUS
    assert codes.system_of("claim_status_category") == systems.CLAIM_STATUS_CATEGORY
    assert codes.system_of("place_of_service") == systems.CMS_POS
    for name, element in (
        ("claim_filing_indicator", "1032"),
        ("individual_relationship", "1069"),
        ("service_type", "1365"),
        ("review_action", "306"),
        ("eligibility_benefit", "1390"),
        ("coverage_level", "1207"),
        ("time_period", "615"),
    ):
        assert codes.system_of(name) == systems.x12_element_system(element)


@pytest.mark.parametrize("name", codes.TABLES)
def test_file_layout(name: str) -> None:
    """Pretty-printed, one code per line, codes in natural order."""
    text = _raw(name)
    data = json.loads(text)
    assert text == json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    keys = list(data["codes"])
    assert keys == sorted(keys, key=_natural)
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(("code_set", "name"), sorted(COVERED.items()))
def test_guide_code_sets_are_described(code_set: str, name: str) -> None:
    table = codes.table(name)
    missing = [code for code in CODE_SETS[code_set] if not codes.describe(name, code)]
    assert not missing, missing
    assert set(CODE_SETS[code_set]) <= set(table)


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("carc", "1", "deductible"),
        ("carc", "2", "coinsurance"),
        ("carc", "45", "fee schedule"),
        ("rarc", "N130", "plan documents"),
        ("rarc", "M51", "procedure code"),
        ("claim_status_category", "A7", "invalid"),
        ("claim_status_category", "F1", "paid"),
        ("claim_status", "562", "npi"),
        ("service_type", "30", "health benefit plan coverage"),
        ("place_of_service", "11", "office"),
        ("claim_filing_indicator", "MB", "medicare part b"),
        ("individual_relationship", "18", "self"),
        ("review_action", "A1", "certified"),
        ("claim_frequency", "7", "replacement"),
        ("claim_frequency", "8", "void"),
        ("eligibility_benefit", "1", "active"),
        ("coverage_level", "FAM", "family"),
        ("time_period", "23", "calendar year"),
    ],
)
def test_describe_known_codes(name: str, code: str, words: str) -> None:
    description = codes.describe(name, code)
    assert description is not None and words in description.lower()


@pytest.mark.parametrize("name", codes.TABLES)
def test_describe_unknown_code_is_none(name: str) -> None:
    assert codes.describe(name, "NOT-A-CODE") is None
    assert codes.describe(name, "") is None


def test_unknown_table_raises_key_error() -> None:
    with pytest.raises(KeyError):
        codes.table("no_such_table")
    with pytest.raises(KeyError):
        codes.describe("no_such_table", "1")
    with pytest.raises(KeyError):
        codes.system_of("no_such_table")


def test_package_data_is_shipped() -> None:
    """Every table is package data: reachable via importlib.resources and matched by the
    setuptools package-data glob, and no stray data file exists."""
    data_dir = resources.files("mappers.codes").joinpath("data")
    for name in codes.TABLES:
        assert data_dir.joinpath(f"{name}.json").is_file(), name
    shipped = {entry.name for entry in data_dir.iterdir() if entry.name.endswith(".json")}
    assert shipped == {f"{name}.json" for name in codes.TABLES}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    assert "data/*.json" in package_data["mappers.codes"]
