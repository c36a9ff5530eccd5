"""Hypothesis strategies for values of every FHIR primitive type, valid and boundary."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, Final

from hypothesis import strategies as st

__all__ = ["PRIMITIVES"]

# --- values by FHIR type --------------------------------------------------------------------


def _weighted(common: list[Any], rare: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``common`` values (valid parts), sometimes ``rare`` ones (invalid parts)."""
    return st.sampled_from(common * 3 + rare)


_WHITESPACE: Final = [
    " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u1680", "\u2000",
    "\u2028", "\u2029", "\u202f", "\u3000", "\ufeff", "\u180e", "\x00", "\ud800",
]  # fmt: skip
_CHARS: Final = _WHITESPACE + ["a", "Z", "0", "9", "-", ".", ":", "/", "_", "é", "=", "+", "<"]
_text = st.text(alphabet=st.sampled_from(_CHARS), max_size=6)

_YEAR = _weighted(["2023", "2024", "1900", "2000", "2100", "0001", "9999"], ["0000", "999"])
_MONTH = _weighted(["01", "02", "04", "06", "09", "11", "12"], ["00", "13", "1"])
_DAY = _weighted(["01", "28", "29", "30", "31"], ["00", "32", "1"])
_HOUR = _weighted(["00", "12", "23"], ["24", "1"])
_MINUTE = _weighted(["00", "59"], ["60"])
_SECOND = _weighted(["00", "59", "60"], ["61"])
_FRACTION = _weighted(["", ".0", ".123", ".1234567", ".123456789012"], ["."])
_ZONE = _weighted(
    ["Z", "+00:00", "-00:00", "+14:00", "-14:00", "+13:59", "+05:30"],
    ["", "+14:01", "+0500", "z", "+24:00"],
)


@st.composite
def _clock(draw: st.DrawFn) -> str:
    """``hh:mm:ss[.fff]`` from boundary parts (24:00, 60 minutes, leap seconds, ...)."""
    return f"{draw(_HOUR)}:{draw(_MINUTE)}:{draw(_SECOND)}{draw(_FRACTION)}"


@st.composite
def _date_like(draw: st.DrawFn) -> str:
    """YYYY, YYYY-MM, YYYY-MM-DD or a full date-time, from boundary parts."""
    value: str = draw(_YEAR)
    depth = draw(st.sampled_from([0, 1, 2, 2, 2, 3, 3, 3]))
    if depth >= 1:
        value += "-" + draw(_MONTH)
    if depth >= 2:
        value += "-" + draw(_DAY)
    if depth >= 3:
        value += "T" + draw(_clock()) + draw(_ZONE)
    return value


_INTEGERS = st.sampled_from(
    [-(2**31) - 1, -(2**31), -1, 0, 1, 2, 2**31 - 1, 2**31, 10**20, -(10**5000)]
) | st.integers(-(2**33), 2**33)
_DECIMALS = (
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        [Decimal("1E+2"), Decimal("-0"), Decimal("0.000"), Decimal("1E-7"), 10**30, 10**5000, 1.5]
    )
    | _INTEGERS
)
_XHTML = st.sampled_from(
    [
        '<div xmlns="http://www.w3.org/1999/xhtml">ok</div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><p>a <b>b</b></p></div>',
        "<div>no namespace</div>",
        "<p>no div root</p>",
        "plain text",
        '<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>',
        '<div xmlns="http://www.w3.org/1999/xhtml">unclosed',
        '<div xmlns="http://www.w3.org/1999/xhtml"> </div>',
        '<div xmlns="http://www.w3.org/1999/xhtml"><img src="javascript:x"/></div>',
    ]
)
_BASE64 = st.text(alphabet=st.sampled_from("AQYWJjz09+/=-_ \n"), max_size=10) | st.sampled_from(
    ["YQ==", "YWI=", "YWJj", "YQ", "YQ===", "====", "ab=c", "a===", "YR==", "Y Q = =", "YWJj\n"]
)
_URIS: Final = [
    "http://example.org/x", "urn:oid:1.2.3", "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427",
    "Patient/1", "#p1", "http://", "http://a b", "foo:bar", "http://exa%mple.com", "//x",
    "http://[::1", "mailto:x@y", "string", "a:b", "",
]  # fmt: skip
_UUIDS: Final = [
    "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427",  # version 4
    "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",  # version 1 (valid R4)
    "urn:uuid:1B4E28BA-2FA1-41D2-883F-0016D3CCA427",
    "1b4e28ba-2fa1-41d2-883f-0016d3cca427",
    "urn:uuid:1b4e28ba2fa141d2883f0016d3cca427",
    "urn:uuid:{1b4e28ba-2fa1-41d2-883f-0016d3cca427}",
    "urn:uuid:00000000-0000-0000-0000-000000000000",
]
_OIDS: Final = ["urn:oid:1.2.3", "urn:oid:3.1", "urn:oid:1.02", "1.2.3", "urn:oid:2.16.840.1"]
# Copied on every draw: a later mutation may change a drawn list or object in place, and
# hypothesis replays a case only if drawing never depends on earlier cases.
_WRONG_JSON: st.SearchStrategy[Any] = st.sampled_from(
    [None, True, False, 0, -1, 1, Decimal("1.5"), "", " ", "x", "2024-01-01", [], {}, [None]]
).map(copy.deepcopy)


