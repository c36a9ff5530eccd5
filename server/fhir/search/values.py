"""Search values to IR conditions, one function per parameter type (R4 search.html#ptypes).

Malformed values raise :class:`~server.errors.InvalidSearchParameterError` naming the parameter;
they are never ignored, whatever the handling preference.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from capability.search_parameters import SearchParameter
from server.errors import InvalidSearchParameterError
from server.fhir.search.dates import parse_date_range
from server.storage.folding import fold
from server.storage.query import (
    CompositeCondition,
    Condition,
    DateCondition,
    LastUpdatedCondition,
    NearCondition,
    NumberCondition,
    Prefix,
    QuantityCondition,
    ReferenceCondition,
    StringCondition,
    StringMatch,
    TokenCondition,
    UriCondition,
    UriMatch,
)

__all__ = [
    "MODIFIERS",
    "condition_for",
    "split_prefix",
    "split_token",
    "split_unescaped",
    "unescape",
]

_PREFIXES = {p.value: p for p in Prefix}
_ESCAPE = re.compile(r"\\([\\,$|])")

#: Modifiers each parameter type accepts here (R4 search.html#modifiers); `:missing` is
#: handled for every type by the parser, reference type modifiers (`:Patient`) too.
MODIFIERS: dict[str, frozenset[str | None]] = {
    "token": frozenset({None, "not", "text", "of-type"}),
    "string": frozenset({None, "exact", "contains"}),
    "date": frozenset({None}),
    "number": frozenset({None}),
    "quantity": frozenset({None}),
    "reference": frozenset({None, "identifier"}),
    "uri": frozenset({None, "below", "above"}),
    "composite": frozenset({None}),
    "special": frozenset({None}),
}

#: Numbers beyond a double's range cannot be compared with stored values.
_LARGEST = Decimal("1e300")
_DISTANCE_UNITS = {"km": 1.0, "m": 0.001, "mi": 1.609344, "[mi_i]": 1.609344}


def _bad(name: str, what: str) -> InvalidSearchParameterError:
    return InvalidSearchParameterError(f"'{name}' needs {what}", expression=name)


def split_prefix(value: str) -> tuple[Prefix | None, str]:
    """A leading two-letter comparison prefix, if any."""
    prefix = _PREFIXES.get(value[:2])
    return (prefix, value[2:]) if prefix is not None else (None, value)


def unescape(value: str) -> str:
    """A value with its `\\,` `\\$` `\\|` `\\\\` escapes resolved (R4 search.html#escaping)."""
    return _ESCAPE.sub(r"\1", value) if "\\" in value else value


def split_unescaped(value: str, separator: str) -> list[str]:
    """``value`` split at each ``separator`` that is not escaped; escapes are kept in the
    parts (resolve them with :func:`unescape` once no more splitting is needed)."""
    parts: list[str] = []
    start = i = 0
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        if value[i] == separator:
            parts.append(value[start:i])
            start = i + 1
        i += 1
    parts.append(value[start:])
    return parts


def split_token(value: str) -> tuple[str | None, str | None]:
    """`[system]|[code]` or `code` (R4 search.html#token), honouring escapes (`\\|`)."""
    parts = split_unescaped(value, "|")
    if len(parts) == 1:
        return None, unescape(value)
    system, code = parts[0], "|".join(parts[1:])
    return unescape(system), (unescape(code) or None)


def _date(name: str, value: str) -> tuple[Prefix, int, int]:
    prefix, text = split_prefix(value)
    try:
        low, high = parse_date_range(text)
    except ValueError as exc:
        raise _bad(name, "a FHIR date, optionally prefixed (eq ne gt lt ge le sa eb ap)") from exc
    return prefix or Prefix.EQ, low, high


def _number(name: str, text: str) -> tuple[float, float, float]:
    """The value and its implicit precision range (search.html#number: 100 is [99.5, 100.5))."""
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise _bad(name, "a number, optionally prefixed") from exc
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int) or not -300 < exponent < 300 or abs(number) > _LARGEST:
        raise _bad(name, "a finite number")
    half = Decimal((0, (5,), exponent - 1))
    return float(number), float(number - half), float(number + half)


def _token(p: SearchParameter, modifier: str | None, value: str) -> TokenCondition:
    if modifier == "text":
        return TokenCondition(p.code, None, None, text=fold(unescape(value)))
    system, code = split_token(value)
    if modifier == "of-type":
        parts = [unescape(part) for part in split_unescaped(value, "|")]
        if len(parts) != 3 or not all(parts):
            raise _bad(p.code, "type-system|type-code|value for :of-type")
        return TokenCondition(p.code, parts[0], parts[1], of_type_value=parts[2])
    if p.type == "token" and system is None and code is None:
        raise _bad(p.code, "a token: [system]|[code]")
    return TokenCondition(p.code, system, code, negate=modifier == "not")


