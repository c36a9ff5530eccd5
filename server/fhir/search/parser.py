"""Query string -> search IR (R4 search.html).

Reads the parameter registry in ``capability/search_parameters.py``. Produces a
:class:`~server.storage.query.SearchQuery` plus what was applied (for the `self` link), what was
dropped (for a `search.mode = outcome` entry) and the response-shaping parameters (`_summary`,
`_elements`). With `Prefer: handling=strict` an unknown or unsupported parameter is a 400; by
default it is ignored and reported. A malformed value (bad date, bad prefix, bad number, a
reference to a type the parameter cannot point to) is always a 400 naming the parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from capability.resource_types import RESOURCE_TYPES
from capability.search_parameters import (
    COLUMN_PARAMETERS,
    SearchParameter,
    parameter,
    reference_parameters,
)
from server.errors import InvalidSearchParameterError
from server.fhir.search.dates import parse_date_range
from server.fhir.search.values import (
    MODIFIERS,
    condition_for,
    split_prefix,
    split_unescaped,
    unescape,
)
from server.settings import LimitsSettings
from server.storage.query import (
    ChainCondition,
    Clause,
    Condition,
    HasCondition,
    HistoryQuery,
    IdCondition,
    Include,
    MissingCondition,
    SearchQuery,
    SortKey,
    TotalMode,
)

__all__ = ["ParsedSearch", "parse_history", "parse_search", "split_values"]

#: Parameters that shape the response, not the match (R4 http.html#general).
RESULT_FORMAT_PARAMS = frozenset({"_format", "_pretty"})
_SUMMARY_VALUES = frozenset({"true", "false", "text", "data", "count"})
_SORTABLE = frozenset({"token", "string", "date", "reference", "number", "quantity", "uri"})
#: How many references one chained or reverse-chained (`_has`) parameter may follow.
MAX_LINKS = 3
#: Result parameters the server does not implement (R4 search.html#return).
_UNSUPPORTED_RESULT = frozenset(
    {"_contained", "_containedType", "_list", "_query", "_filter", "_text", "_content", "_score"}
)


@dataclass(frozen=True, slots=True)
class ParsedSearch:
    query: SearchQuery
    applied: tuple[tuple[str, str], ...]
    ignored: tuple[tuple[str, str], ...]
    summary: str | None = None
    elements: tuple[str, ...] | None = None


class _Drop(Exception):
    """A parameter this server does not support (ignored or 400 by handling preference)."""


def split_values(raw: str) -> list[str]:
    """Comma-separated OR values (R4 search.html#escaping). Escapes stay in the values
    (`\\,` too): a value is split further (`|`, `$`) before its escapes are resolved."""
    return split_unescaped(raw, ",")


def _common(types: Sequence[str], code: str) -> SearchParameter:
    """The parameter ``code`` as registered for every type in ``types`` (same type)."""
    specs = [parameter(t, code) for t in types]
    first = specs[0] if specs else None
    if first is None or any(s is None or s.type != first.type for s in specs):
        raise _Drop(f"Unknown search parameter '{code}' for {', '.join(types)}")
    return first


def _int(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise InvalidSearchParameterError(
            f"'{name}' must be an integer >= {minimum}", expression=name
        )
    return number


def _targets(p: SearchParameter, type_modifier: str | None) -> tuple[str, ...]:
    served = tuple(t for t in p.targets if t in RESOURCE_TYPES)
    if type_modifier is not None:
        if type_modifier not in served:
            raise _Drop(f"'{p.code}' cannot point to {type_modifier} here")
        return (type_modifier,)
    if not served:
        raise _Drop(f"'{p.code}' points to no type this server serves")
    return served


def _conditions(
    types: Sequence[str], key: str, raw: str, fhir_base: str, depth: int = 0
) -> tuple[Condition, ...]:
    """The OR-conditions of one `key=value` (chains and `_has` included)."""
    if (key.startswith("_has:") or "." in key) and depth >= MAX_LINKS:
        raise _Drop(f"Chains and _has go at most {MAX_LINKS} references deep")
    if key.startswith("_has:"):
        parts = key.split(":", 3)
        if len(parts) < 4 or parts[1] not in RESOURCE_TYPES:
            raise _Drop("_has takes _has:Type:reference-param:param")
        source, ref_code, rest = parts[1], parts[2], parts[3]
        ref = _common((source,), ref_code)
        if ref.type != "reference" or not set(types) & set(ref.targets):
            raise _Drop(f"'{source}.{ref_code}' does not point to {', '.join(types)}")
        return tuple(
            HasCondition(source, ref_code, inner)
            for inner in _conditions((source,), rest, raw, fhir_base, depth + 1)
        )
    if "." in key:
        head, _, chained = key.partition(".")
        code, _, type_modifier = head.partition(":")
        ref = _common(types, code)
        if ref.type != "reference":
            raise _Drop(f"'{code}' is not a reference parameter; it cannot be chained")
        targets = _targets(ref, type_modifier or None)
        chained_code = chained.split(".", 1)[0].split(":", 1)[0]
        usable = tuple(t for t in targets if parameter(t, chained_code) is not None)
        if not usable:
            raise _Drop(f"No target of '{code}' has a parameter '{chained_code}'")
        return tuple(
            ChainCondition(code, usable, inner)
            for inner in _conditions(usable, chained, raw, fhir_base, depth + 1)
        )
    code, _, modifier_text = key.partition(":")
    modifier = modifier_text or None
    p = _common(types, code)
    if modifier == "missing":
        if raw not in ("true", "false"):
            raise InvalidSearchParameterError(f"'{key}' takes true or false", expression=key)
        if code in COLUMN_PARAMETERS:
            # Every resource has an id and a lastUpdated: none (true) or all (false) match.
            return (IdCondition((), negate=raw == "false"),)
        return (MissingCondition(code, p.type, raw == "true"),)
    if p.type == "reference" and modifier not in MODIFIERS["reference"]:
        _targets(p, modifier)
    elif modifier not in MODIFIERS.get(p.type, frozenset({None})):
        raise _Drop(f"Modifier ':{modifier}' is not supported on '{code}'")
    values = [v for v in split_values(raw) if v != ""]
    if not values:
        raise _Drop(f"'{key}' has an empty value")
    if code == "_id":
        if modifier not in (None, "not"):
            raise _Drop(f"Modifier ':{modifier}' is not supported on '_id'")
        return (IdCondition(tuple(unescape(v) for v in values), negate=modifier == "not"),)
    return tuple(condition_for(p, modifier, v, fhir_base) for v in values)


def _sort_keys(types: Sequence[str], raw: str) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    for item in raw.split(","):
        code = item.strip()
        descending = code.startswith("-")
        code = code.removeprefix("-")
        p = _common(types, code)
        if p.type not in _SORTABLE:
            raise _Drop(f"'{code}' ({p.type}) cannot be sorted on")
        keys.append(SortKey(code, p.type, descending))
    return tuple(keys)


def _includes(types: Sequence[str], raw: str, reverse: bool, iterate: bool) -> list[Include]:
    out: list[Include] = []
    for value in raw.split(","):
        parts = value.split(":")
        if len(parts) not in (2, 3) or parts[0] not in RESOURCE_TYPES:
            raise _Drop(f"'{value}' is not Type:param[:targetType]")
        source, code = parts[0], parts[1]
        target = parts[2] if len(parts) == 3 else None
        if not reverse and not iterate and source not in types:
            raise _Drop(f"_include '{value}' names a type that is not searched")
        if code == "*":
            out += [
                Include(source, p.code, target, iterate, reverse)
                for p in reference_parameters(source)
            ]
            continue
        p = _common((source,), code)
        if p.type != "reference" or (target is not None and target not in p.targets):
            raise _Drop(f"'{value}' is not a reference parameter of {source}")
        out.append(Include(source, code, target, iterate, reverse))
    return out


def _set(applied: list[tuple[str, str]], name: str, value: str) -> None:
    """Record a single-valued parameter; a repeat replaces it (the last one applies)."""
    applied[:] = [(n, v) for n, v in applied if n != name]
    applied.append((name, value))


#: Bounds on one search: the SQL a search compiles to must stay within SQLite's expression depth.
MAX_CONDITIONS = 200
MAX_SORT_KEYS = 8
MAX_INCLUDES = 50


def _count_conditions(condition: Condition) -> int:
    inner = getattr(condition, "inner", None)
    return 1 + (_count_conditions(inner) if inner is not None else 0)


def _check_size(clauses: list[Clause], sort: tuple[SortKey, ...], includes: list[Include]) -> None:
    conditions = sum(_count_conditions(c) for clause in clauses for c in clause.any_of)
    if conditions > MAX_CONDITIONS:
        raise InvalidSearchParameterError(
            f"A search may hold at most {MAX_CONDITIONS} values across its parameters"
        )
    if len(sort) > MAX_SORT_KEYS:
        raise InvalidSearchParameterError(
            f"_sort takes at most {MAX_SORT_KEYS} keys", expression="_sort"
        )
    if len(includes) > MAX_INCLUDES:
        raise InvalidSearchParameterError(
            f"A search may name at most {MAX_INCLUDES} _include/_revinclude targets"
        )


def parse_search(
    resource_types: Sequence[str],
    params: Sequence[tuple[str, str]],
    *,
    strict: bool,
    limits: LimitsSettings,
    fhir_base: str = "",
) -> ParsedSearch:
    """Parse a search for ``resource_types`` (one for type search, several for `_type`)."""
    types = tuple(resource_types)
    clauses: list[Clause] = []
    applied: list[tuple[str, str]] = []
    ignored: list[tuple[str, str]] = []
    count = limits.default_count
    total = TotalMode.NONE
    cursor: str | None = None
    sort: tuple[SortKey, ...] = ()
    includes: list[Include] = []
    summary: str | None = None
    elements: tuple[str, ...] | None = None

    for key, value in params:
        name = key.split(":", 1)[0]
        try:
            if name in RESULT_FORMAT_PARAMS or name == "_type":
                continue
            if name == "_count":
                count = min(_int(name, value, 0), limits.max_count)
                _set(applied, name, str(count))
            elif name == "_total":
                try:
                    total = TotalMode(value)
                except ValueError as exc:
                    raise InvalidSearchParameterError(
                        "'_total' must be none, estimate or accurate", expression=name
                    ) from exc
                _set(applied, name, value)
            elif name == "_cursor":
                cursor = value
            elif name == "_sort":
                sort += _sort_keys(types, value)  # a repeated _sort adds keys
                applied.append((name, value))
            elif name in ("_include", "_revinclude"):
                modifier = key.partition(":")[2]
                if modifier not in ("", "iterate", "recurse"):
                    raise _Drop(f"'{key}' has an unknown modifier")
                includes += _includes(types, value, name == "_revinclude", modifier != "")
                applied.append((key, value))
            elif name == "_summary":
                if value not in _SUMMARY_VALUES:
                    raise InvalidSearchParameterError(
                        "'_summary' is true, false, text, data or count", expression=name
                    )
                summary = value
                _set(applied, name, value)
            elif name == "_elements":
                elements = (*(elements or ()), *(e.strip() for e in value.split(",") if e.strip()))
                applied.append((name, value))
            elif name in _UNSUPPORTED_RESULT:
                raise _Drop(f"'{name}' is not supported by this server")
            else:
                try:
                    conditions = _conditions(types, key, value, fhir_base)
                except InvalidSearchParameterError as exc:
                    # Name the parameter as the client wrote it (`patient.birthdate`).
                    raise InvalidSearchParameterError(exc.message, expression=key) from None
                if key.endswith(":not"):
                    # `code:not=a,b`: resources with neither a nor b (the negations are ANDed).
                    clauses += [Clause((c,)) for c in conditions]
                else:
                    clauses.append(Clause(conditions))
                applied.append((key, value))
        except _Drop as drop:
            if strict:
                raise InvalidSearchParameterError(str(drop), expression=key) from None
            ignored.append((key, str(drop)))
    _check_size(clauses, sort, includes)
    if summary == "count":
        count, total = 0, TotalMode.ACCURATE
    query = SearchQuery(
        resource_types=types,
        where=tuple(clauses),
        sort=sort,
        count=count,
        after=cursor,
        total=total,
        includes=tuple(includes),
        local_base=fhir_base or None,
    )
    return ParsedSearch(query, tuple(applied), tuple(ignored), summary, elements)


def parse_history(
    params: Sequence[tuple[str, str]],
    *,
    resource_type: str | None,
    id: str | None,
    strict: bool,
    limits: LimitsSettings,
) -> tuple[HistoryQuery, tuple[tuple[str, str], ...]]:
    """`_since`, `_count` and the paging cursor of a history request (R4 http.html#history)."""
    since: int | None = None
    count = limits.default_count
    cursor: str | None = None
    applied: list[tuple[str, str]] = []
    for name, value in params:
        if name in RESULT_FORMAT_PARAMS:
            continue
        if name == "_since":
            prefix, _ = split_prefix(value)
            try:
                since = parse_date_range(value)[0] if prefix is None else None
            except ValueError:
                since = None
            if since is None:
                raise InvalidSearchParameterError("'_since' takes an instant", expression=name)
            applied.append((name, value))
        elif name == "_count":
            count = min(_int(name, value, 1), limits.max_count)
            applied.append((name, str(count)))
        elif name == "_cursor":
            cursor = value
        elif strict:
            raise InvalidSearchParameterError(f"History does not take '{name}'", expression=name)
    query = HistoryQuery(
        resource_type=resource_type, id=id, since_us=since, count=count, after=cursor
    )
    return query, tuple(applied)
