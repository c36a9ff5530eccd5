"""Query string -> search IR: escapes, value forms, dates, and the parser's bookkeeping
(`:not` lists, `:missing` on column parameters, chain depth, repeated result parameters)."""

from __future__ import annotations

import pytest

from server.errors import InvalidSearchParameterError
from server.fhir.search.dates import DATE_CEILING_US, parse_date_range
from server.fhir.search.parser import MAX_LINKS, parse_search, split_values
from server.fhir.search.values import split_token, unescape
from server.settings import LimitsSettings
from server.storage.query import (
    ChainCondition,
    Clause,
    CompositeCondition,
    IdCondition,
    Prefix,
    QuantityCondition,
    ReferenceCondition,
    StringCondition,
    TokenCondition,
)

LIMITS = LimitsSettings(default_count=10, max_count=50)
BASE = "http://example.org/fhir"


def _where(rtype: str, *params: tuple[str, str]) -> tuple[Clause, ...]:
    return parse_search((rtype,), params, strict=True, limits=LIMITS, fhir_base=BASE).query.where


class TestEscapes:
    @pytest.mark.parametrize(
        ("raw", "values"),
        [
            ("a,b", ["a", "b"]),
            (r"a\,b,c", ["a,b", "c"]),
            (r"a\\,b", ["a\\", "b"]),
            (r"a\\\,b", ["a\\,b"]),
            (r"x\$y\|z", ["x$y|z"]),
            ("", [""]),
        ],
    )
    def test_or_values(self, raw: str, values: list[str]) -> None:
        assert [unescape(v) for v in split_values(raw)] == values

    @pytest.mark.parametrize(
        ("value", "token"),
        [
            ("code", (None, "code")),
            ("sys|code", ("sys", "code")),
            ("|code", ("", "code")),
            ("sys|", ("sys", None)),
            (r"sys|a\|b", ("sys", "a|b")),
            (r"a\|b", (None, "a|b")),
            (r"s\$|c\,", ("s$", "c,")),
        ],
    )
    def test_token(self, value: str, token: tuple[str | None, str | None]) -> None:
        assert split_token(value) == token

    def test_escaped_dollar_stays_in_a_composite_component(self) -> None:
        ((c,),) = [clause.any_of for clause in _where("Group", ("characteristic-value", r"a\$b$c"))]
        assert c == CompositeCondition("characteristic-value", None, "a$b", None, "c")

    def test_string_value_is_unescaped(self) -> None:
        ((c,),) = [clause.any_of for clause in _where("Organization", ("name", r"Acme\, Inc"))]
        assert c == StringCondition("name", "acme, inc")


class TestValues:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("5.4", (Prefix.EQ, 5.4, None, None)),
            (
                "gt5.4|http://unitsofmeasure.org|mg",
                (Prefix.GT, 5.4, "http://unitsofmeasure.org", "mg"),
            ),
            ("5.4||mg", (Prefix.EQ, 5.4, None, "mg")),
            ("le5.4|mg", (Prefix.LE, 5.4, None, "mg")),
        ],
    )
    def test_quantity(self, value: str, expected: tuple[object, ...]) -> None:
        ((c,),) = [clause.any_of for clause in _where("Encounter", ("length", value))]
        assert isinstance(c, QuantityCondition)
        assert (c.op, c.value, c.system, c.code) == expected

    @pytest.mark.parametrize("value", ["5|a|b|c", "abc", "1e999999999", "NaN", "gt"])
    def test_bad_quantity(self, value: str) -> None:
        with pytest.raises(InvalidSearchParameterError) as caught:
            _where("Encounter", ("length", value))
        assert caught.value.expression == ("length",)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("Patient/1", ReferenceCondition("patient", "Patient", "1")),
            ("1", ReferenceCondition("patient", "Patient", "1")),
            (f"{BASE}/Patient/1", ReferenceCondition("patient", "Patient", "1")),
            ("Patient/1/_history/3", ReferenceCondition("patient", "Patient", "1")),
            (
                "http://other.org/fhir/Patient/1",
                ReferenceCondition("patient", url="http://other.org/fhir/Patient/1"),
            ),
        ],
    )
    def test_reference(self, value: str, expected: ReferenceCondition) -> None:
        ((c,),) = [clause.any_of for clause in _where("Claim", ("patient", value))]
        assert c == expected

    @pytest.mark.parametrize("value", ["Patient/", "/1", "Observation/1", "Patient/1/2"])
    def test_bad_reference(self, value: str) -> None:
        with pytest.raises(InvalidSearchParameterError):
            _where("Claim", ("patient", value))


