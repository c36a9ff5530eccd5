"""What an OpenEMR stand-in instance is: its public URL, its site and its global switches.

URL layout per OPENEMR.md section 1 (``src/FHIR/Config/ServerConfig.php``): the FHIR base is
``{site_addr_oath}/apis/{site}/fhir`` and the OAuth 2 base ``{site_addr_oath}/oauth2/{site}``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OpenEmrConfig"]


@dataclass(frozen=True, slots=True)
class OpenEmrConfig:
    """One stand-in instance.

    ``base_url``: the global ``site_addr_oath`` (scheme, host, port and webroot).
    ``system_scopes_api``: the global ``rest_system_scopes_api`` (``system/*`` scopes and bulk).
    ``manual_approval``: the global ``oauth_app_manual_approval``: registered clients start
    disabled unless they ask for patient scopes only (OPENEMR.md section 6, "Enablement").
    """

    base_url: str = "http://127.0.0.1:8081"
    site: str = "default"
    system_scopes_api: bool = True
    manual_approval: bool = True

    @property
    def origin(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def fhir_base(self) -> str:
        return f"{self.origin}/apis/{self.site}/fhir"

    @property
    def api_base(self) -> str:
        return f"{self.origin}/apis/{self.site}/api"

    @property
    def portal_base(self) -> str:
        return f"{self.origin}/apis/{self.site}/portal"

    @property
    def oauth_base(self) -> str:
        return f"{self.origin}/oauth2/{self.site}"

    @property
    def token_url(self) -> str:
        return f"{self.oauth_base}/token"

    @property
    def smart_style_url(self) -> str:
        return f"{self.oauth_base}/smart/smart-style"
