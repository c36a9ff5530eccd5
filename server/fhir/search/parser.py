"""Query string -> search IR (R4 search.html).

Reads the parameter registry in ``capability/search_parameters.py``; produces a
:class:`~server.storage.query.SearchQuery` plus what was applied (for the `self` link) and what
was dropped (for a `search.mode = outcome` entry). With `Prefer: handling=strict` an unknown or
unsupported parameter is a 400; by default it is ignored and reported. A malformed value (bad
date, bad prefix, bad number) is always a 400 naming the parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from capability.search_parameters import SearchParameter, parameter
from server.errors import InvalidSearchParameterError
from server.fhir.search.dates import parse_date_range
from server.settings import LimitsSettings
from server.storage.query import (
    Clause,
    Condition,
    DateCondition,
    DateOp,
    HistoryQuery,
    IdCondition,
    SearchQuery,
    TokenCondition,
    TotalMode,
)

__all__ = ["ParsedSearch", "parse_history", "parse_search", "split_values"]

#: Parameters that shape the response, not the match (R4 search.html#return, http.html#general).
RESULT_FORMAT_PARAMS = frozenset({"_format", "_pretty"})

_PREFIXES = {op.value: op for op in DateOp}


@dataclass(frozen=True, slots=True)
class ParsedSearch:
    query: SearchQuery
    applied: tuple[tuple[str, str], ...]
    ignored: tuple[tuple[str, str], ...]


def split_values(raw: str) -> list[str]:
    """Comma-separated OR values, honouring the `\\,` escape (R4 search.html#escaping)."""
    values: list[str] = []
    current: list[str] = []
    chars = iter(raw)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            current.append(nxt if nxt in ",$|\\" else ch + nxt)
        elif ch == ",":
            values.append("".join(current))
            current = []
        else:
            current.append(ch)
    values.append("".join(current))
    return values


def _split_token(value: str) -> tuple[str | None, str | None]:
    """`[system]|[code]` or `code` (R4 search.html#token)."""
    escaped = value.replace("\\|", "\x00")
    if "|" not in escaped:
        return None, value.replace("\\|", "|")
    system, _, code = escaped.partition("|")
    return system.replace("\x00", "|"), (code.replace("\x00", "|") or None)


def _date_condition(name: str, value: str) -> DateCondition:
    prefix = value[:2]
    op = _PREFIXES.get(prefix)
    text = value[2:] if op is not None else value
    try:
        low, high = parse_date_range(text)
    except ValueError as exc:
        raise InvalidSearchParameterError(
            f"'{name}' needs a FHIR date, optionally prefixed (eq, ne, gt, lt, ge, le, sa, eb, ap)",
            expression=name,
        ) from exc
    return DateCondition(name, op or DateOp.EQ, low, high)


def _conditions(
    name: str, modifier: str | None, spec: SearchParameter, raw: str
) -> tuple[Condition, ...]:
    values = [v for v in split_values(raw) if v != ""]
    if name == "_id":
        return (IdCondition(tuple(values)),)
    if spec.type == "date":
        return tuple(_date_condition(name, v) for v in values)
    if spec.type == "token":
        negate = modifier == "not"
        return tuple(TokenCondition(name, *_split_token(v), negate=negate) for v in values)
    raise InvalidSearchParameterError(f"'{name}' cannot be searched yet", expression=name)


_SUPPORTED_MODIFIERS = {"token": frozenset({None, "not"}), "date": frozenset({None})}


def _int_param(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise InvalidSearchParameterError(
            f"'{name}' must be an integer >= {minimum}", expression=name
        )
    return number


def parse_search(
    resource_types: Sequence[str],
    params: Sequence[tuple[str, str]],
    *,
    strict: bool,
    limits: LimitsSettings,
) -> ParsedSearch:
    """Parse a search for ``resource_types`` (one for type search, several for `_type`)."""
    clauses: list[Clause] = []
    applied: list[tuple[str, str]] = []
    ignored: list[tuple[str, str]] = []
    count = limits.default_count
    total = TotalMode.NONE
    cursor: str | None = None

    def drop(name: str, reason: str) -> None:
        if strict:
            raise InvalidSearchParameterError(reason, expression=name)
        ignored.append((name, reason))

    for key, value in params:
        name, _, modifier_text = key.partition(":")
        modifier = modifier_text or None
        if name in RESULT_FORMAT_PARAMS or name == "_type":
            continue
        if name == "_count":
            count = min(_int_param(name, value, 0), limits.max_count)
            applied.append((name, str(count)))
            continue
        if name == "_total":
            try:
                total = TotalMode(value)
            except ValueError as exc:
                raise InvalidSearchParameterError(
                    "'_total' must be none, estimate or accurate", expression=name
                ) from exc
            applied.append((name, value))
            continue
        if name == "_cursor":
            cursor = value
            continue
        specs = [parameter(t, name) for t in resource_types]
        spec = specs[0] if specs and all(s is not None for s in specs) else None
        if spec is None:
            drop(key, f"Unknown search parameter '{name}' for {', '.join(resource_types)}")
            continue
        if modifier not in _SUPPORTED_MODIFIERS.get(spec.type, frozenset({None})):
            drop(key, f"Modifier ':{modifier}' is not supported on '{name}'")
            continue
        if value == "":
            drop(key, f"'{name}' has an empty value")
            continue
        conditions = _conditions(name, modifier, spec, value)
        if conditions:
            clauses.append(Clause(conditions))
            applied.append((key, value))
    query = SearchQuery(
        resource_types=tuple(resource_types),
        where=tuple(clauses),
        count=count,
        after=cursor,
        total=total,
    )
    return ParsedSearch(query, tuple(applied), tuple(ignored))


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
            since = _date_condition(name, value).low_us
            if value[:2] in _PREFIXES:
                raise InvalidSearchParameterError("'_since' takes an instant", expression=name)
            applied.append((name, value))
        elif name == "_count":
            count = min(_int_param(name, value, 1), limits.max_count)
            applied.append((name, str(count)))
        elif name == "_cursor":
            cursor = value
        elif strict:
            raise InvalidSearchParameterError(f"History does not take '{name}'", expression=name)
    query = HistoryQuery(
        resource_type=resource_type,
        id=id,
        since_us=since,
        count=count,
        after=cursor,
    )
    return query, tuple(applied)
