"""Fixtures for the X12 codec tests: the project's own synthetic files and ways to break them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def edit_segments(text: str, edit: Callable[[list[list[str]]], None]) -> str:
    """Apply ``edit`` to the segments (lists of elements) of a ``~``/``*`` file."""
    segs = [s.strip().split("*") for s in text.split("~") if s.strip()]
    edit(segs)
    return "".join("*".join(s) + "~\n" for s in segs)


def recount(segs: list[list[str]]) -> None:
    """Set SE01 to the real count so a test breaks one thing only."""
    start = 0
    for i, s in enumerate(segs):
        if s[0] == "ST":
            start = i
        elif s[0] == "SE":
            s[1] = str(i - start + 1)


@pytest.fixture
def claim_837p() -> str:
    return fixture_text("837p_two_claims.x12")


@pytest.fixture
def remit_835() -> str:
    return fixture_text("835_three_claims.x12")
