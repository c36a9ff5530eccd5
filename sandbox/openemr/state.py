"""The stand-in's memory: users, patients, encounters, API clients and the OAuth artefacts
(codes, refresh tokens, issued access tokens, login sessions). Nothing is persisted: a restart
forgets everything, as a sandbox should.

Records mirror OpenEMR's tables loosely: ``users`` (practitioners log in with a username and
password), ``patient_data``/``form_encounter`` (uuids), ``oauth_clients`` (``is_enabled``,
``redirect_uri``, ``launch_uri`` = ``initiate_login_uri``, ``jwks``/``jwks_uri``), and
``api_token`` (issued access tokens by ``jti``, revocable).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiClient",
    "AuthCode",
    "Encounter",
    "IssuedToken",
    "LoginSession",
    "OpenEmrState",
    "Patient",
    "RefreshToken",
    "User",
]


def new_uuid() -> str:
    return str(uuid.uuid4())


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(slots=True)
class User:
    """A clinician account; ``fhir_user`` is the FHIR reference of the user (Practitioner)."""

    username: str
    password_hash: str
    uuid: str = field(default_factory=new_uuid)
    fhir_type: str = "Practitioner"
    given: str = ""
    family: str = ""

    def check_password(self, password: str) -> bool:
        return hmac.compare_digest(self.password_hash, _hash_secret(password))

    @property
    def fhir_user(self) -> str:
        return f"{self.fhir_type}/{self.uuid}"


@dataclass(slots=True)
class Patient:
    uuid: str
    given: str
    family: str
    birth_date: str = "1970-01-01"
    gender: str = "unknown"


@dataclass(slots=True)
class Encounter:
    uuid: str
    patient: str


@dataclass(slots=True)
class ApiClient:
    """An OAuth client (``oauth_clients``). ``secret_hash`` is None for public clients."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    secret_hash: str | None = None
    launch_uri: str | None = None
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    enabled: bool = False
    token_endpoint_auth_method: str = "client_secret_basic"
    registration_access_token: str | None = None
    skip_ehr_launch_authorization: bool = False

    @property
    def confidential(self) -> bool:
        return self.secret_hash is not None or self.jwks is not None or bool(self.jwks_uri)

    def check_secret(self, secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(self.secret_hash, _hash_secret(secret))


@dataclass(slots=True)
class AuthCode:
    """An authorization code (1 minute, single use, bound to client, redirect URI and PKCE)."""

    client_id: str
    redirect_uri: str
    user: str
    scopes: tuple[str, ...]
    expires: float
    session: str
    code_challenge: str | None
    nonce: str | None = None
    launch: dict[str, Any] | None = None
    patient: str | None = None


@dataclass(slots=True)
class RefreshToken:
    client_id: str
    user: str
    scopes: tuple[str, ...]
    expires: float
    session: str
    launch: dict[str, Any] | None = None
    patient: str | None = None
    revoked: bool = False


@dataclass(slots=True)
class IssuedToken:
    """An access token by ``jti``: what introspection reports and what revocation flips."""

    jti: str
    client_id: str
    user: str
    scopes: tuple[str, ...]
    expires: float
    session: str | None
    fhir_user: str | None = None
    patient: str | None = None
    encounter: str | None = None
    revoked: bool = False


@dataclass(slots=True)
class LoginSession:
    """The ``authserverOpenEMR`` session: the pending authorization request and the user."""

    sid: str
    request: dict[str, Any] = field(default_factory=dict)
    user: str | None = None
    patient: str | None = None


class OpenEmrState:
    """Everything the stand-in knows, with the small operations the routes need."""

    SYSTEM_USER = "system-user-" + "0" * 24

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.patients: dict[str, Patient] = {}
        self.encounters: dict[str, Encounter] = {}
        self.clients: dict[str, ApiClient] = {}
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.sessions: dict[str, LoginSession] = {}
        self.assertion_jtis: dict[str, float] = {}
        #: The EHR session's "current" patient and open encounter (Patient Dashboard).
        self.current_patient: str | None = None
        self.current_encounter: str | None = None

    # -- seeding / admin ------------------------------------------------------------------

    def add_user(
        self, username: str, password: str, *, user_uuid: str | None = None,
        given: str = "", family: str = "",
    ) -> User:
        user = User(username, _hash_secret(password), user_uuid or new_uuid(), given=given,
                    family=family)
        self.users[username] = user
        return user

    def add_patient(self, given: str, family: str, *, patient_uuid: str | None = None,
                    birth_date: str = "1970-01-01", gender: str = "unknown") -> Patient:
        patient = Patient(patient_uuid or new_uuid(), given, family, birth_date, gender)
        self.patients[patient.uuid] = patient
        return patient

    def add_encounter(self, patient: str, *, encounter_uuid: str | None = None) -> Encounter:
        encounter = Encounter(encounter_uuid or new_uuid(), patient)
        self.encounters[encounter.uuid] = encounter
        return encounter

    def add_client(
        self,
        name: str,
        *,
        redirect_uris: tuple[str, ...],
        scopes: tuple[str, ...],
        client_id: str | None = None,
        secret: str | None = None,
        launch_uri: str | None = None,
        jwks: dict[str, Any] | None = None,
        jwks_uri: str | None = None,
        enabled: bool = False,
        token_endpoint_auth_method: str = "client_secret_basic",
    ) -> ApiClient:
        client = ApiClient(
            client_id=client_id or secrets.token_urlsafe(32),
            name=name,
            redirect_uris=redirect_uris,
            scopes=scopes,
            secret_hash=_hash_secret(secret) if secret is not None else None,
            launch_uri=launch_uri,
            jwks=jwks,
            jwks_uri=jwks_uri,
            enabled=enabled,
            token_endpoint_auth_method=token_endpoint_auth_method,
        )
        self.clients[client.client_id] = client
        return client

    def user_by_uuid(self, user_uuid: str) -> User | None:
        return next((u for u in self.users.values() if u.uuid == user_uuid), None)

    # -- sessions, codes, tokens ----------------------------------------------------------

    def session(self, sid: str | None) -> LoginSession:
        """The session of cookie ``sid``, or a fresh one."""
        if sid and sid in self.sessions:
            return self.sessions[sid]
        fresh = LoginSession(secrets.token_urlsafe(24))
        self.sessions[fresh.sid] = fresh
        return fresh

    def end_session(self, sid: str) -> None:
        """Logout: forget the session and revoke the access tokens issued inside it."""
        self.sessions.pop(sid, None)
        for token in self.tokens.values():
            if token.session == sid:
                token.revoked = True
        for refresh in self.refresh_tokens.values():
            if refresh.session == sid:
                refresh.revoked = True

    def take_code(self, code: str) -> AuthCode | None:
        """Single use: the code is gone after the first attempt, valid or not."""
        record = self.codes.pop(code, None)
        if record is None or record.expires < time.time():
            return None
        return record

    def remember_assertion(self, jti: str, expires: float) -> bool:
        """False when the assertion ``jti`` was seen before (replay)."""
        now = time.time()
        for old in [k for k, exp in self.assertion_jtis.items() if exp < now]:
            del self.assertion_jtis[old]
        if jti in self.assertion_jtis:
            return False
        self.assertion_jtis[jti] = expires
        return True

    def active_token(self, jti: str) -> IssuedToken | None:
        token = self.tokens.get(jti)
        if token is None or token.revoked or token.expires < time.time():
            return None
        return token
