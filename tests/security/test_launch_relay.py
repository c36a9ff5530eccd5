"""The EHR launch from OpenEMR through the facade's relay, both apps in process:
OpenEMR "SMART Enabled Apps" action -> /smart/launch -> OpenEMR authorize (login posted) ->
/smart/callback -> the app's launch URL with the facade's iss + launch -> the app's own
authorization at /auth/authorize -> a token carrying OpenEMR's patient, encounter and user."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from sandbox.openemr import DemoSeed, OpenEmrConfig, StandIn, create_openemr_app, seed_demo
from sandbox.openemr.seed import DEMO_ENCOUNTER, DEMO_PATIENTS, DEMO_USER
from server.app import create_app
from server.security.auth_store import Client
from server.security.launch_relay import LaunchRelay
from server.security.openemr_client import RelayError
from server.settings import OpenEmrSettings, Settings
from tests.sandbox.openemr_flow import FHIR as OPENEMR_FHIR
from tests.sandbox.openemr_flow import OPENEMR, login_and_consent, query_of

FACADE = "http://testserver"
APP_LAUNCH = "https://app.example/launch"
APP_REDIRECT = "https://app.example/callback"
APP_ID = "billing-app"


@dataclass
class World:
    facade: FastAPI
    standin: StandIn
    browser: httpx.AsyncClient


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'facade.db'}",
        base_url=FACADE,
        openemr=OpenEmrSettings(
            base_url=OPENEMR, client_id="facade-sandbox", client_secret="dev-secret"
        ),
    )
    stand = StandIn(OpenEmrConfig(base_url=OPENEMR))
    seed_demo(
        stand.state,
        DemoSeed(
            FACADE,
            "facade-sandbox",
            "dev-secret",
            "api:fhir",
            {"Billing": f"{FACADE}/smart/launch/{APP_ID}"},
        ),
    )
    openemr_app = create_openemr_app(standin=stand)
    facade = create_app(settings)
    async with LifespanManager(facade):
        await facade.state.auth.store.put_client(
            Client(
                client_id=APP_ID,
                name="Billing",
                kind="public",
                redirect_uris=(APP_REDIRECT,),
                scope="openid fhirUser launch patient/*.rs user/*.rs",
                launch_uri=APP_LAUNCH,
            )
        )
        relay: LaunchRelay = facade.state.launch_relay
        relay.openemr.transport = httpx.ASGITransport(app=openemr_app)
        mounts = {
            OPENEMR: httpx.ASGITransport(app=openemr_app),
            FACADE: httpx.ASGITransport(app=facade),
        }
        async with httpx.AsyncClient(mounts=mounts) as browser:
            yield World(facade, stand, browser)


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return loaded


async def _relay_to_app(world: World) -> httpx.Response:
    """From the OpenEMR launch action to the 302 that opens the app."""
    browser = world.browser
    action = await browser.get(
        f"{OPENEMR}/interface/smart/ehr-launch-client.php",
        params={"client_id": "facade-sandbox-app-1", "intent": "encounter.forms.dialog"},
    )
    assert action.status_code == 302
    start = await browser.get(action.headers["location"])
    assert start.status_code == 302, start.text
    assert start.headers["content-security-policy"] == f"frame-ancestors {OPENEMR}"
    assert "samesite=lax" in start.headers["set-cookie"].lower()
    authorize = start.headers["location"]
    assert authorize.startswith(f"{OPENEMR}/oauth2/default/authorize?")
    asked = query_of(authorize)
    assert asked["aud"] == OPENEMR_FHIR and asked["code_challenge_method"] == "S256"
    assert asked["scope"].split()[:3] == ["openid", "fhirUser", "launch"]
    done = await login_and_consent(browser, await browser.get(authorize))
    assert done.headers["location"].startswith(f"{FACADE}/smart/callback?")
    return await browser.get(done.headers["location"])


async def test_full_ehr_launch_binds_openemr_context(world: World) -> None:
    opened = await _relay_to_app(world)
    assert opened.status_code == 302, opened.text
    target = opened.headers["location"]
    assert target.startswith(APP_LAUNCH + "?")
    launch = query_of(target)
    assert launch["iss"] == f"{FACADE}/fhir"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    authorize = await world.browser.get(
        f"{FACADE}/auth/authorize",
        params={
            "response_type": "code",
            "client_id": APP_ID,
            "redirect_uri": APP_REDIRECT,
            "scope": "openid fhirUser launch patient/*.rs",
            "state": "app-state",
            "aud": f"{FACADE}/fhir",
            "launch": launch["launch"],
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        },
    )
    assert authorize.status_code == 302, authorize.text
    back = query_of(authorize.headers["location"])
    assert back["state"] == "app-state"
    token = await world.browser.post(
        f"{FACADE}/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": APP_REDIRECT,
            "client_id": APP_ID,
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["patient"] == DEMO_PATIENTS[0][0]
    assert body["encounter"] == DEMO_ENCOUNTER
    assert _claims(body["id_token"])["fhirUser"] == f"{FACADE}/fhir/Practitioner/{DEMO_USER[2]}"
    again = await world.browser.get(
        f"{FACADE}/auth/authorize",
        params={
            "response_type": "code",
            "client_id": APP_ID,
            "redirect_uri": APP_REDIRECT,
            "scope": "openid launch",
            "aud": f"{FACADE}/fhir",
            "launch": launch["launch"],
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        },
    )
    assert "code" not in query_of(again.headers.get("location", ""))  # launch ids: single use


async def test_launch_refuses_unknown_iss_and_clients(world: World) -> None:
    launch = f"{FACADE}/smart/launch/{APP_ID}"
    wrong_iss = await world.browser.get(launch, params={"launch": "x", "iss": "https://evil/fhir"})
    assert wrong_iss.status_code == 400 and "iss" in wrong_iss.text
    assert wrong_iss.headers["content-security-policy"] == f"frame-ancestors {OPENEMR}"
    unknown = await world.browser.get(
        f"{FACADE}/smart/launch/nobody",
        params={"launch": "x", "iss": OPENEMR_FHIR},
        headers={"Accept": "application/json"},
    )
    assert unknown.status_code == 400 and "client id" in unknown.json()["message"]
    no_launch = await world.browser.get(launch, params={"iss": OPENEMR_FHIR})
    assert no_launch.status_code == 400


async def test_callback_needs_its_cookie_and_a_code(world: World) -> None:
    callback = f"{FACADE}/smart/callback"
    forged = await world.browser.get(callback, params={"code": "c", "state": "s"})
    assert forged.status_code == 400 and "launch session" in forged.text
    denied = await world.browser.get(callback, params={"error": "access_denied", "state": "s"})
    assert denied.status_code == 400 and "access_denied" in denied.text
    world.standin.state.clients["facade-sandbox"].secret_hash = "0" * 64  # rotated at OpenEMR
    refused = await _relay_to_app(world)
    assert refused.status_code == 400 and "invalid_client" in refused.text


async def test_id_token_checks(world: World) -> None:
    relay: LaunchRelay = world.facade.state.launch_relay
    signer = world.standin.signer
    oauth = f"{OPENEMR}/oauth2/default"
    good = signer.id_token(
        issuer=oauth, client_id="facade-sandbox", subject="u1", fhir_user=None, nonce="n"
    )
    assert (await relay.openemr.verify_id_token(good, "n"))["sub"] == "u1"
    for token, nonce in [
        (
            signer.id_token(
                issuer=oauth, client_id="other", subject="u1", fhir_user=None, nonce="n"
            ),
            "n",
        ),
        (good, "other-nonce"),
        (
            signer.id_token(
                issuer="https://evil",
                client_id="facade-sandbox",
                subject="u1",
                fhir_user=None,
                nonce="n",
            ),
            "n",
        ),
        (
            signer.id_token(
                issuer=oauth,
                client_id="facade-sandbox",
                subject="u1",
                fhir_user=None,
                nonce="n",
                lifetime=-3600,
            ),
            "n",
        ),
        (
            StandIn(OpenEmrConfig()).signer.id_token(
                issuer=oauth, client_id="facade-sandbox", subject="u1", fhir_user=None, nonce="n"
            ),
            "n",
        ),
    ]:
        with pytest.raises(RelayError):
            await relay.openemr.verify_id_token(token, nonce)
