"""The stores, clients and bearer tokens ``bench/auth.py`` measures with.

Clients are registered and tokens minted through the product's own CLI (``facade clients add``,
``facade clients token``; ``server/cli_clients.py``) on the auth server's store, before that
server starts: the CLI creates the signing keys the server then loads.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from auth_load import new_key, public_jwks
from claims import bench_claim, claim_id
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from harness import FACADE_BIN

__all__ = ["READER_SCOPE", "Backend", "copy_store", "patient_claims", "register_clients"]

#: What the read client may be given: every type, system-wide or in a patient's compartment.
READER_SCOPE: Final = "system/*.rs patient/*.rs"
#: What the backend-services client registers (SMART backend-services.html: system/ scopes).
BACKEND_SCOPE: Final = "system/*.rs"


@dataclass(frozen=True, slots=True)
class Backend:
    """The confidential-asymmetric client of the token benchmark and its signing key."""

    key: RSAPrivateKey
    kid: str
    client_id: str


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file (the backup API; WAL content included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def patient_claims(claims: int) -> tuple[str, list[str], int]:
    """The patient of Claim 0, the ids of that patient's Claims, and the number of patients."""
    refs = [str(bench_claim(n)["patient"]["reference"]) for n in range(claims)]
    own = [claim_id(n) for n, ref in enumerate(refs) if ref == refs[0]]
    return refs[0].split("/", 1)[1], own, len(set(refs))


def facade_cli(env: dict[str, str], *args: str) -> str:
    """Run ``facade ARGS``; its standard output (exit with its error when it fails)."""
    done = subprocess.run(
        [str(FACADE_BIN), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        sys.exit(f"facade {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def _add_client(env: dict[str, str], *args: str) -> str:
    match = re.search(r"^client_id: (\S+)", facade_cli(env, "clients", "add", *args), re.M)
    if match is None:
        sys.exit(f"facade clients add {' '.join(args)} printed no client_id")
    return match.group(1)


def register_clients(
    env: dict[str, str], directory: Path, patient: str
) -> tuple[dict[str, str], Backend]:
    """The read tokens (``system``: system/*.rs; ``patient``: patient/*.rs for ``patient``) and
    the backend-services client with its RS384 key (generated now, kept in memory only)."""
    _add_client(env, "bench-reader", "--kind", "confidential-symmetric", "--scope", READER_SCOPE)
    token = ("clients", "token", "bench-reader", "--scope")
    tokens = {
        "system": facade_cli(env, *token, "system/*.rs").strip(),
        "patient": facade_cli(env, *token, "patient/*.rs", "--patient", patient).strip(),
    }
    key = new_key()
    kid, jwks = public_jwks(key)
    jwks_file = directory / "jwks.json"
    jwks_file.write_text(json.dumps(jwks))
    client_id = _add_client(
        env,
        "bench-backend",
        "--kind",
        "confidential-asymmetric",
        "--jwks-file",
        str(jwks_file),
        "--scope",
        BACKEND_SCOPE,
    )
    return tokens, Backend(key, kid, client_id)
