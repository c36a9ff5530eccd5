"""``facade clients add|list|approve|disable|token``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from server.cli import main
from server.security.access import Access
from server.security.authorization import AuthServer
from server.settings import Settings
from server.storage.sqlite_auth import SqliteAuthStore
from tests.security.oauth_support import client_keys


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("FACADE_DATABASE_URL", f"sqlite:///{tmp_path / 'facade.db'}")
    monkeypatch.setenv("FACADE_BASE_URL", "http://testserver")
    return Settings()


def _authenticate(settings: Settings, token: str) -> Access:
    async def check() -> Access:
        server = AuthServer(settings, SqliteAuthStore(settings.sqlite_path()))
        await server.open()
        try:
            return await server.authenticate(f"Bearer {token}", None)
        finally:
            await server.close()

    return asyncio.run(check())


def test_add_list_token_disable_approve(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "clients",
                "add",
                "billing",
                "--kind",
                "confidential-symmetric",
                "--redirect-uri",
                "https://billing.example/cb",
                "--scope",
                "user/Claim.rs system/Claim.rs",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    client_id = out.split("client_id: ")[1].split()[0]
    assert "client_secret: " in out
    assert main(["clients", "list"]) == 0
    listing = capsys.readouterr().out
    assert client_id in listing and "enabled" in listing
    assert (
        main(
            [
                "clients",
                "token",
                "billing",
                "--scope",
                "system/Claim.rs system/*.cruds",
                "--patient",
                "p1",
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip()
    access = _authenticate(env, token)
    assert access.client_id == client_id and access.patient == "p1"
    assert access.scopes.text == "system/Claim.rs"
    assert main(["clients", "disable", client_id]) == 0
    assert main(["clients", "token", client_id]) == 1
    assert main(["clients", "approve", client_id]) == 0
    assert main(["clients", "token", client_id]) == 0
    assert main(["clients", "approve", "nope"]) == 1


def test_add_asymmetric_and_bad_input(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, jwks = client_keys()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    assert (
        main(
            [
                "clients",
                "add",
                "backend",
                "--kind",
                "confidential-asymmetric",
                "--scope",
                "system/*.rs",
                "--jwks-file",
                str(path),
            ]
        )
        == 0
    )
    assert "client_secret" not in capsys.readouterr().out
    assert (
        main(["clients", "add", "x", "--kind", "confidential-asymmetric", "--scope", "system/*.rs"])
        == 2
    )
    assert main(["clients", "add", "x", "--kind", "public", "--scope", "bogus"]) == 2
    assert (
        main(
            [
                "clients",
                "add",
                "x",
                "--kind",
                "public",
                "--scope",
                "patient/*.rs",
                "--redirect-uri",
                "http://evil.example/cb",
            ]
        )
        == 2
    )
