"""The R4 primitive types as checks on JSON values (R4 datatypes.html, json.html#primitive).

Each check takes a parsed JSON value and returns None when it is a valid value of its type, or a
message naming the rule it breaks (never the value itself). The strict walk in
``server/fhir/validation.py`` applies them to every primitive it meets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

__all__ = ["CHECKS", "json_type"]

_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
#: R4 datatypes.html#string: "Strings SHALL NOT exceed 1MB (1024*1024 characters)".
_MAX_STRING: Final = 1024 * 1024

# --- primitive rules (R4 datatypes.html; regexes as published, matched in full) -------------

_YEAR: Final = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_TIME: Final = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE: Final = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_MONTH_DAY: Final = r"-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
_STRING_PATTERNS: Final[dict[str, str | None]] = {
    "string": None,
    "markdown": None,
    "xhtml": None,
    "code": r"[^\s]+(\s[^\s]+)*",
    "id": r"[A-Za-z0-9\-.]{1,64}",
    "uri": r"\S*",
    "url": r"\S*",
    "canonical": r"\S*",
    "oid": r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+",
    "uuid": r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "date": _YEAR + r"(" + _MONTH_DAY + r")?)?",
    "dateTime": _YEAR + r"(" + _MONTH_DAY + r"(T" + _TIME + _ZONE + r")?)?)?",
    "instant": _YEAR + _MONTH_DAY + r")T" + _TIME + _ZONE,
    "time": _TIME,
}
_LENGTH_LIMITED: Final = frozenset({"string", "markdown", "code", "id"})
_CALENDAR_TYPES: Final = frozenset({"date", "dateTime", "instant"})
_DAYS_IN_MONTH: Final = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: R4 string: "Regex: [ \r\n\t\S]+"; a string must hold at least one such character (the
#: R4B model applies the regex unanchored, with Unicode whitespace: "\u00a0" alone fails).
_STRING_CONTENT: Final = re.compile(r"[ \r\n\t\S]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
#: Canonical base64 (RFC 4648 section 4): whole quartets, "=" padding only at the end.
_BASE64: Final = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
#: Integers this long may be beyond ``str()`` (sys.get_int_max_str_digits); checked exactly.
_LONG_INT_BITS: Final = 4096

_Check = Callable[[Any], "str | None"]


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, (Decimal, float)):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _check_boolean(value: Any) -> str | None:
    if value is True or value is False:
        return None
    return f"boolean must be JSON true or false, not {json_type(value)}"


def _integer_check(type_code: str, minimum: int) -> _Check:
    def check(value: Any) -> str | None:
        if type(value) is not int:
            return f"{type_code} must be a JSON integer, not {json_type(value)}"
        if not minimum <= value <= _INT32_MAX:
            return f"{type_code} must be between {minimum} and {_INT32_MAX}"
        return None

    return check


def _check_decimal(value: Any) -> str | None:
    kind = type(value)
    if kind is Decimal:
        return None if value.is_finite() else "decimal must be a finite JSON number"
    if kind is int:
        return _check_int_digits(value)
    if kind is float:
        return None if math.isfinite(value) else "decimal must be a finite JSON number"
    return f"decimal must be a JSON number, not {json_type(value)}"


def _check_int_digits(value: int) -> str | None:
    """A decimal written as a JSON integer must be writable as JSON text again."""
    if value.bit_length() > _LONG_INT_BITS:
        try:
            str(value)
        except ValueError:
            return "decimal has more digits than a JSON number may have here"
    return None


def _string_check(type_code: str, pattern: str | None) -> _Check:
    compiled = re.compile(pattern) if pattern is not None else None
    limited = type_code in _LENGTH_LIMITED
    calendar = type_code in _CALENDAR_TYPES
    content = _STRING_CONTENT if type_code == "string" else None

    def check(value: Any) -> str | None:
        if type(value) is not str:
            return f"{type_code} must be a JSON string, not {json_type(value)}"
        if not value:
            return f"{type_code} must not be an empty string"
        if limited and len(value) > _MAX_STRING:
            return f"{type_code} must not exceed 1048576 characters"
        if not value.isascii() and _SURROGATE.search(value) is not None:
            return f"{type_code} must not contain unpaired UTF-16 surrogates (R4 json.html)"
        if compiled is not None and compiled.fullmatch(value) is None:
            return f"is not a valid {type_code} (R4 datatypes.html#{type_code})"
        if content is not None and content.search(value) is None:
            return "string must contain a character other than special whitespace (R4 regex)"
        if calendar and len(value) >= 10 and not _is_calendar_date(value):
            return f"{type_code} must be a valid calendar date (R4 datatypes.html#{type_code})"
        return None

    return check


def _is_calendar_date(value: str) -> bool:
    """Whether ``YYYY-MM-DD...`` (already matched by its regex) names a day that exists."""
    day = int(value[8:10])
    if day <= 28:
        return True
    month = int(value[5:7])
    if month != 2:
        return day <= _DAYS_IN_MONTH[month]
    year = int(value[:4])
    return day == 29 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _check_base64(value: Any) -> str | None:
    """R4 base64Binary; whitespace is tolerated, the rest must be whole base64 quartets."""
    if type(value) is not str:
        return f"base64Binary must be a JSON string, not {json_type(value)}"
    compact = "".join(value.split())
    if not compact or _BASE64.fullmatch(compact) is None:
        return "is not valid base64Binary (R4 datatypes.html#base64Binary)"
    return None


def _build_checks() -> dict[str, _Check]:
    checks: dict[str, _Check] = {
        "boolean": _check_boolean,
        "integer": _integer_check("integer", _INT32_MIN),
        "unsignedInt": _integer_check("unsignedInt", 0),
        "positiveInt": _integer_check("positiveInt", 1),
        "decimal": _check_decimal,
        "base64Binary": _check_base64,
    }
    for type_code, pattern in _STRING_PATTERNS.items():
        checks[type_code] = _string_check(type_code, pattern)
    return checks


CHECKS: Final[dict[str, _Check]] = _build_checks()
