"""Runs a compiled search on SQLite: keyset pages, `_include`/`_revinclude`, `_total`.

Pages are keyset pages over (sort values..., pk): a cursor records the position of the row at a
page edge, so the next and previous pages stay correct while resources are written
(R4 search.html#paging leaves the mechanism to the server). Cursors are opaque to clients.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from server.errors import InvalidRequestError
from server.storage.port import ResourceVersion, SearchPage
from server.storage.query import Guard, Include, SearchQuery, TotalMode
from server.storage.sqlite_search import (
    Sql,
    guard_sql,
    local_reference,
    sort_expression,
    where_sql,
)

__all__ = ["ESTIMATE_CAP", "find_keys", "run_search", "row_to_version"]

#: `_total=estimate` counts at most this many matches.
ESTIMATE_CAP = 10_000
#: At most this many resources are added by `_include`/`_revinclude` per page.
INCLUDE_CAP = 1_000

_CONTENT = (
    "SELECT r.type, r.id, r.version, v.updated_us, r.deleted, v.method, v.content, r.pk "
    "FROM resource r JOIN version v ON v.pk = r.pk AND v.version = r.version "
)


def row_to_version(row: Sequence[Any]) -> ResourceVersion:
    return ResourceVersion(
        resource_type=row[0],
        id=row[1],
        version=row[2],
        updated_us=row[3],
        deleted=bool(row[4]),
        method=row[5],
        content=row[6],
    )


# --- cursors ---------------------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    return {"b": value.hex()} if isinstance(value, bytes) else value


def _decode_value(value: Any) -> Any:
    return bytes.fromhex(value["b"]) if isinstance(value, dict) else value


def encode_cursor(direction: str, keys: Sequence[Any], pk: int) -> str:
    payload = orjson.dumps({"d": direction, "k": [_encode_value(k) for k in keys], "p": pk})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


_INT64 = range(-(2**63), 2**63)


def _storable(value: Any) -> bool:
    """A scalar SQLite can bind: None, a 64-bit integer, a finite float, text or bytes."""
    if isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        return True
    if isinstance(value, int):
        return value in _INT64
    return isinstance(value, float) and value == value and abs(value) != float("inf")


def decode_cursor(cursor: str, key_count: int) -> tuple[str, list[Any], int]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        data = orjson.loads(raw)
        direction, keys, pk = data["d"], [_decode_value(k) for k in data["k"]], int(data["p"])
        if direction not in ("a", "b") or len(keys) != key_count:
            raise ValueError(direction)
        if not all(_storable(k) for k in [*keys, pk]):
            raise ValueError("cursor value out of range")
        return direction, keys, pk
    except (ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError) as exc:
        raise InvalidRequestError(
            "The paging cursor is not one this server issued for this search",
            expression="_cursor",
        ) from exc


def _keyset(
    names: list[str], descending: list[bool], values: list[Any], after: bool, b: Sql
) -> str:
    """Rows strictly after (or before) the cursor row in the sort order.

    ``(k0 > v0 OR (k0 = v0 AND (k1 > v1 OR ...)))``; arguments are bound in text order.
    """
    if not names:
        return "1"
    name, desc, value = names[0], descending[0], values[0]
    op = ">" if after != desc else "<"
    head = f"{name} {op} {b.bind(value)}"
    if len(names) == 1:
        return head
    equal = f"{name} = {b.bind(value)}"
    rest = _keyset(names[1:], descending[1:], values[1:], after, b)
    return f"({head} OR ({equal} AND {rest}))"


# --- search ----------------------------------------------------------------------------------


def find_keys(conn: sqlite3.Connection, query: SearchQuery, limit: int) -> list[tuple[str, str]]:
    """(type, id) of up to ``limit`` matches, in pk order (conditional interactions)."""
    b = Sql(local_base=query.local_base, guard=query.guard)
    where = where_sql(query.resource_types, query.where, "r", b)
    sql = f"SELECT r.type, r.id FROM resource r WHERE {where} ORDER BY r.pk LIMIT {b.bind(limit)}"
    return [(t, i) for t, i in conn.execute(sql, b.args)]


def _total(conn: sqlite3.Connection, query: SearchQuery) -> int | None:
    if query.total is TotalMode.NONE:
        return None
    b = Sql(local_base=query.local_base, guard=query.guard)
    where = where_sql(query.resource_types, query.where, "r", b)
    if query.total is TotalMode.ESTIMATE:
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM resource r WHERE {where} LIMIT {ESTIMATE_CAP})"
    else:
        sql = f"SELECT COUNT(*) FROM resource r WHERE {where}"
    (count,) = conn.execute(sql, b.args).fetchone()
    return int(count)


def _page_rows(
    conn: sqlite3.Connection, query: SearchQuery
) -> tuple[list[tuple[Any, ...]], bool, tuple[str, list[Any], int] | None]:
    """Page rows as (pk, *sort values), whether more exist beyond, and the decoded cursor
    (direction, sort values, pk)."""
    b = Sql(local_base=query.local_base, guard=query.guard)
    keys = list(query.sort)
    names = [f"k{i}" for i in range(len(keys))] + ["pk"]
    descending = [k.descending for k in keys] + [False]
    select = ", ".join(
        [f"{sort_expression(k, 'r', b)} AS k{i}" for i, k in enumerate(keys)] + ["r.pk AS pk"]
    )
    where = where_sql(query.resource_types, query.where, "r", b)
    direction: str | None = None
    keyset = "1"
    decoded = None
    if query.after is not None:
        decoded = direction, values, pk = decode_cursor(query.after, len(keys))
        keyset = _keyset(names, descending, [*values, pk], direction == "a", b)
    backwards = direction == "b"
    order = ", ".join(
        f"{n} {'DESC' if d != backwards else 'ASC'}" for n, d in zip(names, descending, strict=True)
    )
    sql = (
        f"SELECT {', '.join(names)} FROM (SELECT {select} FROM resource r WHERE {where}) "
        f"WHERE {keyset} ORDER BY {order} LIMIT {b.bind(query.count + 1)}"
    )
    rows = conn.execute(sql, b.args).fetchall()
    more = len(rows) > query.count
    rows = rows[: query.count]
    if backwards:
        rows.reverse()
    return [(row[-1], *row[:-1]) for row in rows], more, decoded


def _load(conn: sqlite3.Connection, pks: Sequence[int]) -> dict[int, ResourceVersion]:
    if not pks:
        return {}
    b = Sql()
    rows = conn.execute(
        _CONTENT + f"WHERE r.pk IN ({b.bind(*pks)}) AND r.deleted = 0", b.args
    ).fetchall()
    return {row[7]: row_to_version(row) for row in rows}


def _include_pks(
    conn: sqlite3.Connection,
    includes: Sequence[Include],
    sources: dict[int, str],
    local_base: str | None,
    guard: Guard | None,
) -> list[int]:
    """pks of live resources the includes reach from ``sources`` (pk -> type)."""
    found: list[int] = []
    for inc in includes:
        source_pks = [pk for pk, t in sources.items() if inc.reverse or t == inc.source_type]
        if not source_pks:
            continue
        b = Sql(local_base=local_base, guard=guard)
        if not inc.reverse:
            # Arguments are bound in the order their placeholders appear in the text.
            sql = (
                "SELECT DISTINCT t.pk FROM sp_reference ref INDEXED BY sp_reference_pk "
                "JOIN resource t ON "
                "t.type = ref.target_type AND t.id = ref.target_id "
                f"WHERE ref.pk IN ({b.bind(*source_pks)}) AND ref.param = {b.bind(inc.param)}"
            )
            if inc.target_type:
                sql += f" AND ref.target_type = {b.bind(inc.target_type)}"
            sql += f" AND t.deleted = 0 AND {local_reference('ref', b)} AND {guard_sql('t', b)}"
        else:
            pairs = conn.execute(
                f"SELECT type, id FROM resource WHERE pk IN ({','.join('?' * len(source_pks))})",
                source_pks,
            ).fetchall()
            if inc.target_type:
                pairs = [p for p in pairs if p[0] == inc.target_type]
            if not pairs:
                continue
            targets = ", ".join("(?, ?)" for _ in pairs)
            sql = (
                "SELECT DISTINCT s.pk FROM sp_reference ref INDEXED BY sp_reference_target "
                "JOIN resource s ON s.pk = ref.pk "
                f"WHERE ref.param = {b.bind(inc.param)} AND s.type = {b.bind(inc.source_type)} "
                f"AND s.deleted = 0 AND (ref.target_type, ref.target_id) IN (VALUES {targets})"
            )
            b.args.extend(v for pair in pairs for v in pair)
            sql += f" AND {local_reference('ref', b)} AND {guard_sql('s', b, (inc.source_type,))}"
        found.extend(pk for (pk,) in conn.execute(sql + f" LIMIT {INCLUDE_CAP}", b.args))
    return found


def _included(
    conn: sqlite3.Connection, query: SearchQuery, matches: dict[int, ResourceVersion]
) -> list[ResourceVersion]:
    if not query.includes or not matches:
        return []
    seen = set(matches)
    sources = {pk: v.resource_type for pk, v in matches.items()}
    reached = _include_pks(conn, query.includes, sources, query.local_base, query.guard)
    first = [pk for pk in reached if pk not in seen]
    first = list(dict.fromkeys(first))[:INCLUDE_CAP]
    seen.update(first)
    loaded = _load(conn, first)
    iterating = [inc for inc in query.includes if inc.iterate]
    if iterating and loaded:
        more_sources = {pk: v.resource_type for pk, v in loaded.items()}
        found = _include_pks(conn, iterating, more_sources, query.local_base, query.guard)
        second = [pk for pk in found if pk not in seen]
        second = list(dict.fromkeys(second))[: max(0, INCLUDE_CAP - len(first))]
        loaded.update(_load(conn, second))
        first += second
    return [loaded[pk] for pk in first if pk in loaded]


def run_search(conn: sqlite3.Connection, query: SearchQuery) -> SearchPage:
    """One page of ``query`` with its includes, total and neighbouring cursors, all read from
    one snapshot (a concurrent write cannot land between the page and its contents)."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        return _run_search(conn, query)
    finally:
        if own:
            conn.execute("COMMIT")


