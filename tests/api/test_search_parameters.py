"""Every registered search parameter of every served type, against a corpus with known answers.

The corpus (``tests/api/search_corpus.py``) is written once per module with fixed ids; each row
of :data:`TABLE` is one search over HTTP and the exact set of ids it must return. Searches run
with ``Prefer: handling=strict``, so a parameter the server silently dropped fails instead of
returning everything. :func:`test_every_registered_parameter_is_in_the_table` iterates the
registry, so a new row in ``capability/search_parameter_table.py`` without a test here fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import httpx
import pytest
import pytest_asyncio

from capability.resource_types import RESOURCE_TYPES
from capability.search_parameters import parameters_for
from tests.api.search_corpus import STRICT, corpus_server, ids_of
from tests.api.search_expectations import TABLE


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def corpus(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A server holding the whole corpus (written once for the module)."""
    async with corpus_server(tmp_path_factory.mktemp("search-corpus")) as client:
        yield client


def _request(query: str) -> tuple[str, list[tuple[str, str]]]:
    path, _, text = query.partition("?")
    return f"/fhir/{path}", parse_qsl(text, keep_blank_values=True)


async def _ids(client: httpx.AsyncClient, query: str) -> set[str]:
    path, params = _request(query)
    response = await client.get(path, params=tuple(params), headers=STRICT)
    assert response.status_code == 200, f"{query}: {response.text}"
    body = response.json()
    entries = body.get("entry", [])
    assert all(e["search"]["mode"] == "match" for e in entries), query
    assert not any(link["relation"] == "next" for link in body["link"]), query
    return {e["resource"]["id"] for e in entries}


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("query", "expected"), TABLE, ids=[q for q, _ in TABLE])
async def test_search(corpus: httpx.AsyncClient, query: str, expected: set[str]) -> None:
    assert await _ids(corpus, query) == expected


def _covered() -> set[tuple[str, str]]:
    """(type, code) of every parameter a row of the table searches on directly."""
    covered: set[tuple[str, str]] = set()
    for query, _ in TABLE:
        rtype, params = query.split("?", 1)[0], _request(query)[1]
        for key, _value in params:
            if key.startswith("_has:"):
                continue
            covered.add((rtype, key.split(".", 1)[0].split(":", 1)[0]))
    return covered


def test_every_registered_parameter_is_in_the_table() -> None:
    registered = {(t, code) for t in RESOURCE_TYPES for code in parameters_for(t)}
    assert len(registered) >= 360
    assert sorted(registered - _covered()) == []


def test_every_parameter_has_a_hit_and_a_miss() -> None:
    """Per (type, code), the single-parameter rows together return some resource of the type
    and leave out some other one."""
    found: dict[tuple[str, str], set[str]] = {}
    missed: dict[tuple[str, str], set[str]] = {}
    for query, expected in TABLE:
        rtype, params = query.split("?", 1)[0], _request(query)[1]
        if len(params) != 1 or params[0][0].startswith("_has:") or "." in params[0][0]:
            continue
        pair = (rtype, params[0][0].split(":", 1)[0])
        found.setdefault(pair, set()).update(expected)
        missed.setdefault(pair, set()).update(ids_of(rtype) - expected)
    registered = {(t, code) for t in RESOURCE_TYPES for code in parameters_for(t)}
    assert sorted(registered - set(found)) == []
    assert sorted(pair for pair in found if not found[pair] or not missed[pair]) == []


def test_quantity_and_number_parameters() -> None:
    """The served types have three quantity parameters (no Money one: Claim/EOB totals are
    not searchable in R4 or CARIN BB) and no number parameter; the table covers each."""
    kinds = {(t, code): p.type for t in RESOURCE_TYPES for code, p in parameters_for(t).items()}
    assert sorted(k for k, v in kinds.items() if v == "quantity") == [
        ("Condition", "abatement-age"),
        ("Condition", "onset-age"),
        ("Encounter", "length"),
    ]
    assert [k for k, v in kinds.items() if v == "number"] == []
