"""The one object the stand-in's routes share: configuration, memory, signing key and the
cipher of EHR launch tokens (``src/FHIR/SMART/SMARTLaunchToken.php``: the ``launch`` value is
the base64 text of an encrypted JSON ``{"p": patient uuid, "e": encounter uuid, "i": intent}``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request

from sandbox.openemr.config import OpenEmrConfig
from sandbox.openemr.state import OpenEmrState
from sandbox.openemr.tokens import TokenSigner

__all__ = ["StandIn", "read_form", "standin"]


@dataclass
class StandIn:
    """Configuration and state of one running stand-in.

    ``transport``: where outbound requests (a client's ``jwks_uri``) go; None = the network.
    """

    config: OpenEmrConfig
    state: OpenEmrState = field(default_factory=OpenEmrState)
    signer: TokenSigner = field(default_factory=TokenSigner)
    transport: httpx.AsyncBaseTransport | None = None
    _launch_key: bytes = field(default_factory=lambda: AESGCM.generate_key(bit_length=256))

    def seal_launch(self, context: dict[str, Any]) -> str:
        """An opaque launch value (standard base64, so it needs URL-encoding)."""
        nonce = os.urandom(12)
        sealed = AESGCM(self._launch_key).encrypt(nonce, json.dumps(context).encode(), None)
        return base64.b64encode(nonce + sealed).decode()

    def open_launch(self, value: str) -> dict[str, Any] | None:
        """The context of a launch value this stand-in sealed, else None."""
        try:
            raw = base64.b64decode(value, validate=True)
            plain = AESGCM(self._launch_key).decrypt(raw[:12], raw[12:], None)
            loaded = json.loads(plain)
        except (binascii.Error, ValueError, InvalidTag):
            return None
        return loaded if isinstance(loaded, dict) else None


def standin(request: Request) -> StandIn:
    """The stand-in serving ``request``."""
    found: StandIn = request.app.state.openemr
    return found


async def read_form(request: Request) -> dict[str, str]:
    """The ``application/x-www-form-urlencoded`` body (first value of each name)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    form: dict[str, str] = {}
    for name, value in parse_qsl(body, keep_blank_values=True):
        form.setdefault(name, value)
    return form
