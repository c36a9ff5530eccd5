"""Write-time index extraction: search values pulled out of a resource once, when it is stored.

Like HAPI's index tables and Medplum's lookup tables, every search parameter of the resource's
type (``capability/search_parameter_table.py``: R4 plus CARIN BB 2.0.0) is evaluated on the
resource as it is written, and the values go to the adapter as plain entries
(``server/storage/index_entries.py``); searches then never parse stored JSON.

Each expression is compiled once per type (``server/storage/fhirpath.py``) and its values are
mapped by their FHIR data type, following R4 search.html:

- token: Coding (system, code, display as text), CodeableConcept (each coding, and its text as a
  text-only entry), Identifier (system, value, ``type.text`` as text, plus one
  ``<param>:of-type`` entry per type coding whose ``value`` is the identifier value),
  ContactPoint (the value, no system: search.html#token leaves the system column empty),
  code / id / string / uri primitives (code only), boolean (``true`` / ``false``);
- string: the value, or each part of a HumanName (family, given, prefix, suffix, text) or an
  Address (line, city, district, state, postalCode, country, text), normalised by
  :func:`normalize_string` and as written;
- date: date / dateTime / instant as the range their precision implies (UTC when no zone),
  Period as ``[start low, end high)`` with open ends at DATE_MIN_US / DATE_MAX_US, Timing as its
  events and ``repeat.boundsPeriod``;
- reference: see :class:`ReferenceEntry`; ``#contained`` literals are not indexed; canonical
  and uri values give ``url`` only (without a ``|version``);
- quantity: Quantity and its profiles (Age, Duration, ...), Money (system
  ``urn:iso:std:iso:4217``, code the currency), Range (``[low's low, high's high)``, an open end
  is infinite); number: decimal / integer; both with the range the value's precision implies
  (``100`` is ``[99.5, 100.5)``, ``1.50`` is ``[1.495, 1.505)``);
- uri: the value as written; composite: the pairs of its two token components within one
  element (``Group`` ``characteristic-value``); special ``near``: ``Location.position``.

Values of a type the parameter type cannot use (a string ``Procedure.performed`` for ``date``)
are skipped; a parameter none of whose possible types can be used fails at compile time.
Entries are de-duplicated and come in a deterministic order (table order, then document order).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any

from capability.search_parameter_table import ROWS
from capability.search_parameters import COLUMN_PARAMETERS
from server.fhir.search.dates import parse_date_range
from server.storage.fhirpath import (
    CompiledPath,
    Value,
    compile_expression,
    is_subtype,
    parse_literal_reference,
)
from server.storage.folding import fold
from server.storage.index_entries import (
    DATE_MAX_US,
    DATE_MIN_US,
    CompositeEntry,
    DateEntry,
    IndexEntry,
    NumberEntry,
    PositionEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
    UriEntry,
)

__all__ = [
    "IndexEntry",
    "TokenEntry",
    "compile_all",
    "extract_index",
    "map_value",
    "normalize_string",
]

_Out = dict[IndexEntry, None]
_Mapper = Callable[[str, Any, _Out], None]

#: Money has no system of its own; currencies are ISO 4217 codes.
ISO_4217 = "urn:iso:std:iso:4217"
_INF = float("inf")

# ---------------------------------------------------------------------------------------------
# Normalisation and precision
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def normalize_string(text: str) -> str:
    """Case- and accent-folded form for string matching (R4 search.html#string): exactly
    :func:`server.storage.folding.fold` (which search parsing uses too), with an ASCII fast path
    (NFKD and combining marks change nothing there, and casefold is lower)."""
    if text.isascii():
        return " ".join(text.lower().split())
    return fold(text)


def _text(value: Any) -> str | None:
    return normalize_string(value) if isinstance(value, str) and value else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _precision_range(value: Any) -> tuple[float, float] | None:
    """``[value - ½ unit, value + ½ unit)`` of the last significant digit as written."""
    if type(value) is bool:
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        return None
    if not number.is_finite():
        return None
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    half = Decimal((0, (5,), exponent - 1))
    return float(number - half), float(number + half)


def _date_range(text: Any) -> tuple[int, int] | None:
    return _parse_date(text) if isinstance(text, str) else None


@lru_cache(maxsize=8192)
def _parse_date(text: str) -> tuple[int, int] | None:
    try:
        return parse_date_range(text)
    except (ValueError, OverflowError):
        # Year 9999 ends past what datetime holds: shift a year down (9998 and 9999 are both
        # common years, so month and day offsets are the same) and back up.
        if not text.startswith("9999"):
            return None
        try:
            low, high = parse_date_range("9998" + text[4:])
        except (ValueError, OverflowError):
            return None
        year_us = 365 * 86_400 * 1_000_000
        return low + year_us, min(high + year_us, DATE_MAX_US)


# ---------------------------------------------------------------------------------------------
# token
# ---------------------------------------------------------------------------------------------


def _token_coding(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    system, code, text = (
        _str(node.get("system")),
        _str(node.get("code")),
        _text(node.get("display")),
    )
    if system is not None or code is not None or text is not None:
        out[TokenEntry(param, system, code, text)] = None


def _token_concept(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    for coding in node.get("coding") or ():
        _token_coding(param, coding, out)
    text = _text(node.get("text"))
    if text is not None:
        out[TokenEntry(param, None, None, text)] = None


def _token_identifier(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    system, value = _str(node.get("system")), _str(node.get("value"))
    type_ = node.get("type")
    text = _text(type_.get("text")) if isinstance(type_, dict) else None
    if system is not None or value is not None:
        out[TokenEntry(param, system, value, text)] = None
    if value is not None and isinstance(type_, dict):
        of_type = f"{param}:of-type"
        for coding in type_.get("coding") or ():
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                out[
                    TokenEntry(of_type, _str(coding.get("system")), coding["code"], None, value)
                ] = None


def _token_contact_point(param: str, node: Any, out: _Out) -> None:
    if isinstance(node, dict) and isinstance(node.get("value"), str):
        out[TokenEntry(param, None, node["value"])] = None


def _token_primitive(param: str, node: Any, out: _Out) -> None:
    if isinstance(node, str):
        out[TokenEntry(param, None, node)] = None


def _token_boolean(param: str, node: Any, out: _Out) -> None:
    if type(node) is bool:
        out[TokenEntry(param, None, "true" if node else "false")] = None


# ---------------------------------------------------------------------------------------------
# string
# ---------------------------------------------------------------------------------------------


def _string_value(param: str, node: Any, out: _Out) -> None:
    if isinstance(node, str) and node:
        out[StringEntry(param, normalize_string(node), node)] = None


def _string_parts(
    param: str, node: Any, out: _Out, single: tuple[str, ...], many: tuple[str, ...]
) -> None:
    if not isinstance(node, dict):
        return
    for key in many:
        for part in node.get(key) or ():
            _string_value(param, part, out)
    for key in single:
        _string_value(param, node.get(key), out)


def _string_human_name(param: str, node: Any, out: _Out) -> None:
    _string_parts(param, node, out, ("family",), ("given", "prefix", "suffix"))
    if isinstance(node, dict):
        _string_value(param, node.get("text"), out)


def _string_address(param: str, node: Any, out: _Out) -> None:
    _string_parts(
        param,
        node,
        out,
        ("city", "district", "state", "postalCode", "country", "text"),
        ("line",),
    )


# ---------------------------------------------------------------------------------------------
# date
# ---------------------------------------------------------------------------------------------


def _date_value(param: str, node: Any, out: _Out) -> None:
    found = _date_range(node)
    if found is not None:
        out[DateEntry(param, found[0], found[1])] = None


def _date_period(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    start, end = _date_range(node.get("start")), _date_range(node.get("end"))
    if start is None and end is None:
        return
    low = start[0] if start is not None else DATE_MIN_US
    high = end[1] if end is not None else DATE_MAX_US
    out[DateEntry(param, low, high)] = None


def _date_timing(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    for event in node.get("event") or ():
        _date_value(param, event, out)
    repeat = node.get("repeat")
    if isinstance(repeat, dict):
        _date_period(param, repeat.get("boundsPeriod"), out)


# ---------------------------------------------------------------------------------------------
# reference, uri
# ---------------------------------------------------------------------------------------------


def _reference(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    literal = node.get("reference")
    target_type = _str(node.get("type"))
    target_id = url = None
    if isinstance(literal, str) and not literal.startswith("#"):
        parsed = parse_literal_reference(literal)
        if parsed is not None:
            target_type, target_id, url = parsed
        else:
            url = literal
    identifier = node.get("identifier")
    id_system = id_value = None
    if isinstance(identifier, dict):
        id_system, id_value = _str(identifier.get("system")), _str(identifier.get("value"))
    if url is None and id_system is None and id_value is None:
        return  # display only, or a contained resource
    out[ReferenceEntry(param, target_type, target_id, url, id_system, id_value)] = None


def _reference_canonical(param: str, node: Any, out: _Out) -> None:
    if isinstance(node, str) and node:
        out[ReferenceEntry(param, None, None, node.split("|", 1)[0])] = None


def _uri(param: str, node: Any, out: _Out) -> None:
    if isinstance(node, str) and node:
        out[UriEntry(param, node)] = None


# ---------------------------------------------------------------------------------------------
# quantity, number, position
# ---------------------------------------------------------------------------------------------


def _quantity(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    found = _precision_range(node.get("value"))
    if found is not None:
        entry = QuantityEntry(
            param,
            found[0],
            found[1],
            _str(node.get("system")),
            _str(node.get("code")),
            _str(node.get("unit")),
        )
        out[entry] = None


def _money(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    found = _precision_range(node.get("value"))
    if found is not None:
        currency = _str(node.get("currency"))
        out[QuantityEntry(param, found[0], found[1], ISO_4217, currency, None)] = None


def _range(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    low, high = node.get("low"), node.get("high")
    low = low if isinstance(low, dict) else {}
    high = high if isinstance(high, dict) else {}
    low_range, high_range = _precision_range(low.get("value")), _precision_range(high.get("value"))
    if low_range is None and high_range is None:
        return
    unit_of = low if low_range is not None else high
    out[
        QuantityEntry(
            param,
            low_range[0] if low_range is not None else -_INF,
            high_range[1] if high_range is not None else _INF,
            _str(unit_of.get("system")),
            _str(unit_of.get("code")),
            _str(unit_of.get("unit")),
        )
    ] = None


def _number(param: str, node: Any, out: _Out) -> None:
    found = _precision_range(node)
    if found is not None:
        out[NumberEntry(param, found[0], found[1])] = None


def _position(param: str, node: Any, out: _Out) -> None:
    if not isinstance(node, dict):
        return
    latitude, longitude = node.get("latitude"), node.get("longitude")
    if _precision_range(latitude) is None or _precision_range(longitude) is None:
        return
    assert latitude is not None and longitude is not None
    out[PositionEntry(param, float(latitude), float(longitude))] = None


# ---------------------------------------------------------------------------------------------
# What each parameter type can index, by FHIR type (subtypes inherit: Age is a Quantity)
# ---------------------------------------------------------------------------------------------

_MAPPERS: dict[str, dict[str, _Mapper]] = {
    "token": {
        "Coding": _token_coding,
        "CodeableConcept": _token_concept,
        "Identifier": _token_identifier,
        "ContactPoint": _token_contact_point,
        "string": _token_primitive,
        "uri": _token_primitive,
        "boolean": _token_boolean,
    },
    "string": {
        "string": _string_value,
        "HumanName": _string_human_name,
        "Address": _string_address,
    },
    "date": {
        "date": _date_value,
        "dateTime": _date_value,
        "instant": _date_value,
        "Period": _date_period,
        "Timing": _date_timing,
    },
    "reference": {
        "Reference": _reference,
        "uri": _reference_canonical,
    },
    "quantity": {
        "Quantity": _quantity,
        "Money": _money,
        "Range": _range,
    },
    "number": {
        "decimal": _number,
        "integer": _number,
    },
    "uri": {
        "uri": _uri,
    },
    "special": {
        "Location.position": _position,
    },
}


def _mapper_for(param_type: str, fhir_type: str) -> _Mapper | None:
    table = _MAPPERS.get(param_type, {})
    for name, mapper in table.items():
        if is_subtype(fhir_type, name):
            return mapper
    return None


# ---------------------------------------------------------------------------------------------
# Compiled parameters
# ---------------------------------------------------------------------------------------------

#: (param code, top-level keys one of which must be present or None, path, mapper by type)
_Row = tuple[str, tuple[str, ...] | None, CompiledPath, dict[str, _Mapper]]

_DEFINITIONS: dict[str, tuple[str, str]] = {
    row[5].rsplit("/", 1)[-1]: (row[0], row[2]) for row in ROWS
}


def _composite_mapper(
    resource_type: str,
    code: str,
    path: CompiledPath,
    components: tuple[tuple[str, str], ...],
) -> dict[str, _Mapper]:
    if len(components) != 2 or len(path.types) != 1:
        raise ValueError(f"{resource_type}.{code}: only two-component composites are supported")
    (context,) = path.types
    compiled: list[tuple[CompiledPath, dict[str, _Mapper]]] = []
    for definition, expression in components:
        found = _DEFINITIONS.get(definition)
        if found is None or found[1] != "token":
            raise ValueError(f"{resource_type}.{code}: component {definition} is not a token")
        component = compile_expression(expression, context)
        compiled.append((component, _type_mappers(resource_type, code, "token", component)))
    (first, first_mappers), (second, second_mappers) = compiled

    def tokens(path: CompiledPath, mappers: dict[str, _Mapper], node: Any) -> list[TokenEntry]:
        found: _Out = {}
        for value in path.evaluate(node):
            mapper = mappers.get(value.type or "")
            if mapper is not None:
                mapper("", value.node, found)
        return [e for e in found if isinstance(e, TokenEntry) and e.code is not None]

    def composite(param: str, node: Any, out: _Out) -> None:
        if not isinstance(node, dict):
            return
        lefts = tokens(first, first_mappers, node)
        if not lefts:
            return
        for right in tokens(second, second_mappers, node):
            for left in lefts:
                out[CompositeEntry(param, left.system, left.code, right.system, right.code)] = None

    return {context: composite}


def _type_mappers(
    resource_type: str, code: str, param_type: str, path: CompiledPath
) -> dict[str, _Mapper]:
    mappers: dict[str, _Mapper] = {}
    for fhir_type in sorted(path.types):
        mapper = _mapper_for(param_type, fhir_type)
        if mapper is not None:
            mappers[fhir_type] = mapper
    if not mappers:
        raise ValueError(
            f"{resource_type}.{code}: a {param_type} parameter cannot index "
            f"{sorted(path.types)} ({path.expression})"
        )
    return mappers


def _compile_type(resource_type: str) -> tuple[_Row, ...]:
    rows: list[_Row] = []
    for type_, code, param_type, expression, _targets, _url, components in ROWS:
        if type_ != resource_type or expression is None:
            continue
        path = compile_expression(expression, resource_type)
        if param_type == "composite":
            mappers = _composite_mapper(resource_type, code, path, components)
            rows.append((code, _needs(path), path, mappers))
        elif param_type == "special" and code != "near":
            raise ValueError(f"{resource_type}.{code}: unsupported special parameter")
        else:
            mappers = _type_mappers(resource_type, code, param_type, path)
            rows.append((code, _needs(path), path, mappers))
    return tuple(rows)


def _needs(path: CompiledPath) -> tuple[str, ...] | None:
    return None if path.needs is None else tuple(sorted(path.needs))


_COMPILED: dict[str, tuple[_Row, ...]] = {}


def _rows(resource_type: str) -> tuple[_Row, ...]:
    rows = _COMPILED.get(resource_type)
    if rows is None:
        rows = _COMPILED[resource_type] = _compile_type(resource_type)
    return rows


def map_value(param: str, param_type: str, value: Value) -> list[IndexEntry]:
    """The entries one evaluated value gives a parameter of ``param_type`` (empty when that
    type cannot index it)."""
    out: _Out = {}
    mapper = _mapper_for(param_type, value.type) if value.type is not None else None
    if mapper is not None:
        mapper(param, value.node, out)
    return list(out)


def compile_all() -> int:
    """Compile the parameters of every type now (start-up, tests); the number compiled."""
    return sum(len(_rows(t)) for t in sorted({row[0] for row in ROWS}))


def extract_index(resource_type: str, resource: dict[str, Any]) -> list[IndexEntry]:
    """Index entries of every search parameter of ``resource_type``, de-duplicated, in table
    order then document order. ``_id`` and ``_lastUpdated`` are answered from the resource
    row itself (``capability.search_parameters.COLUMN_PARAMETERS``) and are not indexed."""
    out: _Out = {}
    for param, needs, path, mappers in _rows(resource_type):
        if param in COLUMN_PARAMETERS:
            continue
        if needs is not None:
            for key in needs:
                if key in resource:
                    break
            else:
                continue
        for value in path.evaluate(resource):
            mapper = mappers.get(value.type or "")
            if mapper is not None:
                mapper(param, value.node, out)
    return list(out)
