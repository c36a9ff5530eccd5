"""The sandbox's own control API (not a vendor API), on the REST port:

- ``GET /sandbox/admin/chaos``: the chaos switches (``chaos.py``).
- ``POST /sandbox/admin/chaos``: JSON with any of ``slow_seconds``, ``fail_next``,
  ``fail_after_processing``, ``throttle_next``, ``retry_after_seconds``, ``down_for_seconds``
  and ``reset`` (applied first). An outage starts once the answer has been sent; while it lasts
  this API is unreachable too (the port refuses connections), and comes back with the rest.
- ``GET /sandbox/admin/ledger``: what the clearinghouse has received: ``claims``
  (``"sender_id|pcn"`` -> times received), totals and the claims received more than once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from sandbox.clearinghouse.chaos import Chaos
from sandbox.clearinghouse.ledger import Ledger

__all__ = ["ChaosRequest", "admin_router"]


class ChaosRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reset: bool = False
    slow_seconds: float | None = Field(default=None, ge=0, le=600)
    fail_next: int | None = Field(default=None, ge=0, le=1_000_000)
    fail_after_processing: bool | None = None
    throttle_next: int | None = Field(default=None, ge=0, le=1_000_000)
    retry_after_seconds: float | None = Field(default=None, ge=0, le=3600)
    down_for_seconds: float | None = Field(default=None, ge=0, le=3600)


def admin_router(chaos: Chaos, ledger: Ledger,
                 stats: Callable[[], dict[str, Any]] | None = None) -> APIRouter:
    router = APIRouter(prefix="/sandbox/admin", tags=["sandbox admin"])

    @router.get("/chaos")
    async def get_chaos() -> JSONResponse:
        return JSONResponse(chaos.state().as_json())

    @router.post("/chaos")
    async def set_chaos(body: ChaosRequest) -> JSONResponse:
        if body.reset:
            chaos.reset()
        state = chaos.configure(
            slow_seconds=body.slow_seconds,
            fail_next=body.fail_next,
            fail_after_processing=body.fail_after_processing,
            throttle_next=body.throttle_next,
            retry_after_seconds=body.retry_after_seconds,
        ).as_json()
        task = None
        if body.down_for_seconds is not None:
            state["down_for_seconds"] = body.down_for_seconds
            task = BackgroundTask(chaos.configure, down_for_seconds=body.down_for_seconds)
        return JSONResponse(state, background=task)

    @router.get("/ledger")
    async def get_ledger() -> JSONResponse:
        counts = ledger.claim_counts()
        out: dict[str, Any] = {
            "claims": counts,
            "distinct": len(counts),
            "received": sum(counts.values()),
            "duplicates": {key: n for key, n in counts.items() if n > 1},
        }
        if stats is not None:
            out.update(stats())
        return JSONResponse(out)

    return router
