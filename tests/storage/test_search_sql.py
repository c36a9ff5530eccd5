"""The SQLite search compiler below the API: keyset conditions bind their arguments in text
order for any number of sort keys, references are local only when relative or under our base,
and the most selective clause drives a query through an index (no scans of index tables)."""

from __future__ import annotations

import itertools
import random
import sqlite3
from collections.abc import Iterator

import pytest

from server.fhir.search.parser import parse_search
from server.settings import LimitsSettings
from server.storage.sqlite_paging import _keyset
from server.storage.sqlite_schema import SCHEMA
from server.storage.sqlite_search import Sql, distance_km, local_reference, where_sql

BASE = "http://example.org/fhir"


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.executescript(SCHEMA)
    connection.create_function("facade_distance_km", 4, distance_km, deterministic=True)
    yield connection
    connection.close()


@pytest.mark.parametrize("descending", list(itertools.product([False, True], repeat=3)))
@pytest.mark.parametrize("after", [True, False])
def test_keyset_matches_tuple_order(descending: tuple[bool, ...], after: bool) -> None:
    rng = random.Random(7)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (k0, k1, k2, pk INTEGER PRIMARY KEY)")
    rows = [(rng.randint(0, 2), rng.choice("abc"), rng.randint(0, 2), pk) for pk in range(60)]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    names, desc = ["k0", "k1", "k2", "pk"], [*descending, False]

    def key(row: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(
            (-v if isinstance(v, int) else tuple(-ord(c) for c in str(v))) if d else v
            for v, d in zip(row, desc, strict=True)
        )

    for cursor in rows[::7]:
        b = Sql()
        sql = f"SELECT pk FROM t WHERE {_keyset(names, desc, list(cursor), after, b)}"
        found = {pk for (pk,) in conn.execute(sql, b.args)}
        if after:
            expected = {r[3] for r in rows if key(r) > key(cursor)}
        else:
            expected = {r[3] for r in rows if key(r) < key(cursor)}
        assert found == expected, (cursor, descending, after)


def test_local_references(conn: sqlite3.Connection) -> None:
    urls = {
        1: "Patient/p1",
        2: f"{BASE}/Patient/p1",
        3: "http://other.org/fhir/Patient/p1",
        4: f"{BASE}/extra/Patient/p1",
    }
    conn.executemany(
        "INSERT INTO sp_reference (pk, param, target_type, target_id, url) VALUES (?, ?, ?, ?, ?)",
        [(pk, "patient", "Patient", "p1", url) for pk, url in urls.items()],
    )
    b = Sql(local_base=BASE)
    local = {
        pk
        for (pk,) in conn.execute(
            f"SELECT pk FROM sp_reference x WHERE {local_reference('x', b)}", b.args
        )
    }
    assert local == {1, 2}
    unknown = Sql()  # base not known: every literal reference with a type and id counts
    assert local_reference("x", unknown) == "1"


def _plan(conn: sqlite3.Connection, rtype: str, *params: tuple[str, str]) -> list[str]:
    limits = LimitsSettings()
    parsed = parse_search((rtype,), params, strict=True, limits=limits, fhir_base=BASE)
    b = Sql(local_base=BASE)
    where = where_sql(parsed.query.resource_types, parsed.query.where, "r", b)
    sql = f"SELECT r.pk FROM resource r WHERE {where} ORDER BY r.pk LIMIT 21"
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, b.args)]


@pytest.mark.parametrize(
    ("rtype", "params", "driver"),
    [
        (
            "ExplanationOfBenefit",
            [("service-date", "ge2024-01-01"), ("patient", "Patient/p1")],
            "sp_reference",
        ),
        ("ExplanationOfBenefit", [("patient", "p1"), ("status", "active")], "sp_reference"),
        ("Claim", [("identifier", "urn:x|PCN-1"), ("created", "2024")], "sp_token_value"),
        ("Coverage", [("payor.name", "acme")], "sp_string_value"),
        ("ExplanationOfBenefit", [("coverage.payor.name", "acme")], "sp_string_value"),
        ("Patient", [("_has:Claim:patient:status", "active")], "sp_token_value"),
    ],
)
def test_selective_clause_drives(
    conn: sqlite3.Connection, rtype: str, params: list[tuple[str, str]], driver: str
) -> None:
    plan = _plan(conn, rtype, *params)
    assert any(driver in step and step.startswith("SEARCH") for step in plan), plan
    assert not [step for step in plan if step.startswith("SCAN")], plan
