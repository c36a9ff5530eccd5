"""The guide schemas (JSON data, one file per TR3 transaction) and how an ST picks one.

A transaction set names its guide by ST01 (the transaction set id) and ST03 / GS08 (the
implementation convention reference). The 278 request and response share both and differ by
BHT02 (13 request, 11 response), which each schema states under ``select``.
"""

from __future__ import annotations

from mappers.x12.schema import Guide, load_guide

__all__ = ["GUIDE_FILES", "SUPPORTED_VERSIONS", "guides_for", "supported"]

GUIDE_FILES: dict[tuple[str, str], tuple[str, ...]] = {
    ("837", "005010X222A1"): ("x222a1_837p",),
    ("837", "005010X223A2"): ("x223a2_837i",),
    ("835", "005010X221A1"): ("x221a1_835",),
    ("270", "005010X279A1"): ("x279a1_270",),
    ("271", "005010X279A1"): ("x279a1_271",),
    ("276", "005010X212"): ("x212_276",),
    ("277", "005010X212"): ("x212_277",),
    ("277", "005010X214"): ("x214_277ca",),
    ("278", "005010X217"): ("x217_278_request", "x217_278_response"),
    ("999", "005010X231A1"): ("x231a1_999",),
}

SUPPORTED_VERSIONS = frozenset(version for _, version in GUIDE_FILES)


def guides_for(st01: str, version: str) -> list[Guide]:
    """The guides a transaction set may follow; empty when the pair is not supported."""
    names = GUIDE_FILES.get((st01, version), ())
    found = []
    for name in names:
        try:
            found.append(load_guide(name))
        except FileNotFoundError:
            continue
    return found


def supported() -> list[tuple[str, str]]:
    return sorted(GUIDE_FILES)
