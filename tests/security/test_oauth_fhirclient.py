"""The Python SMART client ``fhirclient`` through discovery, authorize, login and callback.

The facade runs under uvicorn on a free loopback port (fhirclient speaks ``requests``)."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import uvicorn
from fhirclient import client as smart_client

from server.app import create_app
from server.security.registration import new_client
from server.settings import AuthSettings, Settings
from server.storage.sqlite_auth import SqliteAuthStore

REDIRECT = "http://127.0.0.1:9/callback"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Settings, str]]:
    port = _free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'facade.db'}",
        base_url=f"http://127.0.0.1:{port}",
        auth=AuthSettings(
            demo_username="pat", demo_password="secret-pw", demo_fhir_user="Patient/pat1"
        ),
    )
    client, _ = new_client(
        "fhirclient app",
        "public",
        (REDIRECT,),
        "openid fhirUser launch/patient offline_access patient/*.rs",
    )

    async def register() -> None:
        store = SqliteAuthStore(settings.sqlite_path())
        await store.open()
        await store.put_client(client)
        await store.close()

    asyncio.run(register())
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws="none",
        http="h11",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        yield settings, client.client_id
    finally:
        server.should_exit = True
        thread.join(5)


def test_fhirclient_standalone_launch(served: tuple[Settings, str]) -> None:
    settings, client_id = served
    smart = smart_client.FHIRClient(
        settings={
            "app_id": client_id,
            "api_base": settings.fhir_base,
            "redirect_uri": REDIRECT,
            "scope": "openid fhirUser launch/patient offline_access patient/*.rs",
        }
    )
    url = smart.authorize_url
    assert url is not None and url.startswith(f"{settings.base_url}/auth/authorize")
    with requests.Session() as browser:
        page = browser.get(url, allow_redirects=False, timeout=5)
        assert page.status_code == 200
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        fields |= {"username": "pat", "password": "secret-pw"}
        done = browser.post(
            f"{settings.base_url}/auth/authorize", data=fields, allow_redirects=False, timeout=5
        )
    assert done.status_code == 302, done.text
    callback = done.headers["location"]
    assert callback.startswith(REDIRECT)
    smart.handle_callback(callback)
    assert smart.ready and smart.patient_id == "pat1"
    assert smart.server.auth.refresh_token
    bundle = smart.server.request_json("Claim")
    assert bundle["resourceType"] == "Bundle"
