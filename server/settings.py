"""Settings of the facade: the only module that reads the environment.

Variables carry the prefix ``FACADE_``; nested groups are joined with ``__``
(``FACADE_LIMITS__MAX_BODY_BYTES``). See DESIGN.md, "Settings".
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "AuthSettings",
    "ConnectorSettings",
    "PipelineSettings",
    "LimitsSettings",
    "OpenEmrSettings",
    "Settings",
    "X12Settings",
    "is_loopback_host",
]


def _no_trailing_slash(cls: type, value: str) -> str:
    """Origins are configured with or without a trailing slash and used without one."""
    return value.rstrip("/")


class LimitsSettings(BaseModel):
    """Request limits (R4 search.html#count for the page sizes)."""

    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    default_count: int = Field(default=20, ge=1)
    max_count: int = Field(default=500, ge=1)
    max_bundle_entries: int = Field(default=5_000, ge=1)


class AuthSettings(BaseModel):
    """The SMART authorization server (SMART App Launch 2.x; RFC 6749, 7636, 7591, 7662, 7009).

    Lifetimes are in seconds. ``demo_username`` (empty: none) seeds a local user at start for
    the standalone launch; ``demo_client_id`` (empty: none) seeds an enabled public client with
    ``demo_redirect_uri``. Dev conveniences only: leave them empty in production."""

    enabled: bool = True
    audit: bool = True
    """An AuditEvent per request and authorization decision (server/security/audit.py)."""
    access_token_ttl: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl: int = Field(default=90 * 86_400, ge=300)
    code_ttl: int = Field(default=60, ge=10, le=600)
    launch_ttl: int = Field(default=300, ge=30, le=3600)
    session_ttl: int = Field(default=3600, ge=60)
    access_token_alg: str = Field(default="RS384", pattern="^(RS384|ES384)$")
    key_rotation_days: int = Field(default=90, ge=1)
    demo_username: str = ""
    demo_password: str = ""
    demo_fhir_user: str = ""
    demo_client_id: str = ""
    demo_redirect_uri: str = ""
    demo_client_scope: str = "openid fhirUser launch/patient offline_access patient/*.rs"


class X12Settings(BaseModel):
    """Who outbound X12 is from and to (ISA06/ISA08, GS02/GS03, 837 1000A/1000B)."""

    sender_id: str = Field(default="FACADE", min_length=1, max_length=15)
    sender_qualifier: str = Field(default="ZZ", min_length=2, max_length=2)
    sender_name: str = "FHIR FINANCIAL FACADE"
    receiver_id: str = Field(default="CLEARINGHOUSE", min_length=1, max_length=15)
    receiver_qualifier: str = Field(default="ZZ", min_length=2, max_length=2)
    receiver_name: str = "CLEARINGHOUSE"
    contact_name: str = "BILLING OFFICE"
    contact_phone: str = Field(default="5555550100", pattern=r"^\d{10,15}$")
    usage: str = Field(default="T", pattern="^[TP]$")
    """ISA15: T test, P production."""


class ConnectorSettings(X12Settings):
    """One clearinghouse connection (``FACADE_CONNECTORS__<NAME>__...``; CLEARINGHOUSES.md):
    the X12 envelope of what goes through it (the ``X12Settings`` fields, section 5), and how to
    reach the vendor.

    ``kind``: ``sftp`` (X12 batch files), ``chc`` (Optum/Change Healthcare Medical Network JSON,
    OAuth2 client credentials) or ``stedi`` (the same JSON under Stedi's paths, API-key auth).
    Secrets are ``SecretStr``: they never appear in a repr or a log line."""

    kind: str = Field(default="sftp", pattern="^(sftp|chc|stedi)$")
    # SFTP (section 5): host, port, user, password or private key, folders.
    host: str = "127.0.0.1"
    port: int = Field(default=2222, ge=1, le=65535)
    username: str = ""
    password: SecretStr = SecretStr("")
    private_key_file: str = ""
    known_hosts_file: str = ""
    """Empty: the server's host key is not checked (loopback sandboxes only)."""
    inbound_dir: str = "inbound"
    """Where our 837 batches go (the clearinghouse's inbound folder)."""
    outbound_dir: str = "outbound"
    """Where the clearinghouse leaves TA1/999/277CA/835/271/277 files for us."""
    archive_dir: str = ""
    """Empty: fetched files are deleted once stored; else moved here."""
    file_prefix: str = ""
    # REST (sections 2 and 6).
    base_url: str = "http://127.0.0.1:8082"
    token_url: str = ""
    """Empty: ``{base_url}/apip/auth/v2/token`` (CHC)."""
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    api_key: SecretStr = SecretStr("")
    # Behaviour towards the vendor.
    rate_per_second: float = Field(default=50.0, gt=0)
    burst: int = Field(default=20, ge=1)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    breaker_failures: int = Field(default=5, ge=1)
    """Consecutive failures that open the circuit breaker."""
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    """How long an open breaker refuses calls before letting one through."""

    _strip_slash = field_validator("base_url", "token_url")(_no_trailing_slash)


class PipelineSettings(BaseModel):
    """The claim pipeline: durable jobs (DESIGN.md law 3) and the connector they use."""

    default_connector: str = ""
    """The connector `$submit` uses (a key of ``connectors``); empty: the only one configured."""
    realtime_connector: str = ""
    """The connector for eligibility and claim status (real-time transactions); empty: the
    claim's own connector, else the default. SFTP batch connections offer neither."""
    worker_in_serve: bool = True
    """Run the job worker inside ``facade serve`` (``facade worker`` runs it alone)."""
    batch_size: int = Field(default=500, ge=1, le=5000)
    """Claims per 837 interchange (one SFTP file)."""
    poll_seconds: float = Field(default=5.0, gt=0)
    """How often each connector's mailbox or outbound folder is polled."""
    idle_seconds: float = Field(default=0.2, gt=0)
    """How long an idle worker waits before looking for due jobs again."""
    lease_seconds: float = Field(default=60.0, ge=1)
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=600.0, gt=0)
    ack_timeout_seconds: float = Field(default=300.0, gt=0)
    """A batch whose delivery is in doubt and has no TA1/999 after this long is checked by
    claim status before it is sent again."""
    status_after_seconds: float = Field(default=86_400.0, gt=0)
    """Claims with no final answer this long after sending get an automatic `$status`."""
    eligibility_timeout_seconds: float = Field(default=20.0, gt=0, le=120)


