"""Compiles the search IR (``server/storage/query.py``) to SQLite SQL.

Each condition becomes a predicate over the index table of its parameter type. The most
selective clause of a query drives it (``r.pk IN (SELECT pk FROM sp_x WHERE ...)``, which SQLite
runs as rowid lookups); the others are correlated ``EXISTS`` probes on the ``(pk, param)``
index, so a narrow condition is never slowed by a broad one (a patient plus a year of service
dates does not materialise the whole year). Date semantics follow R4 search.html#date over
stored ranges; numbers and quantities follow search.html#number.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from server.storage.query import (
    ChainCondition,
    Clause,
    CompositeCondition,
    Condition,
    DateCondition,
    Guard,
    HasCondition,
    IdCondition,
    LastUpdatedCondition,
    MissingCondition,
    NearCondition,
    NumberCondition,
    Prefix,
    QuantityCondition,
    ReferenceCondition,
    SortKey,
    StringCondition,
    StringMatch,
    TokenCondition,
    UriCondition,
    UriMatch,
)
from server.storage.sqlite_schema import TABLE_OF_KIND

__all__ = [
    "ASC_MISSING",
    "DESC_MISSING",
    "SORTABLE_KINDS",
    "Sql",
    "distance_km",
    "guard_sql",
    "sort_expression",
    "where_sql",
]

#: Upper bound appended to a prefix for a range scan (BINARY collation compares UTF-8 bytes).
_PREFIX_END = "\U0010ffff"

#: Sort sentinels: missing values sort last in both directions.
ASC_MISSING = b"\xff"
DESC_MISSING = -(2**63)


@dataclass
class Sql:
    """Accumulates bound arguments and hands out fresh table aliases; ``local_base`` is the
    server's own FHIR base (:attr:`SearchQuery.local_base`), ``guard`` what the caller's token
    may reach (applied by :func:`guard_sql` wherever a resource row enters the query)."""

    args: list[Any] = field(default_factory=list)
    local_base: str | None = None
    guard: Guard | None = None
    _aliases: int = 0

    def alias(self, stem: str) -> str:
        self._aliases += 1
        return f"{stem}{self._aliases}"

    def bind(self, *values: Any) -> str:
        self.args.extend(values)
        return ", ".join("?" * len(values))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371.0088 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


# --- value predicates over an index-table alias ---------------------------------------------


def _range_predicate(x: str, op: Prefix, low: int | float, high: int | float, b: Sql) -> str:
    """Stored ranges [x.low, x.high) against the search range [low, high) (search.html#date)."""
    lo, hi = f"{x}.low", f"{x}.high"
    match op:
        case Prefix.EQ:
            return f"({lo} >= {b.bind(low)} AND {hi} <= {b.bind(high)})"
        case Prefix.NE:
            return f"NOT ({lo} >= {b.bind(low)} AND {hi} <= {b.bind(high)})"
        case Prefix.GT:
            return f"{hi} > {b.bind(high)}"
        case Prefix.LT:
            return f"{lo} < {b.bind(low)}"
        case Prefix.GE:
            return f"({hi} > {b.bind(high)} OR ({lo} >= {b.bind(low)} AND {hi} <= {b.bind(high)}))"
        case Prefix.LE:
            return f"({lo} < {b.bind(low)} OR ({lo} >= {b.bind(low)} AND {hi} <= {b.bind(high)}))"
        case Prefix.SA:
            return f"{lo} >= {b.bind(high)}"
        case Prefix.EB:
            return f"{hi} <= {b.bind(low)}"
        case Prefix.AP:
            margin = _ap_margin(low, high)
            return f"({lo} < {b.bind(high + margin)} AND {hi} > {b.bind(low - margin)})"
    raise AssertionError(op)  # pragma: no cover


def _ap_margin(low: int | float, high: int | float) -> int | float:
    """`ap`: 10% of the distance from now, at least the search range itself (search.html#prefix)."""
    now = time.time_ns() // 1000
    return max(abs(now - low) // 10, high - low)


def _point_predicate(column: str, op: Prefix, value: float, low: float, high: float, b: Sql) -> str:
    """A stored number against a search number with implicit precision (search.html#number)."""
    match op:
        case Prefix.EQ:
            return f"({column} >= {b.bind(low)} AND {column} < {b.bind(high)})"
        case Prefix.NE:
            return f"NOT ({column} >= {b.bind(low)} AND {column} < {b.bind(high)})"
        case Prefix.GT | Prefix.SA:
            return f"{column} > {b.bind(value)}"
        case Prefix.LT | Prefix.EB:
            return f"{column} < {b.bind(value)}"
        case Prefix.GE:
            return f"{column} >= {b.bind(value)}"
        case Prefix.LE:
            return f"{column} <= {b.bind(value)}"
        case Prefix.AP:
            margin = abs(value) * 0.1
            low_ap, high_ap = b.bind(value - margin), b.bind(value + margin)
            return f"({column} >= {low_ap} AND {column} <= {high_ap})"
    raise AssertionError(op)  # pragma: no cover


def _token_predicate(x: str, c: TokenCondition, b: Sql) -> str:
    parts: list[str] = []
    if c.text is not None:
        return f"({x}.text >= {b.bind(c.text)} AND {x}.text < {b.bind(c.text + _PREFIX_END)})"
    if c.of_type_value is not None:
        parts.append(f"{x}.value = {b.bind(c.of_type_value)}")
    if c.code is not None:
        parts.append(f"{x}.code = {b.bind(c.code)}")
    if c.system == "":
        parts.append(f"{x}.system IS NULL")
    elif c.system is not None:
        parts.append(f"{x}.system = {b.bind(c.system)}")
    return " AND ".join(parts) or "1"


def _string_predicate(x: str, c: StringCondition, b: Sql) -> str:
    match c.match:
        case StringMatch.EXACT:
            return f"{x}.exact = {b.bind(c.value)}"
        case StringMatch.CONTAINS:
            return f"instr({x}.normalized, {b.bind(c.value)}) > 0"
    return (
        f"{x}.normalized >= {b.bind(c.value)} AND {x}.normalized < {b.bind(c.value + _PREFIX_END)}"
    )


def local_reference(x: str, b: Sql) -> str:
    """The reference in index alias ``x`` is a literal one to a resource of this server:
    relative (``Patient/1``, stored as written without a version) or absolute under our base.
    A reference to another server's ``.../Patient/1`` is not ours (R4 search.html#reference)."""
    if b.local_base is None:
        return "1"
    relative = f"{x}.target_type || '/' || {x}.target_id"
    return f"({x}.url = {relative} OR {x}.url = {b.bind(b.local_base + '/')} || {relative})"


def _reference_predicate(x: str, c: ReferenceCondition, b: Sql) -> str:
    parts: list[str] = []
    if c.identifier_value is not None:
        parts.append(f"{x}.id_value = {b.bind(c.identifier_value)}")
        if c.identifier_system is not None:
            parts.append(f"{x}.id_system = {b.bind(c.identifier_system)}")
    if c.target_id is not None:
        parts.append(f"{x}.target_id = {b.bind(c.target_id)}")
    if c.url is not None:
        parts.append(f"{x}.url = {b.bind(c.url)}")
    if c.target_type is not None:
        parts.append(f"{x}.target_type = {b.bind(c.target_type)}")
    if c.target_id is not None and c.url is None:
        if c.target_type is not None and b.local_base is not None:
            relative = f"{c.target_type}/{c.target_id}"
            parts.append(f"{x}.url IN ({b.bind(relative, f'{b.local_base}/{relative}')})")
        else:
            parts.append(local_reference(x, b))
    return " AND ".join(parts) or "1"


def _uri_predicate(x: str, c: UriCondition, b: Sql) -> str:
    match c.match:
        case UriMatch.BELOW:
            return f"{x}.value >= {b.bind(c.value)} AND {x}.value < {b.bind(c.value + _PREFIX_END)}"
        case UriMatch.ABOVE:
            return f"instr({b.bind(c.value)}, {x}.value) = 1"
    return f"{x}.value = {b.bind(c.value)}"


def _composite_predicate(x: str, c: CompositeCondition, b: Sql) -> str:
    parts: list[str] = []
    for n, system, code in ((1, c.first_system, c.first_code), (2, c.second_system, c.second_code)):
        if code is not None:
            parts.append(f"{x}.code{n} = {b.bind(code)}")
        if system == "":
            parts.append(f"{x}.system{n} IS NULL")
        elif system is not None:
            parts.append(f"{x}.system{n} = {b.bind(system)}")
    return " AND ".join(parts) or "1"


def _near_predicate(x: str, c: NearCondition, b: Sql) -> str:
    dlat = c.distance_km / 111.0
    scale = max(math.cos(math.radians(c.latitude)), 1e-6)
    dlon = min(180.0, c.distance_km / (111.0 * scale))
    return (
        f"{x}.latitude BETWEEN {b.bind(c.latitude - dlat)} AND {b.bind(c.latitude + dlat)} "
        f"AND {x}.longitude BETWEEN {b.bind(c.longitude - dlon)} AND "
        f"{b.bind(c.longitude + dlon)} AND facade_distance_km({x}.latitude, {x}.longitude, "
        f"{b.bind(c.latitude)}, {b.bind(c.longitude)}) <= {b.bind(c.distance_km)}"
    )


_TABLES: dict[type, str] = {
    TokenCondition: "sp_token",
    StringCondition: "sp_string",
    DateCondition: "sp_date",
    NumberCondition: "sp_number",
    QuantityCondition: "sp_quantity",
    ReferenceCondition: "sp_reference",
    UriCondition: "sp_uri",
    CompositeCondition: "sp_composite",
    NearCondition: "sp_position",
}


IndexCondition = (
    TokenCondition
    | StringCondition
    | DateCondition
    | NumberCondition
    | QuantityCondition
    | ReferenceCondition
    | UriCondition
    | CompositeCondition
    | NearCondition
)


def _index_target(c: IndexCondition) -> tuple[str, str]:
    """(index table, indexed param name) of a condition on an index table."""
    param = c.param
    if isinstance(c, TokenCondition) and c.of_type_value is not None:
        param = f"{param}:of-type"
    return _TABLES[type(c)], param


def _index_predicate(c: IndexCondition, x: str, b: Sql) -> str:
    """The predicate over index-table alias ``x`` (binds its arguments in text order)."""
    match c:
        case TokenCondition():
            return _token_predicate(x, c, b)
        case StringCondition():
            return _string_predicate(x, c, b)
        case DateCondition():
            return _range_predicate(x, c.op, c.low_us, c.high_us, b)
        case NumberCondition():
            return _point_predicate(f"{x}.value", c.op, c.value, c.low, c.high, b)
        case QuantityCondition():
            predicate = _point_predicate(f"{x}.value", c.op, c.value, c.low, c.high, b)
            if c.code:
                predicate += f" AND ({x}.code = {b.bind(c.code)} OR {x}.unit = {b.bind(c.code)})"
            if c.system:
                predicate += f" AND {x}.system = {b.bind(c.system)}"
            return predicate
        case ReferenceCondition():
            return _reference_predicate(x, c, b)
        case UriCondition():
            return _uri_predicate(x, c, b)
        case CompositeCondition():
            return _composite_predicate(x, c, b)
        case NearCondition():
            return _near_predicate(x, c, b)
    raise TypeError(f"not an index condition: {c!r}")  # pragma: no cover


# --- conditions on a resource alias ---------------------------------------------------------

_SELECTIVE = (TokenCondition, ReferenceCondition, CompositeCondition, UriCondition, StringCondition)


def _score(c: Condition) -> int:
    """How well a condition can drive a query (higher: fewer rows)."""
    if isinstance(c, IdCondition):
        return 0 if c.negate else 5
    if isinstance(c, TokenCondition):
        return 0 if c.negate else (3 if c.code is not None and c.text is None else 1)
    if isinstance(c, StringCondition):
        return 3 if c.match is StringMatch.EXACT else (2 if c.match is StringMatch.PREFIX else 0)
    if isinstance(c, ReferenceCondition | CompositeCondition):
        return 3
    if isinstance(c, UriCondition):
        return 3 if c.match is UriMatch.EQUAL else 1
    if isinstance(c, ChainCondition | HasCondition):
        return 2
    return 1 if isinstance(c, DateCondition | NumberCondition | QuantityCondition) else 0


def clause_score(clause: Clause) -> int:
    return min(_score(c) for c in clause.any_of)


def _driver(c: Condition, r: str, b: Sql) -> str | None:
    """``r.pk IN (subquery)`` for index conditions, chains and _has; None otherwise."""
    if isinstance(c, ChainCondition):
        ref, t = b.alias("ref"), b.alias("t")
        param = b.bind(c.param)
        types = type_filter(t, c.target_types, b, driven=_drives(c.inner))
        inner = condition_sql(c.inner, t, b, drive=True)
        guard = guard_sql(t, b, c.target_types)
        local = local_reference(ref, b)
        return (
            f"{r}.pk IN (SELECT {ref}.pk FROM sp_reference {ref} WHERE {ref}.param = {param} "
            f"AND ({ref}.target_type, {ref}.target_id) IN (SELECT {t}.type, {t}.id FROM "
            f"resource {t} WHERE {types} AND {inner} AND {guard}) AND {local})"
        )
    if isinstance(c, HasCondition):
        return None
    if isinstance(c, IdCondition | LastUpdatedCondition | MissingCondition):
        return None
    if isinstance(c, TokenCondition) and c.negate:
        return None
    x = b.alias("x")
    table, param = _index_target(c)
    return (
        f"{r}.pk IN (SELECT {x}.pk FROM {table} {x} WHERE {x}.param = {b.bind(param)} "
        f"AND {_index_predicate(c, x, b)})"
    )


def condition_sql(c: Condition, r: str, b: Sql, *, drive: bool = False) -> str:
    """A boolean SQL expression: the resource row ``r`` satisfies ``c``."""
    if isinstance(c, IdCondition):
        op = "NOT IN" if c.negate else "IN"
        return f"{r}.id {op} ({b.bind(*c.ids)})"
    if isinstance(c, LastUpdatedCondition):
        point = f"{r}.updated_us"
        return _point_on_range(point, c.op, c.low_us, c.high_us, b)
    if isinstance(c, MissingCondition):
        table = TABLE_OF_KIND[c.kind]
        x = b.alias("x")
        exists = (
            f"EXISTS (SELECT 1 FROM {table} {x} INDEXED BY {table}_pk WHERE {x}.pk = {r}.pk "
            f"AND {x}.param = {b.bind(c.param)})"
        )
        return f"NOT {exists}" if c.missing else exists
    if isinstance(c, HasCondition):
        ref, s = b.alias("ref"), b.alias("s")
        param, source = b.bind(c.param), b.bind(c.source_type)
        inner = condition_sql(c.inner, s, b, drive=True)
        guard = guard_sql(s, b, (c.source_type,))
        local = local_reference(ref, b)
        return (
            f"({r}.type, {r}.id) IN (SELECT {ref}.target_type, {ref}.target_id FROM sp_reference "
            f"{ref} JOIN resource {s} ON {s}.pk = {ref}.pk WHERE {ref}.param = {param} AND "
            f"{'+' if _drives(c.inner) else ''}{s}.type = {source} AND {s}.deleted = 0 "
            f"AND {inner} AND {guard} AND {local})"
        )
    if drive:
        driven = _driver(c, r, b)
        if driven is not None:
            return driven
    if isinstance(c, ChainCondition):
        driven = _driver(c, r, b)
        assert driven is not None
        return driven
    x = b.alias("x")
    negate = isinstance(c, TokenCondition) and c.negate
    if negate:
        assert isinstance(c, TokenCondition)
        c = TokenCondition(c.param, c.system, c.code, False, c.text, c.of_type_value)
    table, param = _index_target(c)
    exists = (
        f"EXISTS (SELECT 1 FROM {table} {x} INDEXED BY {table}_pk WHERE {x}.pk = {r}.pk "
        f"AND {x}.param = {b.bind(param)} AND {_index_predicate(c, x, b)})"
    )
    return f"NOT {exists}" if negate else exists


def _point_on_range(point: str, op: Prefix, low: int, high: int, b: Sql) -> str:
    """An instant (the resource's lastUpdated, [t, t+1)) against a search range."""
    match op:
        case Prefix.EQ:
            return f"({point} >= {b.bind(low)} AND {point} < {b.bind(high)})"
        case Prefix.NE:
            return f"NOT ({point} >= {b.bind(low)} AND {point} < {b.bind(high)})"
        case Prefix.GT | Prefix.SA:
            return f"{point} >= {b.bind(high)}"
        case Prefix.LT | Prefix.EB:
            return f"{point} < {b.bind(low)}"
        case Prefix.GE:
            return f"{point} >= {b.bind(low)}"
        case Prefix.LE:
            return f"{point} < {b.bind(high)}"
        case Prefix.AP:
            margin = _ap_margin(low, high)
            return f"({point} >= {b.bind(low - margin)} AND {point} < {b.bind(high + margin)})"
    raise AssertionError(op)  # pragma: no cover


def _clause_sql(clause: Clause, r: str, b: Sql, drive: bool) -> str:
    parts = [condition_sql(c, r, b, drive=drive) for c in clause.any_of]
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def type_filter(r: str, types: Sequence[str], b: Sql, *, driven: bool) -> str:
    """``r.type IN (...)``; written ``+r.type`` when another term drives the query, so SQLite
    does not prefer the type index and scan a whole type (the store keeps no statistics)."""
    return f"{'+' if driven else ''}{r}.type IN ({b.bind(*types)}) AND {r}.deleted = 0"


def _drives(c: Condition) -> bool:
    """Whether ``condition_sql(c, drive=True)`` yields an ``r.pk IN (...)`` driver."""
    if isinstance(c, IdCondition | LastUpdatedCondition | MissingCondition | HasCondition):
        return False
    return not (isinstance(c, TokenCondition) and c.negate)


def where_sql(types: tuple[str, ...], where: tuple[Clause, ...], r: str, b: Sql) -> str:
    """The WHERE body selecting live resources of ``types`` that satisfy every clause."""
    ranked = sorted(range(len(where)), key=lambda i: -clause_score(where[i]))
    driver = ranked[0] if ranked and clause_score(where[ranked[0]]) >= 2 else None
    if driver is not None and (
        len(where[driver].any_of) != 1 or not _drives(where[driver].any_of[0])
    ):
        driver = None
    parts = [type_filter(r, types, b, driven=driver is not None)]
    for index, clause in enumerate(where):
        parts.append(_clause_sql(clause, r, b, index == driver))
    if b.guard is not None:
        parts.append(guard_sql(r, b, types))
    return " AND ".join(parts)


# --- the access guard (DESIGN.md law 5) -----------------------------------------------------


def _compartment_sql(r: str, resource_type: str, params: tuple[str, ...], b: Sql) -> str:
    """Row ``r`` (of ``resource_type``) is in the guard's patient compartment: the Patient
    itself, or a local reference to it through one of ``params``."""
    assert b.guard is not None
    patient = b.guard.patient_id
    if patient is None:
        return "0"
    if resource_type == "Patient":
        return f"{r}.id = {b.bind(patient)}"
    if not params:
        return "0"
    x = b.alias("x")
    relative = f"Patient/{patient}"
    urls = (relative,) if b.local_base is None else (relative, f"{b.local_base}/{relative}")
    return (
        f"EXISTS (SELECT 1 FROM sp_reference {x} INDEXED BY sp_reference_pk WHERE {x}.pk = {r}.pk "
        f"AND {x}.param IN ({b.bind(*params)}) AND {x}.target_type = 'Patient' "
        f"AND {x}.target_id = {b.bind(patient)} AND {x}.url IN ({b.bind(*urls)}))"
    )


def guard_sql(r: str, b: Sql, types: Sequence[str] | None = None) -> str:
    """Row ``r`` is reachable under ``b.guard`` ("1" without a guard). ``types`` limits the
    alternatives written to the types ``r`` can have there."""
    guard = b.guard
    if guard is None:
        return "1"
    parts: list[str] = []
    for resource_type, alternatives in guard.reach:
        if not alternatives or (types is not None and resource_type not in types):
            continue
        # Arguments are bound in the order their placeholders appear in the text.
        # `+`: the guard never drives the query (the type index would scan the whole type).
        head = f"+{r}.type = {b.bind(resource_type)}"
        options: list[str] = []
        for reach in alternatives:
            terms: list[str] = []
            if reach.compartment is not None:
                terms.append(_compartment_sql(r, resource_type, reach.compartment, b))
            terms += [_clause_sql(clause, r, b, False) for clause in reach.where]
            options.append("(" + " AND ".join(terms) + ")" if terms else "1")
        parts.append(f"({head} AND ({' OR '.join(options)}))")
    return "(" + " OR ".join(parts) + ")" if parts else "0"


# --- sorting ---------------------------------------------------------------------------------

#: A reference sorts by ``Type/id`` when it is local (however written), else as written.
_REFERENCE_SORT = (
    "COALESCE(CASE WHEN {local} THEN {x}.target_type || '/' || {x}.target_id END, {x}.url, "
    "{x}.id_value)"
)

#: (table, value for ascending, value for descending) per parameter type; ``{x}`` is the alias.
_SORT_COLUMNS: dict[str, tuple[str, str, str]] = {
    "token": ("sp_token", "{x}.code", "{x}.code"),
    "string": ("sp_string", "{x}.normalized", "{x}.normalized"),
    "date": ("sp_date", "{x}.low", "{x}.high"),
    "reference": ("sp_reference", _REFERENCE_SORT, _REFERENCE_SORT),
    "number": ("sp_number", "{x}.value", "{x}.value"),
    "quantity": ("sp_quantity", "{x}.value", "{x}.value"),
    "uri": ("sp_uri", "{x}.value", "{x}.value"),
}

SORTABLE_KINDS = frozenset(_SORT_COLUMNS)


def sort_expression(key: SortKey, r: str, b: Sql) -> str:
    """A scalar per resource to order by; missing values sort last in both directions."""
    if key.param == "_id":
        return f"{r}.id"
    if key.param == "_lastUpdated":
        return f"{r}.updated_us"
    table, asc_value, desc_value = _SORT_COLUMNS[key.kind]
    function, template = ("MAX", desc_value) if key.descending else ("MIN", asc_value)
    x = b.alias("x")
    local = local_reference(x, b) if "{local}" in template else ""
    value = (
        f"(SELECT {function}({template.format(x=x, local=local)}) FROM {table} {x} "
        f"INDEXED BY {table}_pk WHERE {x}.pk = {r}.pk AND {x}.param = {b.bind(key.param)})"
    )
    return f"COALESCE({value}, {b.bind(DESC_MISSING if key.descending else ASC_MISSING)})"
