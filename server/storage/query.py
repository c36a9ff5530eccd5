"""The adapter-neutral query language the storage port accepts.

FHIR search (R4 search.html) and history (R4 http.html#history) requests are parsed once, in
``server/fhir/search/``, into these plain values; every storage adapter compiles them to its own
query language (SQL for SQLite, filters for MongoDB). Nothing here knows about HTTP or SQL.

A query is an AND of clauses; each clause is an OR of conditions on one search parameter.
Values indexed at write time (``server/storage/indexing.py``) are what conditions match against.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "Clause",
    "Condition",
    "DateCondition",
    "DateOp",
    "HistoryQuery",
    "IdCondition",
    "SearchQuery",
    "SortKey",
    "TokenCondition",
    "TotalMode",
]


class DateOp(str, Enum):
    """Search prefixes for ordered values (R4 search.html#prefix)."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    LT = "lt"
    GE = "ge"
    LE = "le"
    SA = "sa"
    EB = "eb"
    AP = "ap"


class TotalMode(str, Enum):
    """`_total` (R4 search.html#total); the default never pays for a count."""

    NONE = "none"
    ESTIMATE = "estimate"
    ACCURATE = "accurate"


@dataclass(frozen=True, slots=True)
class IdCondition:
    """`_id`: the logical id equals one of ``ids``."""

    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DateCondition:
    """A date-typed parameter compared with ``op`` to the half-open range [low_us, high_us).

    Bounds are microseconds since the Unix epoch (UTC); a partial date such as ``2026-11``
    is the whole range it denotes. ``param`` ``_lastUpdated`` compares ``meta.lastUpdated``.
    """

    param: str
    op: DateOp
    low_us: int
    high_us: int


@dataclass(frozen=True, slots=True)
class TokenCondition:
    """A token parameter (R4 search.html#token).

    ``system`` None matches any system; ``""`` matches values without a system (``|code``).
    ``code`` None matches any code in ``system`` (``system|``).
    """

    param: str
    system: str | None
    code: str | None
    negate: bool = False


Condition = IdCondition | DateCondition | TokenCondition


@dataclass(frozen=True, slots=True)
class Clause:
    """Conditions joined by OR (comma-separated values of one parameter)."""

    any_of: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class SortKey:
    """One `_sort` key (R4 search.html#sort)."""

    param: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search over one or more resource types.

    ``after`` is an opaque cursor an adapter issued for the previous page (keyset paging: pages
    stay correct while writes happen).
    """

    resource_types: tuple[str, ...]
    where: tuple[Clause, ...] = ()
    sort: tuple[SortKey, ...] = ()
    count: int = 20
    after: str | None = None
    total: TotalMode = TotalMode.NONE


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """History of one instance, one type or the whole system, newest first.

    ``since_us``: only versions last updated at or after this instant (`_since`);
    ``after``: an opaque cursor from the previous page.
    """

    resource_type: str | None = None
    id: str | None = None
    since_us: int | None = None
    count: int = 20
    after: str | None = None
