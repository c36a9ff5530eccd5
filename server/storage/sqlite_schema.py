"""SQLite schema of the embedded store and the mapping of index entries to index tables.

``resource`` holds one row per logical resource, ``version`` every version with its canonical
bytes, and one ``sp_*`` table per search-parameter type holds the values extracted at write time
(``server/storage/index_entries.py``). Every index table has a ``(pk, param)`` index for
correlated filters and re-indexing, and a value-first index for driving a search.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from server.storage.index_entries import (
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
    "INDEX_TABLES",
    "SCHEMA",
    "SCHEMA_VERSION",
    "TABLE_BITS",
    "TABLE_OF_KIND",
    "columns_of",
    "index_rows",
    "insert_sql",
]

SCHEMA_VERSION = 2

#: Index table of each search-parameter type.
TABLE_OF_KIND: dict[str, str] = {
    "token": "sp_token",
    "string": "sp_string",
    "date": "sp_date",
    "reference": "sp_reference",
    "number": "sp_number",
    "quantity": "sp_quantity",
    "uri": "sp_uri",
    "composite": "sp_composite",
    "special": "sp_position",
}

#: Columns (after ``pk, param``) of each index table.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "sp_token": ("system", "code", "text", "value"),
    "sp_string": ("normalized", "exact"),
    "sp_date": ("low", "high"),
    "sp_reference": ("target_type", "target_id", "url", "id_system", "id_value"),
    "sp_number": ("low", "high", "value"),
    "sp_quantity": ("low", "high", "value", "system", "code", "unit"),
    "sp_uri": ("value",),
    "sp_composite": ("system1", "code1", "system2", "code2"),
    "sp_position": ("latitude", "longitude"),
}

INDEX_TABLES: tuple[str, ...] = tuple(_COLUMNS)

#: Bit of each index table in ``resource.indexed``: which tables hold rows of a resource, so
#: re-indexing deletes only from those.
TABLE_BITS: dict[str, int] = {table: 1 << i for i, table in enumerate(INDEX_TABLES)}

_DRIVER_INDEXES: dict[str, str] = {
    "sp_token": "param, code, system",
    "sp_string": "param, normalized",
    "sp_date": "param, low, high",
    "sp_reference": "param, target_id, target_type, url",
    "sp_number": "param, value",
    "sp_quantity": "param, value",
    "sp_uri": "param, value",
    "sp_composite": "param, code1, code2",
    "sp_position": "param, latitude, longitude",
}


def _index_table_ddl(table: str) -> str:
    columns = ", ".join(f"{c}" for c in _COLUMNS[table])
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (pk INTEGER NOT NULL, param TEXT NOT NULL, "
        f"{columns});\n"
        f"CREATE INDEX IF NOT EXISTS {table}_pk ON {table} (pk, param);\n"
        f"CREATE INDEX IF NOT EXISTS {table}_value ON {table} ({_DRIVER_INDEXES[table]}, pk);\n"
    )


SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS resource (
    pk INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    indexed INTEGER NOT NULL DEFAULT 0,
    UNIQUE (type, id)
);
CREATE INDEX IF NOT EXISTS resource_type_updated ON resource (type, updated_us);
CREATE TABLE IF NOT EXISTS version (
    seq INTEGER PRIMARY KEY,
    pk INTEGER NOT NULL REFERENCES resource (pk),
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    method TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    content BLOB,
    UNIQUE (pk, version)
);
CREATE INDEX IF NOT EXISTS version_type_seq ON version (type, seq);
CREATE INDEX IF NOT EXISTS version_updated ON version (updated_us);
"""
    + "".join(_index_table_ddl(t) for t in INDEX_TABLES)
    + "CREATE INDEX IF NOT EXISTS sp_reference_target ON sp_reference "
    "(target_type, target_id, param);\n"
)


def _values(entry: IndexEntry) -> tuple[str, tuple[Any, ...]]:
    match entry:
        case TokenEntry():
            return "sp_token", (entry.system, entry.code, entry.text, entry.value)
        case StringEntry():
            return "sp_string", (entry.normalized, entry.exact)
        case DateEntry():
            return "sp_date", (entry.low_us, entry.high_us)
        case ReferenceEntry():
            return "sp_reference", (
                entry.target_type,
                entry.target_id,
                entry.url,
                entry.identifier_system,
                entry.identifier_value,
            )
        case NumberEntry():
            return "sp_number", (entry.low, entry.high, (entry.low + entry.high) / 2)
        case QuantityEntry():
            return "sp_quantity", (
                entry.low,
                entry.high,
                (entry.low + entry.high) / 2,
                entry.system,
                entry.code,
                entry.unit,
            )
        case UriEntry():
            return "sp_uri", (entry.value,)
        case CompositeEntry():
            return "sp_composite", (
                entry.first_system,
                entry.first_code,
                entry.second_system,
                entry.second_code,
            )
        case PositionEntry():
            return "sp_position", (entry.latitude, entry.longitude)
    raise TypeError(f"not an index entry: {entry!r}")  # pragma: no cover


def index_rows(pk: int, entries: Iterable[IndexEntry]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows to insert, grouped by table: ``(pk, param, *columns)``."""
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for entry in entries:
        table, values = _values(entry)
        rows[table].append((pk, entry.param, *values))
    return rows


def insert_sql(table: str) -> str:
    columns = ("pk", "param", *_COLUMNS[table])
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def columns_of(table: str) -> Sequence[str]:
    return _COLUMNS[table]
