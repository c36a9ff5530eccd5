"""``facade sandbox`` refuses anything but a loopback bind."""

from __future__ import annotations

import pytest

from server.cli import main


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.org", ""])
def test_sandbox_refuses_non_loopback_hosts(host: str) -> None:
    assert main(["sandbox", "--host", host]) == 2
