"""Checks ``bench/auth.py`` makes before and after measuring, so its figures mean what they say.

Before: the no-auth server reads; the auth server refuses a request without a token (401,
RFC 6750 section 3.1), answers the system token, the patient token on that patient's own Claim,
and hides another patient's Claim from it (SMART App Launch scopes-and-launch-context: a
`patient/` scope reaches only the patient compartment); the patient search returns the
patient's Claims, without a token and with either token. After: the AuditEvents the auth
server wrote while it was measured.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["check_access", "check_client_credentials", "count_audit_events", "get"]


def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _expect(what: str, status: int, body: bytes, allowed: tuple[int, ...]) -> None:
    if status not in allowed:
        sys.exit(f"{what}: answered {status}, expected {allowed}:\n{body.decode()[:2000]}")


def _match_ids(body: bytes) -> list[str]:
    bundle: dict[str, Any] = json.loads(body)
    return sorted(
        e["resource"]["id"]
        for e in bundle.get("entry", [])
        if e.get("search", {}).get("mode", "match") == "match"
    )


def check_access(
    bases: dict[str, str],
    tokens: dict[str, str],
    patient: str,
    own: list[str],
    other: str,
) -> dict[str, int]:
    """Exit with a message unless each side answers as the benchmark assumes; the statuses."""
    noauth, auth = bases["noauth"], bases["auth"]
    claim = f"/fhir/Claim/{own[0]}"
    seen: dict[str, int] = {}
    probes: list[tuple[str, str, str | None, tuple[int, ...]]] = [
        ("no-auth read", noauth + claim, None, (200,)),
        ("auth read without a token", auth + claim, None, (401,)),
        ("auth read, system token", auth + claim, tokens["system"], (200,)),
        ("auth read of an own Claim, patient token", auth + claim, tokens["patient"], (200,)),
        (
            "auth read of another patient's Claim, patient token",
            f"{auth}/fhir/Claim/{other}",
            tokens["patient"],
            (403, 404),
        ),
    ]
    for what, url, token, allowed in probes:
        status, body = get(url, token)
        _expect(what, status, body, allowed)
        seen[what] = status
    search = f"/fhir/Claim?patient=Patient/{patient}"
    answers = {"no auth": get(noauth + search)}
    for side in ("patient", "system"):
        answers[f"{side} token"] = get(auth + search, tokens[side])
    for who, (status, body) in answers.items():
        _expect(f"search, {who}", status, body, (200,))
        if _match_ids(body) != sorted(own):
            sys.exit(f"search, {who}: matched {_match_ids(body)}, expected {sorted(own)}")
    seen["search matches"] = len(own)
    return seen


def check_client_credentials(base: str, body: str, claim: str) -> None:
    """One client_credentials token request succeeds (RFC 6749 section 4.4.3) and its access
    token reads a Claim on the FHIR API."""
    request = urllib.request.Request(
        f"{base}/auth/token",
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    _expect("client_credentials token request", status, raw, (200,))
    answer: dict[str, Any] = json.loads(raw)
    token = answer.get("access_token")
    if not isinstance(token, str):
        sys.exit(f"the token endpoint answered no access_token: {answer}")
    status, raw = get(f"{base}/fhir/Claim/{claim}", token)
    _expect("read with a client_credentials token", status, raw, (200,))


def count_audit_events(db: Path, patient: str) -> tuple[int, int]:
    """AuditEvents in a FHIR store (the auth server's audit trail): all of them, and those about
    ``patient`` (indexed under ``entity``/``agent``, never under ``patient``, so they stay out
    of the reference index rows every ``?patient=`` search reads)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        total = conn.execute("SELECT COUNT(*) FROM resource WHERE type = 'AuditEvent'")
        everything = int(total.fetchone()[0])
        about = conn.execute(
            "SELECT COUNT(*) FROM sp_reference x JOIN resource r ON r.pk = x.pk "
            "WHERE r.type = 'AuditEvent' AND x.param IN ('entity', 'agent') "
            "AND x.target_type = 'Patient' "
            "AND x.target_id = ?",
            (patient,),
        )
        about_patient = int(about.fetchone()[0])
    conn.close()
    return everything, about_patient
