"""Schemathesis drives every operation of the served OpenAPI with generated requests against a
real server process: no request may produce a 5xx; every 4xx body of the FHIR API is an
OperationOutcome carrying a stable FacadeError code, and every 4xx of the OAuth endpoints an
RFC 6749 error object."""

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


def _server(tmp_path_factory: pytest.TempPathFactory, auth: bool) -> Iterator[str]:
    db: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    port = _free_port()
    proc = _start(db, port, auth=auth)
    try:
        _wait_ready(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The FHIR API with authorization off: the fuzzer reaches every interaction."""
    yield from _server(tmp_path_factory, auth=False)


@pytest.fixture(scope="module")
def auth_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _server(tmp_path_factory, auth=True)


# The served OpenAPI, taken from the app itself; requests go to the real server process.
_openapi = schemathesis.openapi.from_dict(create_app(Settings(database_url="sqlite://")).openapi())
schema = _openapi.include(path_regex="^/(fhir|healthz|readyz)")
oauth_schema = _openapi.include(path_regex="^/(auth/|\\.well-known/)")


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


def _check_oauth_error(response: httpx.Response | Any) -> None:
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:300]}"
    if status == 405:  # a method no route takes: answered by the framework for every path
        return
    if status >= 400:
        content_type = str(response.headers.get("content-type", ""))
        if "text/html" in content_type:
            # The authorization endpoint tells the user, not the client, when it cannot trust
            # the redirect URI (RFC 6749 section 4.1.2.1): a page, never a redirect.
            assert "/auth/authorize" in str(response.request.url)
            return
        body = response.json()
        assert isinstance(body.get("error"), str), body


@oauth_schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_oauth_endpoints_answer_oauth_errors(case: Any, auth_server_url: str) -> None:
    response = case.call(base_url=auth_server_url)
    _check_oauth_error(response)
