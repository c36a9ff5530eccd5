"""Schemathesis drives every operation of the served OpenAPI with generated requests against a
real server process: no request may produce a 5xx, and every 4xx body is an OperationOutcome
carrying a stable FacadeError code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from server.app import create_app
from server.errors import ERROR_CODE_SYSTEM
from server.settings import Settings
from tests.api.test_server_processes import _free_port, _start, _wait_ready

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    port = _free_port()
    proc = _start(db, port)
    try:
        _wait_ready(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


# The served OpenAPI, taken from the app itself; requests go to the real server process.
schema = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())


def _check_outcome(response: httpx.Response | Any) -> None:
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:300]}"
    if status >= 400:
        body = response.json()
        assert body["resourceType"] == "OperationOutcome", body
        codes = [
            c["code"]
            for issue in body["issue"]
            for c in issue.get("details", {}).get("coding", [])
            if c.get("system") == ERROR_CODE_SYSTEM
        ]
        assert codes and all(code.startswith("FAC-") for code in codes), body


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_outcomes_everywhere(case: Any, server_url: str) -> None:
    response = case.call(base_url=server_url)
    _check_outcome(response)
