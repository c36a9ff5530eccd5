"""server.fhir.json_codec: strict UTF-8 JSON in, exact decimals out (R4 json.html)."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import MalformedJsonError
from server.fhir.json_codec import dumps, dumps_pretty, loads, pretty
from tests.builders import claim

SECRET = "SECRET-PHI-4471"
POSITION = re.compile(r"line (\d+) column (\d+)")


def _position(error: pytest.ExceptionInfo[MalformedJsonError]) -> tuple[int, int]:
    match = POSITION.search(error.value.message)
    assert match is not None, error.value.message
    return int(match.group(1)), int(match.group(2))


# --- loads ----------------------------------------------------------------------------------


def test_decimals_keep_their_precision() -> None:
    value = loads(b'{"a": 1.50, "b": 1.5, "c": 100.00, "d": 0.10, "e": 7}')
    assert value == {"a": Decimal("1.50"), "b": Decimal("1.5"), "c": Decimal("100.00"),
                     "d": Decimal("0.10"), "e": 7}  # fmt: skip
    assert str(value["a"]) == "1.50" and str(value["b"]) == "1.5"
    assert type(value["e"]) is int


def test_str_input_is_accepted() -> None:
    assert loads('{"a": [true, null, "é"]}') == {"a": [True, None, "é"]}


@pytest.mark.parametrize("body", [b'\xef\xbb\xbf{"a": 1}', '\ufeff{"a": 1}'])
def test_a_leading_utf8_bom_is_dropped(body: bytes | str) -> None:
    assert loads(body) == {"a": 1}


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [
        (b'{"a": NaN}', 1, 7),
        (b'{"a": [1,\n  Infinity]}', 2, 3),
        (b'{"NaN": "Infinity", "b": -Infinity}', 1, 26),
    ],
)
def test_nan_and_infinity_are_rejected_with_their_position(
    body: bytes, line: int, column: int
) -> None:
    with pytest.raises(MalformedJsonError) as error:
        loads(body)
    assert _position(error) == (line, column)
    assert "NaN and Infinity" in error.value.message


def test_nan_inside_a_string_is_just_text() -> None:
    assert loads(b'{"a": "NaN"}') == {"a": "NaN"}


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [
        (b'{"a": 1, "a": 2}', 1, 1),
        (b'{"x": [1, {"b": 1,\n "b": 1}]}', 1, 11),
        (b'{\n  "item": {"sequence": 1, "net": {"value": 1, "value": 2}}}', 2, 34),
    ],
)
def test_duplicate_keys_are_rejected_naming_the_object(body: bytes, line: int, column: int) -> None:
    with pytest.raises(MalformedJsonError) as error:
        loads(body)
    assert "duplicate key" in error.value.message
    assert _position(error) == (line, column)


def test_invalid_utf8_is_rejected_with_its_position() -> None:
    with pytest.raises(MalformedJsonError) as error:
        loads(b'{\n "name": "ab\xff"}')
    assert "UTF-8" in error.value.message
    assert _position(error) == (2, 13)


def test_utf16_is_not_utf8() -> None:
    with pytest.raises(MalformedJsonError):
        loads('{"a": 1}'.encode("utf-16"))


def test_syntax_errors_give_line_and_column_without_echoing_input() -> None:
    with pytest.raises(MalformedJsonError) as error:
        loads(f'{{\n  "name": "{SECRET}",\n  "x": {SECRET}\n}}'.encode())
    assert _position(error) == (3, 8)
    assert SECRET not in error.value.message
    assert all(SECRET not in issue.message for issue in error.value.issues)


@pytest.mark.parametrize("body", [b"", b"   ", b'{"a": 1} x', b"{'a': 1}", b'{"a": 01}', b"[1,]"])
def test_non_json_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedJsonError):
        loads(body)


def test_control_characters_in_strings_are_rejected() -> None:
    with pytest.raises(MalformedJsonError):
        loads(b'{"a": "x\x01y"}')


def test_an_unpaired_surrogate_escape_is_rejected() -> None:
    with pytest.raises(MalformedJsonError, match="surrogate"):
        loads(b'{"a": "\\ud800"}')
    assert loads(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_deep_nesting_is_malformed_not_a_crash() -> None:
    with pytest.raises(MalformedJsonError, match="nesting"):
        loads(b"[" * 100_000)


def test_too_many_digits_is_malformed_not_a_crash() -> None:
    with pytest.raises(MalformedJsonError, match="digits"):
        loads(b'{"a": ' + b"9" * 10_000 + b"}")


def test_malformed_json_is_a_400_structure_issue() -> None:
    with pytest.raises(MalformedJsonError) as error:
        loads(b"{")
    assert error.value.http_status == 400
    assert error.value.issues[0].code == "structure"


def test_a_2kb_claim_parses_fast() -> None:
    body = dumps(claim(item=claim()["item"] * 6))
    assert 1500 < len(body) < 3000
    rounds = 300
    start = time.perf_counter()
    for _ in range(rounds):
        loads(body)
    per_call = (time.perf_counter() - start) / rounds
    assert per_call < 1e-3  # measured ~20 µs; the bound only catches a pathological regression


# --- dumps ----------------------------------------------------------------------------------


def test_dumps_is_compact_utf8_with_exact_decimals() -> None:
    value = {"a": Decimal("1.50"), "b": [Decimal("100.00"), 2], "name": "Zoë 東京"}
    assert dumps(value) == '{"a":1.50,"b":[100.00,2],"name":"Zoë 東京"}'.encode()


def test_round_trip_keeps_the_exact_text_of_numbers() -> None:
    body = b'{"a":1.50,"b":-0.0,"c":12345678901234567890.123456789,"d":[0.10,3]}'
    assert dumps(loads(body)) == body


def test_integers_beyond_64_bits_are_written() -> None:
    big = 123456789012345678901234567890
    assert dumps({"v": big, "w": [-big]}) == f'{{"v":{big},"w":[-{big}]}}'.encode()
    assert dumps_pretty({"v": big}) == f'{{\n  "v": {big}\n}}'.encode()


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), object()])
def test_values_that_are_not_json_raise_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        dumps({"a": value})


def test_dumps_pretty_indents_by_two_spaces() -> None:
    assert dumps_pretty({"a": [Decimal("1.50")]}) == b'{\n  "a": [\n    1.50\n  ]\n}'


def test_pretty_reindents_without_losing_precision_or_order() -> None:
    raw = b'{"z":1.50,"a":{"b":[0.10,"\xc3\xa9"]}}'
    assert (
        pretty(raw)
        == b'{\n  "z": 1.50,\n  "a": {\n    "b": [\n      0.10,\n      "\xc3\xa9"\n    ]\n  }\n}'
    )
    assert pretty(dumps(claim())) == dumps_pretty(claim())


_decimals = st.decimals(allow_nan=False, allow_infinity=False)
_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | _decimals | st.text()
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_dumps_then_loads_is_the_identity(value: Any) -> None:
    body = dumps(value)
    assert loads(body) == value
    assert dumps(loads(body)) == body
    assert loads(pretty(body)) == value
