"""The configured clearinghouse connections, built from settings (``FACADE_CONNECTORS__<NAME>__``,
``server/settings.py`` ``ConnectorSettings``): ``sftp`` -> :class:`SftpConnector`, ``chc`` and
``stedi`` -> :class:`ChcConnector`. REST connectors sharing an OAuth credential share its token
(CLEARINGHOUSES.md section 6, one token cache per credential). Tests inject an
``httpx.AsyncBaseTransport`` to talk to an in-process app."""

from __future__ import annotations

import httpx

from server.connectors.chc import ChcConnector
from server.connectors.port import ClaimConnector
from server.connectors.sftp import SftpConnector
from server.connectors.vendor_auth import TokenCache
from server.settings import Settings

__all__ = ["connectors_from_settings"]


def connectors_from_settings(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, ClaimConnector]:
    """One connector per configured connection, by name. ``transport`` (REST only) replaces
    the network, e.g. ``httpx.ASGITransport(app)`` or ``httpx.MockTransport(handler)``."""
    tokens = TokenCache()
    out: dict[str, ClaimConnector] = {}
    for name, connection in settings.connectors.items():
        if connection.kind == "sftp":
            out[name] = SftpConnector(name, connection)
        else:
            out[name] = ChcConnector(name, connection, transport=transport, tokens=tokens)
    return out