def _reference(
    p: SearchParameter, modifier: str | None, value: str, fhir_base: str
) -> ReferenceCondition:
    if modifier == "identifier":
        system, code = split_token(value)
        if code is None:
            raise _bad(p.code, "system|value for :identifier")
        return ReferenceCondition(p.code, identifier_system=system, identifier_value=code)
    target_type = modifier  # a type modifier such as :Patient, already checked
    value = unescape(value)
    local = value.removeprefix(fhir_base + "/") if value.startswith(fhir_base + "/") else value
    if "://" in local or local.startswith("urn:"):
        return ReferenceCondition(p.code, target_type=target_type, url=local.split("|")[0])
    parts = local.split("/")
    if len(parts) >= 4 and parts[2] == "_history":
        parts = parts[:2]
    if len(parts) == 2 and all(parts):
        if target_type is not None and parts[0] != target_type:
            raise _bad(p.code, f"a {target_type} reference")
        if parts[0] not in p.targets:
            raise _bad(p.code, f"a reference to one of {', '.join(p.targets)}")
        return ReferenceCondition(p.code, target_type=parts[0], target_id=parts[1])
    if len(parts) == 1 and parts[0]:
        only = p.targets[0] if len(p.targets) == 1 else None
        return ReferenceCondition(p.code, target_type=target_type or only, target_id=parts[0])
    raise _bad(p.code, "[Type/]id or an absolute URL")


def _quantity(p: SearchParameter, value: str) -> QuantityCondition:
    prefix, rest = split_prefix(value)
    parts = [unescape(part) for part in split_unescaped(rest, "|")]
    if len(parts) > 3:
        raise _bad(p.code, "[prefix]number[|system|code]")
    number, low, high = _number(p.code, parts[0])
    system: str | None = None
    code: str | None = None
    if len(parts) == 2:
        code = parts[1] or None
    elif len(parts) == 3:
        system, code = parts[1] or None, parts[2] or None
    return QuantityCondition(p.code, prefix or Prefix.EQ, number, low, high, system, code)


def _composite(p: SearchParameter, value: str) -> CompositeCondition:
    components = split_unescaped(value, "$")
    if len(components) != 2 or not all(components):
        raise _bad(p.code, "two components joined by '$'")
    first, second = components
    s1, c1 = split_token(first)
    s2, c2 = split_token(second)
    return CompositeCondition(p.code, s1, c1, s2, c2)


def _near(p: SearchParameter, value: str) -> NearCondition:
    parts = value.split("|")
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
        distance = float(parts[2]) if len(parts) > 2 and parts[2] else 50.0
    except (ValueError, IndexError) as exc:
        raise _bad(p.code, "latitude|longitude[|distance[|unit]]") from exc
    unit = parts[3] if len(parts) > 3 and parts[3] else "km"
    if unit not in _DISTANCE_UNITS or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise _bad(p.code, "a valid position and a distance in km, m or mi")
    return NearCondition(p.code, latitude, longitude, distance * _DISTANCE_UNITS[unit])


def condition_for(
    p: SearchParameter, modifier: str | None, value: str, fhir_base: str
) -> Condition:
    """One OR-value of parameter ``p`` as a condition."""
    match p.type:
        case "token":
            return _token(p, modifier, value)
        case "string":
            match = {"exact": StringMatch.EXACT, "contains": StringMatch.CONTAINS}.get(
                modifier or "", StringMatch.PREFIX
            )
            text = unescape(value)
            return StringCondition(
                p.code, text if match is StringMatch.EXACT else fold(text), match
            )
        case "date":
            op, low, high = _date(p.code, value)
            if p.code == "_lastUpdated":
                return LastUpdatedCondition(op, low, high)
            return DateCondition(p.code, op, low, high)
        case "number":
            prefix, rest = split_prefix(value)
            number, low_n, high_n = _number(p.code, rest)
            return NumberCondition(p.code, prefix or Prefix.EQ, number, low_n, high_n)
        case "quantity":
            return _quantity(p, value)
        case "reference":
            return _reference(p, modifier, value, fhir_base)
        case "uri":
            match_uri = {"below": UriMatch.BELOW, "above": UriMatch.ABOVE}.get(
                modifier or "", UriMatch.EQUAL
            )
            return UriCondition(p.code, unescape(value), match_uri)
        case "composite":
            return _composite(p, value)
        case "special":
            return _near(p, value)
    raise InvalidSearchParameterError(f"'{p.code}' cannot be searched", expression=p.code)
