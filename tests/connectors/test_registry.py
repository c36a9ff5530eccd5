"""Connectors built from settings (``FACADE_CONNECTORS__<NAME>__...``): one per configured
connection, of its kind, REST ones on an injected transport and sharing one token per
credential."""

from __future__ import annotations

import json

import httpx
import pytest

from server.connectors.chc import ChcConnector
from server.connectors.registry import connectors_from_settings
from server.connectors.sftp import SftpConnector
from server.settings import Settings


async def test_one_connector_per_connection_sharing_tokens(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, kind in (("batch", "sftp"), ("optum", "chc"), ("optum2", "chc"),
                       ("stedi", "stedi")):
        monkeypatch.setenv(f"FACADE_CONNECTORS__{name.upper()}__KIND", kind)
    for name in ("OPTUM", "OPTUM2"):
        monkeypatch.setenv(f"FACADE_CONNECTORS__{name}__CLIENT_ID", "facade")
        monkeypatch.setenv(f"FACADE_CONNECTORS__{name}__CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("FACADE_CONNECTORS__BATCH__USAGE", "P")
    tokens = 0

    def vendor(request: httpx.Request) -> httpx.Response:
        nonlocal tokens
        if request.url.path == "/apip/auth/v2/token":
            tokens += 1
            assert json.loads(request.content)["client_secret"] == "s3cret"
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"reports": []})

    settings = Settings()
    assert "s3cret" not in repr(settings.connectors)
    connectors = connectors_from_settings(settings, transport=httpx.MockTransport(vendor))
    assert {name: c.kind for name, c in connectors.items()} == {
        "batch": "sftp", "optum": "chc", "optum2": "chc", "stedi": "stedi"}
    assert isinstance(connectors["batch"], SftpConnector)
    assert connectors["batch"].partners.usage == "P"
    assert isinstance(connectors["optum"], ChcConnector)
    assert await connectors["optum"].poll() == []
    assert await connectors["optum2"].poll() == []
    assert tokens == 1
    for connector in connectors.values():
        await connector.close()
