"""Settings of the facade: the only module that reads the environment.

Variables carry the prefix ``FACADE_``; nested groups are joined with ``__``
(``FACADE_LIMITS__MAX_BODY_BYTES``). See DESIGN.md, "Settings".
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AuthSettings", "LimitsSettings", "Settings", "X12Settings", "is_loopback_host"]


class LimitsSettings(BaseModel):
    """Request limits (R4 search.html#count for the page sizes)."""

    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    default_count: int = Field(default=20, ge=1)
    max_count: int = Field(default=500, ge=1)
    max_bundle_entries: int = Field(default=5_000, ge=1)


class AuthSettings(BaseModel):
    """Authorization switch. The SMART authorization server arrives with its own issue."""

    enabled: bool = True


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

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

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
