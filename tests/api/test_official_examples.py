"""The official R4 examples of served types round-trip through create, read, update and history
unchanged in content. Extra test: skips when the sibling conformance folder is absent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from capability.resource_types import RESOURCE_TYPES
from server.fhir import json_codec
from tests.conftest import CONFORMANCE

EXAMPLES = CONFORMANCE / "fhir" / "examples"


def _examples() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    return sorted(p for p in EXAMPLES.glob("*.json") if p.name.split("-", 1)[0] in RESOURCE_TYPES)


def _load(raw: bytes | str) -> Any:
    return json.loads(raw, parse_float=Decimal)


def _content(resource: dict[str, Any]) -> dict[str, Any]:
    """Everything but the server-maintained id, versionId and lastUpdated."""
    out = {k: v for k, v in resource.items() if k != "id"}
    meta = {k: v for k, v in out.pop("meta", {}).items() if k not in ("versionId", "lastUpdated")}
    if meta:
        out["meta"] = meta
    return out


pytestmark = pytest.mark.conformance


def test_all_served_examples_are_present() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("../shared/conformance is not present")
    assert len(_examples()) == 31


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.stem)
async def test_round_trip(client: httpx.AsyncClient, path: Path) -> None:
    raw = path.read_bytes()
    original = _load(raw)
    rtype = original["resourceType"]
    headers = {"content-type": "application/fhir+json"}

    created = await client.post(f"/fhir/{rtype}", content=raw, headers=headers)
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    read = await client.get(f"/fhir/{rtype}/{new_id}")
    assert _content(_load(read.content)) == _content(original)

    as_create = await client.put(f"/fhir/{rtype}/{original['id']}", content=raw, headers=headers)
    assert as_create.status_code == 201, as_create.text
    tagged = dict(original)
    tagged["meta"] = {**original.get("meta", {}), "tag": [{"system": "urn:test", "code": "v2"}]}
    updated = await client.put(
        f"/fhir/{rtype}/{original['id']}", content=json_codec.dumps(tagged), headers=headers
    )
    assert updated.status_code == 200, updated.text

    history = _load((await client.get(f"/fhir/{rtype}/{original['id']}/_history")).content)
    v2, v1 = (entry["resource"] for entry in history["entry"])
    assert v1["meta"]["versionId"] == "1" and v2["meta"]["versionId"] == "2"
    assert _content(v1) == _content(original)
    assert _content(v2) == _content(tagged)
    vread = _load((await client.get(f"/fhir/{rtype}/{original['id']}/_history/1")).content)
    assert vread == v1
