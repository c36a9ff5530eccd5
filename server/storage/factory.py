"""Chooses the storage adapter from ``FACADE_DATABASE_URL`` (DESIGN.md, "Settings")."""

from __future__ import annotations

from server.errors import StorageUnavailableError
from server.settings import Settings
from server.storage.outbox import OutboxRepository
from server.storage.sqlite import SqliteRepository

__all__ = ["repository_from_settings"]


def repository_from_settings(settings: Settings) -> OutboxRepository:
    """``sqlite:///path`` (or ``sqlite://`` for a private temporary store) selects SQLite."""
    url = settings.database_url
    if url.startswith("sqlite:"):
        return SqliteRepository(settings.sqlite_path())
    scheme = url.split(":", 1)[0]
    raise StorageUnavailableError(f"No storage adapter for '{scheme}' URLs in this release")