class TestDates:
    @pytest.mark.parametrize(
        ("text", "low", "high"),
        [
            ("2024", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
            ("2024-02", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"),
            ("2024-02-29", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"),
            ("2024-02-28T10:00+01:00", "2024-02-28T09:00:00Z", "2024-02-28T09:01:00Z"),
            ("2024-02-28T10:00:05Z", "2024-02-28T10:00:05Z", "2024-02-28T10:00:06Z"),
            ("2024-02-28T10:00:05.25Z", "2024-02-28T10:00:05.25Z", "2024-02-28T10:00:05.26Z"),
        ],
    )
    def test_ranges(self, text: str, low: str, high: str) -> None:
        assert parse_date_range(text) == (parse_date_range(low)[0], parse_date_range(high)[0])

    @pytest.mark.parametrize("text", ["9999", "9999-12", "9999-12-31", "9999-12-31T23:59:59Z"])
    def test_year_9999_ends_at_the_ceiling(self, text: str) -> None:
        low, high = parse_date_range(text)
        assert low < high == DATE_CEILING_US

    @pytest.mark.parametrize(
        "text", ["2024-13", "2024-02-30", "24", "2024-1-1", "2024-01-01T25:00Z"]
    )
    def test_not_dates(self, text: str) -> None:
        with pytest.raises(ValueError):
            parse_date_range(text)


class TestParser:
    def test_not_list_is_and(self) -> None:
        where = _where("Patient", ("gender:not", "male,other"))
        assert [c.any_of for c in where] == [
            (TokenCondition("gender", None, "male", negate=True),),
            (TokenCondition("gender", None, "other", negate=True),),
        ]

    @pytest.mark.parametrize("code", ["_id", "_lastUpdated"])
    def test_missing_on_column_parameters(self, code: str) -> None:
        assert _where("Claim", (f"{code}:missing", "true"))[0].any_of == (IdCondition(()),)
        assert _where("Claim", (f"{code}:missing", "false"))[0].any_of == (
            IdCondition((), negate=True),
        )

    def test_chain_depth(self) -> None:
        (clause,) = _where("Claim", ("patient.link.link.name", "x"))
        assert isinstance(clause.any_of[0], ChainCondition)
        assert MAX_LINKS == 3
        with pytest.raises(InvalidSearchParameterError) as caught:
            _where("Claim", ("patient.link.link.link.name", "x"))
        assert caught.value.expression == ("patient.link.link.link.name",)

    def test_malformed_value_in_a_chain_names_the_whole_parameter(self) -> None:
        with pytest.raises(InvalidSearchParameterError) as caught:
            _where("Claim", ("patient.birthdate", "someday"))
        assert caught.value.expression == ("patient.birthdate",)

    def test_repeated_result_parameters(self) -> None:
        params = [("_count", "5"), ("_count", "7"), ("_sort", "status"), ("_sort", "-created")]
        parsed = parse_search(("Claim",), params, strict=True, limits=LIMITS)
        assert parsed.query.count == 7
        assert [(k.param, k.descending) for k in parsed.query.sort] == [
            ("status", False),
            ("created", True),
        ]
        assert parsed.applied == (("_count", "7"), ("_sort", "status"), ("_sort", "-created"))

    def test_local_base(self) -> None:
        parsed = parse_search(("Claim",), [], strict=True, limits=LIMITS, fhir_base=BASE)
        assert parsed.query.local_base == BASE
        assert parse_search(("Claim",), [], strict=True, limits=LIMITS).query.local_base is None

    def test_id_takes_not_only(self) -> None:
        with pytest.raises(InvalidSearchParameterError):
            _where("Claim", ("_id:text", "x"))
        assert _where("Claim", ("_id:not", r"a,b\,c"))[0].any_of == (
            IdCondition(("a", "b,c"), negate=True),
        )
