"""The ceiling for ``bench/rest.py``: a bare FastAPI app that answers with one stored Claim's bytes.

It does no FHIR work at all: GET returns the bytes, POST and PUT read the request body and
return the same bytes (201 / 200). It runs on uvicorn with the options ``facade serve`` uses
(``server/cli.py``), so the difference to the facade is the facade's own per-request work.

    .venv/bin/python bench/bare_app.py --port 8099 --claim-file /tmp/claim.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

__all__ = ["build_app"]

FHIR_JSON = "application/fhir+json"


def build_app(claim: bytes) -> FastAPI:
    """The bare app serving ``claim`` for every Claim id."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(content=b'{"status":"ok"}', media_type="application/json")

    @app.get("/fhir/Claim/{id}")
    async def read(id: str) -> Response:
        return Response(content=claim, media_type=FHIR_JSON)

    @app.post("/fhir/Claim")
    async def create(request: Request) -> Response:
        await request.body()
        return Response(content=claim, status_code=201, media_type=FHIR_JSON)

    @app.put("/fhir/Claim/{id}")
    async def update(request: Request, id: str) -> Response:
        await request.body()
        return Response(content=claim, status_code=200, media_type=FHIR_JSON)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--claim-file", type=Path, required=True)
    args = parser.parse_args()
    uvicorn.run(
        build_app(args.claim_file.read_bytes()),
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        loop="auto",
        http="auto",
    )


if __name__ == "__main__":
    main()