def _strings(*fixed: str) -> st.SearchStrategy[str]:
    return st.sampled_from(list(fixed)) | _text


#: Boundary values of each R4 primitive type (plus, sometimes, another JSON type).
PRIMITIVES: Final[dict[str, st.SearchStrategy[Any]]] = {
    "boolean": st.sampled_from([True, False, "true", 1, 0]),
    "integer": _INTEGERS,
    "unsignedInt": _INTEGERS,
    "positiveInt": _INTEGERS,
    "decimal": _DECIMALS,
    "string": _strings("x", " x", "x ", " ", "a\xa0b", "\xa0", "a\ud800"),
    "markdown": _strings("**x**", " "),
    "code": _strings("active", " active", "active ", "a  b", "a b", "a\tb", "A"),
    "id": _strings("a" * 64, "a" * 65, "a_b", "a.b-c", "1")
    | st.text(alphabet=st.sampled_from("aZ09-._ "), min_size=60, max_size=70),
    "uri": st.sampled_from(_URIS) | _text,
    "url": st.sampled_from(_URIS) | _text,
    "canonical": st.sampled_from(["http://example.org/x|1.0", *_URIS]) | _text,
    "oid": st.sampled_from(_OIDS) | _text,
    "uuid": st.sampled_from(_UUIDS) | _text,
    "date": _date_like(),
    "dateTime": _date_like(),
    "instant": _date_like(),
    "time": _clock() | _date_like(),
    "base64Binary": _BASE64,
    "xhtml": _XHTML | _text,
}
_VALID: Final[dict[str, Any]] = {
    "boolean": True, "integer": 1, "unsignedInt": 0, "positiveInt": 1, "decimal": Decimal("1.5"),
    "string": "x", "markdown": "x", "code": "x", "id": "a1", "uri": "http://example.org/x",
    "url": "http://example.org/x", "canonical": "http://example.org/x",
    "oid": "urn:oid:1.2.3", "uuid": "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427",
    "date": "2024-02-29", "dateTime": "2024-02-29T10:00:00Z",
    "instant": "2024-02-29T10:00:00.000Z", "time": "10:00:00", "base64Binary": "YWJj",
    "xhtml": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>',
}  # fmt: skip

_JSON = st.recursive(
    _WRONG_JSON,
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(
            st.sampled_from(["url", "value", "id", "extension", "x"]), inner, max_size=2
        )
    ),
    max_leaves=4,
)
_EXTENSION_URLS = st.sampled_from(["http://example.org/x", "x", "", " ", None, 1])


def _tricky(code: str) -> st.SearchStrategy[Any]:
    """Boundary values of primitive type ``code``, sometimes a value of another JSON type."""
    return st.one_of(PRIMITIVES[code], PRIMITIVES[code], PRIMITIVES[code], _WRONG_JSON)