class OpenEmrSettings(BaseModel):
    """The OpenEMR the facade works with (OPENEMR.md sections 1, 6, 7, 11).

    ``client_id`` / ``client_secret``: the facade's confidential OAuth client at OpenEMR
    (``client_secret_post``, redirect URI ``{FACADE_BASE_URL}/smart/callback``) that runs the
    EHR-launch relay. ``scopes`` are asked for in addition to ``openid fhirUser launch``.
    The defaults match the ``facade sandbox`` stand-in: development values, no real secrets."""

    base_url: str = "http://127.0.0.1:8081"
    site: str = Field(default="default", pattern=r"^[A-Za-z0-9_-]+$")
    client_id: str = "facade-sandbox"
    client_secret: str = "sandbox-only-not-a-secret"
    scopes: str = "api:fhir user/Patient.read user/Encounter.read user/Practitioner.read"
    http_timeout: float = Field(default=10.0, gt=0, le=120)

    _strip_slash = field_validator("base_url")(_no_trailing_slash)

    @property
    def fhir_base(self) -> str:
        return f"{self.base_url}/apis/{self.site}/fhir"

    @property
    def oauth_base(self) -> str:
        return f"{self.base_url}/oauth2/{self.site}"


class Settings(BaseSettings):
    """Everything the facade can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="FACADE_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str = "sqlite:///./var/facade.db"
    base_url: str = "http://127.0.0.1:8080"
    log_level: str = "INFO"
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    x12: X12Settings = Field(default_factory=X12Settings)
    openemr: OpenEmrSettings = Field(default_factory=OpenEmrSettings)
    connectors: dict[str, ConnectorSettings] = Field(default_factory=dict)
    """Clearinghouse connections by name (lower case), ``FACADE_CONNECTORS__<NAME>__...``."""
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)

    _strip_slash = field_validator("base_url")(_no_trailing_slash)

    @property
    def fhir_base(self) -> str:
        """Absolute FHIR base URL (the `aud` of access tokens, the SMART issuer)."""
        return f"{self.base_url}/fhir"

    def sqlite_path(self) -> Path | None:
        """The file of a ``sqlite:///path`` URL; None for ``sqlite://`` / ``:memory:``."""
        url = self.database_url
        if not url.startswith("sqlite:"):
            return None
        rest = url.removeprefix("sqlite:").removeprefix("//")
        if rest in ("", "/", "/:memory:", ":memory:"):
            return None
        return Path(rest[1:] if rest.startswith("/") else rest)


def is_loopback_host(host: str) -> bool:
    """True for localhost and 127.0.0.0/8 / ::1 addresses."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
