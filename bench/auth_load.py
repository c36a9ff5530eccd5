"""The client side of ``bench/auth.py``'s token-endpoint benchmark.

- :func:`new_key` / :func:`public_jwks`: an RSA key made at run time (never stored in the
  repository) and its public JWK Set (``kid`` = RFC 7638 thumbprint), which ``facade clients add
  --kind confidential-asymmetric --jwks-file`` registers;
- :func:`sign_assertions`: SMART Backend Services client assertions (backend-services.html,
  RFC 7523 section 3): RS384, ``iss`` == ``sub`` == client id, ``aud`` == the token URL, ``exp``
  within 5 minutes, a unique ``jti`` each;
- run as a script, it fires pre-built requests with ``httpx.AsyncClient`` at a fixed
  concurrency and prints one JSON line: requests, seconds, statuses and latency percentiles.
  ``bench/auth.py`` starts it as a separate process (pinned to the load CPU)::

      python bench/auth_load.py URL --bodies FILE --expect 200 --warmup 50
      python bench/auth_load.py URL --method GET --count 3000 --expect 200
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "ASSERTION_TYPE",
    "assertion_body",
    "malformed_body",
    "new_key",
    "public_jwks",
    "sign_assertions",
]

ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM_TYPE: Final = "application/x-www-form-urlencoded"
_ASSERTION_SECONDS: Final = 240


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwks(key: rsa.RSAPrivateKey) -> tuple[str, dict[str, Any]]:
    """The key's ``kid`` (RFC 7638 section 3 thumbprint) and its public JWK Set (RFC 7517)."""
    numbers = key.public_key().public_numbers()
    members = {"e": _uint(numbers.e), "kty": "RSA", "n": _uint(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = _b64(hashlib.sha256(canonical).digest())
    return kid, {"keys": [{**members, "kid": kid, "alg": "RS384", "use": "sig"}]}


def sign_assertions(
    key: rsa.RSAPrivateKey, kid: str, client_id: str, token_url: str, count: int
) -> list[str]:
    """``count`` RS384 client assertions (RFC 7515 compact JWS), each with its own ``jti``."""
    header = _b64(json.dumps({"alg": "RS384", "typ": "JWT", "kid": kid}).encode())
    exp = int(time.time()) + _ASSERTION_SECONDS
    out: list[str] = []
    for _ in range(count):
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": token_url,
            "exp": exp,
            "jti": uuid.uuid4().hex,
        }
        signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA384())
        out.append(f"{signing_input}.{_b64(signature)}")
    return out


def assertion_body(assertion: str, scope: str) -> str:
    """A client_credentials token request (RFC 6749 section 4.4.2, RFC 7523 section 2.2)."""
    return urlencode(
        {
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
    )


def malformed_body(scope: str) -> str:
    """The same request with an assertion that is not a JWT: rejected before any crypto."""
    return assertion_body("not-a-jwt", scope)


# --- the load process ----------------------------------------------------------------------


async def _fire(
    url: str, method: str, bodies: list[bytes], concurrency: int, warmup: int, marker: bytes
) -> dict[str, Any]:
    import httpx

    headers = {"Content-Type": FORM_TYPE} if method == "POST" else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    missing_marker = 0
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def run(batch: list[bytes], record: bool) -> None:
            nonlocal missing_marker
            queue = iter(batch)

            async def worker() -> None:
                nonlocal missing_marker
                for body in queue:
                    started = time.perf_counter()
                    response = await client.request(
                        method, url, content=body or None, headers=headers
                    )
                    elapsed = time.perf_counter() - started
                    if record:
                        latencies.append(elapsed * 1000.0)
                        statuses[response.status_code] += 1
                        if marker and marker not in response.content:
                            missing_marker += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))

        await run(bodies[:warmup], record=False)
        started = time.perf_counter()
        await run(bodies[warmup:], record=True)
        seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "seconds": seconds,
        "rps": len(ordered) / seconds,
        "p50_ms": statistics.median(ordered),
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "missing_marker": missing_marker,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fire pre-built requests; print JSON figures.")
    parser.add_argument("url")
    parser.add_argument("--method", default="POST", choices=["GET", "POST"])
    parser.add_argument("--bodies", type=Path, help="one form body per line")
    parser.add_argument("--count", type=int, default=0, help="bodiless requests (GET)")
    parser.add_argument("--warmup", type=int, default=0, help="leading requests not measured")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--marker", default="", help="text every measured answer must hold")
    args = parser.parse_args(argv)
    if args.bodies is not None:
        bodies = [line.encode() for line in args.bodies.read_text().splitlines() if line]
    else:
        bodies = [b""] * (args.count + args.warmup)
    if len(bodies) <= args.warmup:
        parser.error("no requests left to measure after the warm-up")
    result = asyncio.run(
        _fire(args.url, args.method, bodies, args.concurrency, args.warmup, args.marker.encode())
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
