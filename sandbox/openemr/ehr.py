"""The EHR side of the stand-in: the Patient Dashboard's "SMART Enabled Apps" card, the launch
action, and a JSON admin API for seeding (not part of OpenEMR; the stand-in binds loopback).

Launch (OPENEMR.md section 7; ``interface/smart/ehr-launch-client.php``,
``SMARTLaunchToken.php``): ``GET /interface/smart/ehr-launch-client.php?client_id=..&intent=..``
takes the session's current patient (``pid``) and open encounter, or ``patient`` /
``encounter`` query values, and answers 302 to the client's ``initiate_login_uri`` with
``launch`` (opaque, base64), ``iss`` and ``aud`` (both the FHIR base). Only enabled clients
that registered a launch URI and the ``launch`` scope are launchable.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from sandbox.openemr.context import StandIn, standin
from sandbox.openemr.pages import apps_page, message_page
from sandbox.openemr.state import ApiClient

__all__ = ["admin_router", "ehr_router"]

INTENTS = ("patient.demographics.dialog", "encounter.forms.dialog", "appointment.edit.dialog",
           "main.tab")


def _launchable(client: ApiClient) -> bool:
    return client.enabled and bool(client.launch_uri) and "launch" in client.scopes


def launch_redirect(stand: StandIn, client: ApiClient, patient: str, encounter: str | None,
                    intent: str) -> str:
    """The app's launch URL with ``launch``, ``iss`` and ``aud``."""
    context: dict[str, Any] = {"p": patient, "i": intent}
    if encounter:
        context["e"] = encounter
    query = urlencode({
        "launch": stand.seal_launch(context),
        "iss": stand.config.fhir_base,
        "aud": stand.config.fhir_base,
    })
    target = client.launch_uri or ""
    return target + ("&" if "?" in target else "?") + query


def ehr_router() -> APIRouter:
    router = APIRouter()

    @router.get("/interface/smart/ehr-launch-client.php")
    async def ehr_launch(request: Request) -> Response:
        stand = standin(request)
        params = request.query_params
        client = stand.state.clients.get(params.get("client_id", ""))
        if client is None or not _launchable(client):
            return message_page("SMART launch", "This app cannot be launched.", 400)
        patient = params.get("patient") or stand.state.current_patient
        if not patient or patient not in stand.state.patients:
            return message_page("SMART launch", "Select a patient first.", 400)
        encounter = params.get("encounter") or stand.state.current_encounter
        if encounter and stand.state.encounters.get(encounter) is None:
            return message_page("SMART launch", "Unknown encounter.", 400)
        if encounter and stand.state.encounters[encounter].patient != patient:
            encounter = None
        intent = params.get("intent") or INTENTS[0]
        if intent not in INTENTS:
            return message_page("SMART launch", "Unknown intent.", 400)
        url = launch_redirect(stand, client, patient, encounter, intent)
        return RedirectResponse(url, status_code=302)

    @router.get("/interface/patient_file/summary/demographics.php")
    async def dashboard(request: Request) -> Response:
        stand = standin(request)
        patient = request.query_params.get("set_pid") or stand.state.current_patient or ""
        if patient in stand.state.patients:
            stand.state.current_patient = patient
        apps = [
            (c.name, "/interface/smart/ehr-launch-client.php?"
             + urlencode({"client_id": c.client_id, "intent": INTENTS[0]}))
            for c in stand.state.clients.values() if _launchable(c)
        ]
        return apps_page(patient, apps)

    return router


def _json_body(raw: bytes) -> dict[str, Any]:
    try:
        loaded = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def admin_router() -> APIRouter:
    """``/sandbox/admin``: seed users, patients, encounters, clients; enable clients; set the
    EHR session's current patient and encounter."""
    router = APIRouter(prefix="/sandbox/admin")

    @router.post("/users")
    async def add_user(request: Request) -> Response:
        body = _json_body(await request.body())
        if not body.get("username") or not body.get("password"):
            return JSONResponse({"error": "username and password are required"}, 400)
        user = standin(request).state.add_user(
            str(body["username"]), str(body["password"]), user_uuid=body.get("uuid"),
            given=str(body.get("given", "")), family=str(body.get("family", "")),
        )
        return JSONResponse({"username": user.username, "uuid": user.uuid,
                             "fhirUser": user.fhir_user}, 201)

    @router.post("/patients")
    async def add_patient(request: Request) -> Response:
        body = _json_body(await request.body())
        patient = standin(request).state.add_patient(
            str(body.get("given", "")), str(body.get("family", "")),
            patient_uuid=body.get("uuid"),
        )
        return JSONResponse({"uuid": patient.uuid}, 201)

    @router.post("/encounters")
    async def add_encounter(request: Request) -> Response:
        body = _json_body(await request.body())
        state = standin(request).state
        if body.get("patient") not in state.patients:
            return JSONResponse({"error": "unknown patient"}, 400)
        encounter = state.add_encounter(str(body["patient"]), encounter_uuid=body.get("uuid"))
        return JSONResponse({"uuid": encounter.uuid}, 201)

    @router.post("/clients")
    async def add_client(request: Request) -> Response:
        body = _json_body(await request.body())
        uris = body.get("redirect_uris")
        if not isinstance(uris, list) or not uris:
            return JSONResponse({"error": "redirect_uris is required"}, 400)
        client = standin(request).state.add_client(
            str(body.get("client_name", "App")),
            redirect_uris=tuple(str(u) for u in uris),
            scopes=tuple(str(body.get("scope", "")).split()),
            client_id=body.get("client_id"),
            secret=body.get("client_secret"),
            launch_uri=body.get("initiate_login_uri"),
            jwks=body.get("jwks"),
            jwks_uri=body.get("jwks_uri"),
            enabled=bool(body.get("enabled", False)),
        )
        return JSONResponse({"client_id": client.client_id, "enabled": client.enabled}, 201)

    @router.post("/clients/{client_id}/enable")
    async def enable_client(client_id: str, request: Request) -> Response:
        client = standin(request).state.clients.get(client_id)
        if client is None:
            return JSONResponse({"error": "unknown client"}, 404)
        client.enabled = True
        return JSONResponse({"client_id": client_id, "enabled": True})

    @router.post("/session")
    async def set_session(request: Request) -> Response:
        body = _json_body(await request.body())
        state = standin(request).state
        patient = body.get("patient")
        if patient is not None and patient not in state.patients:
            return JSONResponse({"error": "unknown patient"}, 400)
        state.current_patient = patient
        state.current_encounter = body.get("encounter")
        return JSONResponse({"patient": patient, "encounter": state.current_encounter})

    return router