def _run_search(conn: sqlite3.Connection, query: SearchQuery) -> SearchPage:
    total = _total(conn, query)
    if query.count == 0:
        return SearchPage((), None, total)
    rows, more, cursor = _page_rows(conn, query)
    direction = cursor[0] if cursor is not None else None
    loaded = _load(conn, [row[0] for row in rows])
    matches = {row[0]: loaded[row[0]] for row in rows if row[0] in loaded}
    next_cursor = previous_cursor = None
    if rows:
        first, last = rows[0], rows[-1]
        if more if direction != "b" else True:
            next_cursor = encode_cursor("a", list(last[1:]), last[0])
        if direction == "a" or (direction == "b" and more):
            previous_cursor = encode_cursor("b", list(first[1:]), first[0])
    elif cursor is not None:
        # An empty page (everything beyond the cursor was deleted): the way back, or forward,
        # starts at the cursor's own row, inclusive. pks are integers, so (values, pk -/+ 1)
        # as an exclusive bound includes the row at (values, pk) and nothing else of the page.
        _, values, pk = cursor
        if direction == "a":
            previous_cursor = encode_cursor("b", values, pk + 1)
        else:
            next_cursor = encode_cursor("a", values, pk - 1)
    return SearchPage(
        list(matches.values()),
        next_cursor,
        total,
        included=_included(conn, query, matches),
        previous_cursor=previous_cursor,
    )
