"""The adapter-neutral query language the storage port accepts.

FHIR search (R4 search.html) and history (R4 http.html#history) requests are parsed once, in
``server/fhir/search/``, into these plain values; every storage adapter compiles them to its own
query language (SQL for SQLite, filters for MongoDB). Nothing here knows about HTTP or SQL.

A query is an AND of clauses; each clause is an OR of conditions. A condition names a search
parameter and compares the values indexed for it at write time
(``server/storage/index_entries.py``), or follows references (chains, ``_has``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ChainCondition",
    "Clause",
    "CompositeCondition",
    "Condition",
    "DateCondition",
    "Guard",
    "HasCondition",
    "HistoryQuery",
    "IdCondition",
    "Include",
    "LastUpdatedCondition",
    "MissingCondition",
    "NearCondition",
    "NumberCondition",
    "Prefix",
    "QuantityCondition",
    "Reach",
    "ReferenceCondition",
    "SearchQuery",
    "SortKey",
    "StringCondition",
    "StringMatch",
    "TokenCondition",
    "TotalMode",
    "UriCondition",
    "UriMatch",
]


class Prefix(str, Enum):
    """Comparison prefixes for ordered values (R4 search.html#prefix)."""

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


class StringMatch(str, Enum):
    """Default (folded prefix), ``:exact`` and ``:contains`` (R4 search.html#string)."""

    PREFIX = "prefix"
    EXACT = "exact"
    CONTAINS = "contains"


class UriMatch(str, Enum):
    """Default (equal), ``:below`` and ``:above`` (R4 search.html#uri)."""

    EQUAL = "equal"
    BELOW = "below"
    ABOVE = "above"


@dataclass(frozen=True, slots=True)
class IdCondition:
    """`_id`: the logical id equals one of ``ids`` (negated with ``:not``)."""

    ids: tuple[str, ...]
    negate: bool = False


@dataclass(frozen=True, slots=True)
class LastUpdatedCondition:
    """`_lastUpdated` against the search range [low_us, high_us)."""

    op: Prefix
    low_us: int
    high_us: int


@dataclass(frozen=True, slots=True)
class TokenCondition:
    """A token parameter (R4 search.html#token).

    ``system`` None matches any system; ``""`` matches values without a system (``|code``).
    ``code`` None matches any code in ``system`` (``system|``). ``text`` set means the ``:text``
    modifier (folded prefix of the display/text). ``of_type_value`` set means ``:of-type``
    (``system``/``code`` are then the identifier type). ``negate`` is ``:not``: resources with
    no value matching the token.
    """

    param: str
    system: str | None
    code: str | None
    negate: bool = False
    text: str | None = None
    of_type_value: str | None = None


@dataclass(frozen=True, slots=True)
class StringCondition:
    """A string parameter; ``value`` is folded for PREFIX/CONTAINS and as given for EXACT."""

    param: str
    value: str
    match: StringMatch = StringMatch.PREFIX


@dataclass(frozen=True, slots=True)
class DateCondition:
    """A date parameter: indexed ranges against the search range [low_us, high_us)."""

    param: str
    op: Prefix
    low_us: int
    high_us: int


@dataclass(frozen=True, slots=True)
class NumberCondition:
    """A number parameter; ``value`` is the search value, [low, high) its implicit precision."""

    param: str
    op: Prefix
    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class QuantityCondition:
    """A quantity parameter: a number plus an optional unit ``system``/``code`` (``""`` = any)."""

    param: str
    op: Prefix
    value: float
    low: float
    high: float
    system: str | None
    code: str | None


@dataclass(frozen=True, slots=True)
class ReferenceCondition:
    """A reference parameter (R4 search.html#reference).

    Literal: ``target_type`` (None: any of the parameter's targets) and ``target_id``, or an
    absolute ``url``. ``:identifier``: ``identifier_system``/``identifier_value``.
    """

    param: str
    target_type: str | None = None
    target_id: str | None = None
    url: str | None = None
    identifier_system: str | None = None
    identifier_value: str | None = None


@dataclass(frozen=True, slots=True)
class UriCondition:
    param: str
    value: str
    match: UriMatch = UriMatch.EQUAL


@dataclass(frozen=True, slots=True)
class CompositeCondition:
    """Two token components joined by ``$`` (``characteristic-value=code$value``)."""

    param: str
    first_system: str | None
    first_code: str | None
    second_system: str | None
    second_code: str | None


@dataclass(frozen=True, slots=True)
class NearCondition:
    """``near=lat|long|distance|unit`` on a position, distance in kilometres."""

    param: str
    latitude: float
    longitude: float
    distance_km: float


@dataclass(frozen=True, slots=True)
class MissingCondition:
    """``:missing=true|false``: the resource has no (true) or some (false) value for ``param``.

    ``kind`` is the parameter's type, so an adapter knows where its values live.
    """

    param: str
    kind: str
    missing: bool


@dataclass(frozen=True, slots=True)
class ChainCondition:
    """``param.chained=value``: a reference in ``param`` points to a resource of one of
    ``target_types`` that satisfies ``inner`` (which may chain further)."""

    param: str
    target_types: tuple[str, ...]
    inner: Condition


@dataclass(frozen=True, slots=True)
class HasCondition:
    """``_has:source_type:param:...=value``: some ``source_type`` resource whose reference
    ``param`` points to this resource satisfies ``inner`` (R4 search.html#has)."""

    source_type: str
    param: str
    inner: Condition


Condition = (
    IdCondition
    | LastUpdatedCondition
    | TokenCondition
    | StringCondition
    | DateCondition
    | NumberCondition
    | QuantityCondition
    | ReferenceCondition
    | UriCondition
    | CompositeCondition
    | NearCondition
    | MissingCondition
    | ChainCondition
    | HasCondition
)


@dataclass(frozen=True, slots=True)
class Clause:
    """Conditions joined by OR (comma-separated values of one parameter)."""

    any_of: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class SortKey:
    """One `_sort` key (R4 search.html#sort); ``kind`` is the parameter type."""

    param: str
    kind: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Include:
    """`_include` (forward) or `_revinclude` (reverse) of one reference parameter.

    Forward: resources that ``source_type`` resources reference through ``param``.
    Reverse: ``source_type`` resources that reference the matches through ``param``.
    ``target_type`` narrows the referenced type; ``iterate`` applies it to included resources
    too (one more level).
    """

    source_type: str
    param: str
    target_type: str | None = None
    iterate: bool = False
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Reach:
    """One way an access token reaches resources of a type: every clause of ``where`` holds
    and, when ``compartment`` is set, the resource is in the guard's patient compartment
    through one of those reference parameters (the Patient itself: its own id)."""

    where: tuple[Clause, ...] = ()
    compartment: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Guard:
    """What one access token may reach (DESIGN.md law 5: narrow, don't filter).

    An adapter applies the guard to every resource a query touches, not only to the matches:
    the resources `_include`/`_revinclude` add, the targets a chain follows, the sources a
    `_has` probes and the versions history lists. A resource is reachable when its type is
    listed and one of the type's :class:`Reach` alternatives holds; a type that is not listed
    is unreachable (deny by default). ``patient_id`` is the compartment's patient.
    """

    reach: tuple[tuple[str, tuple[Reach, ...]], ...]
    patient_id: str | None = None

    def types(self) -> tuple[str, ...]:
        return tuple(t for t, alternatives in self.reach if alternatives)

    def whole(self, resource_type: str) -> bool:
        """Whether every resource of the type is within reach (no narrowing for it)."""
        return any(t == resource_type and alts == (Reach(),) for t, alts in self.reach)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search over one or more resource types.

    ``after`` is an opaque cursor an adapter issued for a neighbouring page, next or previous
    (keyset paging, so pages stay correct while writes happen).

    ``local_base`` is the server's own FHIR base URL. A stored literal reference points to a
    resource of this server when it is relative (``Patient/1``) or absolute under this base;
    an absolute reference to another server never matches, includes or chains to a local
    resource (R4 search.html#reference). None: the base is not known, and every literal
    reference with a type and an id is taken as local.
    """

    resource_types: tuple[str, ...]
    where: tuple[Clause, ...] = ()
    sort: tuple[SortKey, ...] = ()
    count: int = 20
    after: str | None = None
    total: TotalMode = TotalMode.NONE
    includes: tuple[Include, ...] = ()
    local_base: str | None = None
    guard: Guard | None = None


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
    guard: Guard | None = None
    local_base: str | None = None
