"""Demo data of ``facade sandbox``: one clinician, two patients with an open encounter, the
facade registered as an enabled confidential client, and optional launchable apps whose launch
URL is the facade's relay. Development values only; nothing here exists in a real OpenEMR."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.openemr.state import OpenEmrState

__all__ = ["DEMO_ENCOUNTER", "DEMO_PATIENTS", "DEMO_USER", "DemoSeed", "seed_demo"]

#: username, password, user uuid (OpenEMR's well-known demo login).
DEMO_USER = ("admin", "pass", "9473b0cf-e969-4eaa-8044-51037767fa4f")
DEMO_PATIENTS = (
    ("946da617-1a4a-4b2c-ae66-93b84377cb1e", "Aurore252", "Von197"),
    ("9564987e-0899-4528-95a0-d5e88741cf51", "Jane", "Sample"),
)
DEMO_ENCOUNTER = "946da61d-6b95-4f8e-abe5-534a25913b71"


@dataclass(frozen=True, slots=True)
class DemoSeed:
    """What to seed. ``launch_apps``: app name -> launch URL (the facade's
    ``/smart/launch/{client_id}``) for the "SMART Enabled Apps" card."""

    facade_base_url: str
    client_id: str
    client_secret: str
    scopes: str
    launch_apps: dict[str, str] = field(default_factory=dict)


def seed_demo(state: OpenEmrState, seed: DemoSeed) -> None:
    username, password, user_uuid = DEMO_USER
    state.add_user(username, password, user_uuid=user_uuid, given="Billy", family="Smith")
    for patient_uuid, given, family in DEMO_PATIENTS:
        state.add_patient(given, family, patient_uuid=patient_uuid)
    state.add_encounter(DEMO_PATIENTS[0][0], encounter_uuid=DEMO_ENCOUNTER)
    state.current_patient = DEMO_PATIENTS[0][0]
    state.current_encounter = DEMO_ENCOUNTER
    base = seed.facade_base_url.rstrip("/")
    scopes = ("openid", "fhirUser", "launch", "offline_access", *seed.scopes.split())
    state.add_client(
        "FHIR Financial Facade",
        client_id=seed.client_id,
        secret=seed.client_secret,
        redirect_uris=(f"{base}/smart/callback",),
        scopes=tuple(dict.fromkeys(scopes)),
        enabled=True,
        token_endpoint_auth_method="client_secret_post",
    )
    for number, (name, launch_uri) in enumerate(sorted(seed.launch_apps.items()), start=1):
        state.add_client(
            name,
            client_id=f"{seed.client_id}-app-{number}",
            redirect_uris=(f"{base}/smart/callback",),
            scopes=("launch", "openid", "fhirUser"),
            launch_uri=launch_uri,
            enabled=True,
        )
