"""The SFTP connector against a real asyncssh SFTP server: the 837 batch it prepares (envelope
from the settings, file name, 999 correlation numbers), the atomic upload, the delivery check,
polling and settling the outbound folder, reconnecting, and its failure verdicts
(CLEARINGHOUSES.md sections 5, 5.1 and 6)."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime
from pathlib import Path

import pytest

from mappers.x12 import CountingControlNumbers, parse
from server.connectors.port import Inbound
from server.connectors.sftp import SftpConnector
from server.errors import ConnectorDownError, ConnectorRejectedError, DeliveryUnknownError
from server.settings import ConnectorSettings
from tests.connectors.builders import claim, fixture
from tests.connectors.conftest import SftpServer

WHEN = datetime(2026, 10, 6, 14, 30, 5)


def _connector(server: SftpServer, **overrides: object) -> SftpConnector:
    return SftpConnector("batch", server.settings(**overrides))


def test_prepare_builds_one_interchange_named_and_numbered_for_999_correlation() -> None:
    connector = SftpConnector("batch", ConnectorSettings(
        kind="sftp", sender_id="SUBMIT01", sender_qualifier="30", receiver_id="STEDITEST",
        usage="P", file_prefix="OATEST_"))
    claims = [claim(f"PCN-{n}") for n in range(3)] + [claim("PCN-I", institutional=True)]
    prepared = connector.prepare(claims, CountingControlNumbers(41), WHEN)
    assert prepared.reference == "OATEST_20261006-143005-000000041.x12"
    assert prepared.control_number == "000000041" and prepared.connector == "batch"
    sets, report = parse(prepared.documents[0].decode())
    assert report.valid
    isa = sets[0].isa
    assert (isa[5], isa[6].strip(), isa[8].strip(), isa[15]) == ("30", "SUBMIT01", "STEDITEST",
                                                                 "P")
    expected = {}
    for ts in sets:
        for seg in ts.root.walk():
            if seg.tag == "CLM":
                expected[seg.get(1)] = (ts.gs[6], ts.st.get(2))
    assert dict(prepared.sets) == expected
    assert set(prepared.pcns) == {"PCN-0", "PCN-1", "PCN-2", "PCN-I"}
    assert len({v for v in expected.values()}) == 2  # 837P and 837I in their own groups


def test_prepare_puts_500_claims_in_one_interchange() -> None:
    connector = SftpConnector("batch", ConnectorSettings(kind="sftp"))
    claims = [claim(f"PCN-{n:05d}") for n in range(500)]
    prepared = connector.prepare(claims, CountingControlNumbers(1), WHEN)
    assert len(prepared.sets) == 500 and len(prepared.documents) == 1


async def test_send_uploads_atomically_and_delivered_finds_it(sftp_server: SftpServer) -> None:
    connector = _connector(sftp_server)
    prepared = connector.prepare([claim("PCN-1")], CountingControlNumbers(7), WHEN)
    assert await connector.delivered(prepared) is None
    assert await connector.send(prepared) == []
    inbound = sftp_server.root / "inbound"
    assert os.listdir(inbound) == [prepared.reference]
    assert (inbound / prepared.reference).read_bytes() == prepared.documents[0]
    assert await connector.delivered(prepared) is True
    # The clearinghouse picked it up and archived it: still delivered.
    (inbound / prepared.reference).rename(sftp_server.root / "archive" / prepared.reference)
    assert await connector.delivered(prepared) is True
    (sftp_server.root / "archive" / prepared.reference).unlink()
    (inbound / f"{prepared.reference}.part").write_bytes(b"ISA")
    assert await connector.delivered(prepared) is False  # only the temporary name: not sent
    await connector.close()


async def test_poll_takes_finished_files_oldest_first_and_settle_deletes(
        sftp_server: SftpServer) -> None:
    outbound = sftp_server.root / "outbound"
    for name, age in (("b_999.x12", 20), ("a_277CA.x12", 10), ("c_835.x12", 30)):
        path = outbound / name
        path.write_text(f"ISA*{name}~")
        os.utime(path, (time.time() - age, time.time() - age))
    for name in ("d.x12.part", ".hidden", "e.tmp"):
        (outbound / name).write_text("partial")
    (outbound / "subfolder").mkdir()
    connector = _connector(sftp_server)
    found = await connector.poll()
    assert [d.name for d in found] == ["c_835.x12", "b_999.x12", "a_277CA.x12"]
    assert found[0].x12 == "ISA*c_835.x12~" and found[0].connector == "batch"
    assert found[0].received is not None
    for document in found:
        await connector.settle(document)
    await connector.settle(found[0])  # settled twice: nothing to do
    assert sorted(os.listdir(outbound)) == [".hidden", "d.x12.part", "e.tmp", "subfolder"]
    assert await connector.poll() == []
    await connector.close()


async def test_settle_moves_to_the_archive_folder_when_configured(
        sftp_server: SftpServer) -> None:
    (sftp_server.root / "outbound" / "r_835.x12").write_text("ISA~")
    connector = _connector(sftp_server, archive_dir="fetched")
    [document] = await connector.poll()
    await connector.settle(document)
    assert (sftp_server.root / "fetched" / "r_835.x12").read_text() == "ISA~"
    assert not (sftp_server.root / "outbound" / "r_835.x12").exists()
    await connector.close()


async def test_one_connection_is_reused_and_reopened_when_dropped(
        sftp_server: SftpServer) -> None:
    connector = _connector(sftp_server)
    for _ in range(3):
        await connector.poll()
    assert sftp_server.logins == 1
    sftp_server.drop_sessions()
    await asyncio.sleep(0.05)
    await connector.poll()
    assert sftp_server.logins == 2
    await connector.close()


async def test_upload_failures_say_whether_the_file_may_be_there(
        sftp_server: SftpServer) -> None:
    connector = _connector(sftp_server, timeout_seconds=0.5, breaker_failures=10)
    prepared = connector.prepare([claim("PCN-1")], CountingControlNumbers(9), WHEN)
    sftp_server.fail = {"open": "refuse"}
    with pytest.raises(ConnectorDownError) as down:
        await connector.send(prepared)
    assert not isinstance(down.value, DeliveryUnknownError)
    sftp_server.fail = {"open": "hang"}
    with pytest.raises(ConnectorDownError):
        await connector.send(prepared)
    sftp_server.fail = {"rename": "refuse"}
    with pytest.raises(DeliveryUnknownError):
        await connector.send(prepared)
    assert await connector.delivered(prepared) is False  # the rename never happened
    sftp_server.fail = {"rename": "hang"}
    with pytest.raises(DeliveryUnknownError):
        await connector.send(prepared)
    sftp_server.fail = {}
    await connector.send(prepared)
    assert await connector.delivered(prepared) is True
    await connector.close()


async def test_server_down_opens_the_breaker(sftp_server: SftpServer) -> None:
    connector = _connector(sftp_server, breaker_failures=2, breaker_reset_seconds=60)
    await sftp_server.stop()
    for _ in range(2):
        with pytest.raises(ConnectorDownError):
            await connector.poll()
    with pytest.raises(ConnectorDownError) as caught:
        await connector.poll()
    assert "circuit open" in str(caught.value) and caught.value.retry_after
    await connector.close()


async def test_credentials_and_host_keys(sftp_server: SftpServer, tmp_path: Path) -> None:
    wrong = _connector(sftp_server, password="nope")
    with pytest.raises(ConnectorRejectedError) as caught:
        await wrong.poll()
    assert "nope" not in str(caught.value)
    key_file = tmp_path / "id_ed25519"
    key_file.write_bytes(sftp_server.client_key.export_private_key())
    checked = _connector(sftp_server, password="", private_key_file=str(key_file),
                         known_hosts_file=sftp_server.known_hosts(tmp_path / "known_hosts"))
    assert await checked.poll() == []
    impostor = tmp_path / "other_known_hosts"
    other = SftpServer(tmp_path / "other")
    other.listener = sftp_server.listener  # same port, another key
    other.known_hosts(impostor)
    mistrusting = _connector(sftp_server, known_hosts_file=str(impostor))
    with pytest.raises(ConnectorRejectedError):
        await mistrusting.poll()
    for connector in (wrong, checked, mistrusting):
        await connector.close()


async def test_real_time_inquiries_are_not_offered_over_sftp(sftp_server: SftpServer) -> None:
    connector = _connector(sftp_server)
    with pytest.raises(ConnectorRejectedError):
        await connector.eligibility(fixture("eligibility_request_subscriber.json"),
                                    CountingControlNumbers(1))
    with pytest.raises(ConnectorRejectedError):
        await connector.claim_status(claim("PCN-1"), CountingControlNumbers(1))
    await connector.settle(Inbound(connector="batch", name="never-there.x12"))
    await connector.close()
