"""The sandbox clearinghouse's SFTP server with a real asyncssh client: login, chroot,
permissions, the ``.part`` -> rename upload, Stedi-style answer names, archive, restart
recovery (CLEARINGHOUSES.md section 5)."""

from __future__ import annotations

import re
from pathlib import Path

import asyncssh
import pytest

from sandbox.clearinghouse import ClearinghouseSandbox, running_clearinghouse
from tests.sandbox.clearinghouse.clients import (
    kinds,
    make_837,
    outbound_files,
    sftp_session,
    upload,
)

ANSWER_NAME = re.compile(
    r"^\d{14}_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    r"_(TA1|999|277CA|835)\.x12$")


async def test_wrong_password_is_refused(clearinghouse: ClearinghouseSandbox) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        async with sftp_session(clearinghouse, password="wrong"):
            pass
    with pytest.raises(asyncssh.PermissionDenied):
        async with sftp_session(clearinghouse, username="nobody"):
            pass


async def test_partner_sees_its_three_folders_only(clearinghouse: ClearinghouseSandbox) -> None:
    async with sftp_session(clearinghouse) as sftp:
        assert sorted(await sftp.listdir(".")) == [".", "..", "archive", "inbound", "outbound"]
        assert sorted(await sftp.listdir("/../..")) == sorted(await sftp.listdir("/"))
        assert await sftp.realpath("../../..") == "/"


async def test_writing_outside_inbound_is_denied(clearinghouse: ClearinghouseSandbox) -> None:
    async with sftp_session(clearinghouse) as sftp:
        for path in ("outbound/x.x12", "archive/x.x12", "x.x12"):
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                async with sftp.open(path, "wb"):
                    pass


async def test_upload_then_rename_is_answered_in_outbound(
    clearinghouse: ClearinghouseSandbox,
) -> None:
    async with sftp_session(clearinghouse) as sftp:
        await upload(sftp, "batch-1.x12", make_837(101, ["PCN-A", "PCN-B"]))
        await clearinghouse.drain()
        answers = await outbound_files(sftp)
        assert all(ANSWER_NAME.match(name) for name in answers), answers
        # TA1 (ISA14 = 1 asks for one), 999, 277CA, 835, in the order written and named.
        assert kinds(list(answers)) == ["TA1", "999", "277CA", "835"]
        ta1, ack, ca, era = answers.values()
        assert "TA1*000000101*" in ta1 and "*A*000~" in ta1
        assert "AK1*HC*101*005010X222A1~" in ack
        assert "TRN*2*PCN-A~" in ca and "TRN*2*PCN-B~" in ca
        assert "CLP*PCN-A*" in era
        assert sorted(await sftp.listdir("inbound")) == [".", ".."]
        assert "batch-1.x12" in await sftp.listdir("archive")
        # The partner deletes what it has stored.
        for name in answers:
            await sftp.remove(f"outbound/{name}")
        assert await outbound_files(sftp) == {}
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-A": 1, "FACADE|PCN-B": 1}


async def test_file_closed_under_final_name_is_processed(
    clearinghouse: ClearinghouseSandbox,
) -> None:
    async with sftp_session(clearinghouse) as sftp:
        async with sftp.open("inbound/direct.x12", "wb") as f:
            await f.write(make_837(102, ["PCN-D"]).encode())
        await clearinghouse.drain()
        assert "835" in kinds(list(await outbound_files(sftp)))
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-D": 1}


@pytest.mark.parametrize("name", ["batch.x12.part", "batch.x12.tmp", ".batch.x12"])
async def test_names_of_uploads_in_progress_are_ignored(
    clearinghouse: ClearinghouseSandbox, name: str,
) -> None:
    async with sftp_session(clearinghouse) as sftp:
        async with sftp.open(f"inbound/{name}", "wb") as f:
            await f.write(make_837(103).encode())
        await clearinghouse.drain()
        assert name in await sftp.listdir("inbound")
        assert await outbound_files(sftp) == {}
    assert clearinghouse.ledger.claim_counts() == {}


async def test_front_end_rejection_and_duplicate_interchange(
    clearinghouse: ClearinghouseSandbox,
) -> None:
    async with sftp_session(clearinghouse) as sftp:
        await upload(sftp, "zip5.x12", make_837(104, ["PCN-Z"], billing_zip="97205"))
        await clearinghouse.drain()
        answers = await outbound_files(sftp)
        ca = next(text for name, text in answers.items() if name.endswith("_277CA.x12"))
        assert "STC*A7" in ca
        assert not any(name.endswith("_835.x12") for name in answers)
        for name in answers:
            await sftp.remove(f"outbound/{name}")
        # The same ISA13 again from the same sender: TA1 TA105 025, nothing processed.
        await upload(sftp, "again.x12", make_837(104, ["PCN-Y"]))
        await clearinghouse.drain()
        answers = await outbound_files(sftp)
        assert kinds(list(answers)) == ["TA1"]
        assert "*R*025~" in next(iter(answers.values()))
    assert "FACADE|PCN-Y" not in clearinghouse.ledger.claim_counts()


async def test_same_name_uploaded_twice_is_processed_twice(
    clearinghouse: ClearinghouseSandbox,
) -> None:
    async with sftp_session(clearinghouse) as sftp:
        await upload(sftp, "same.x12", make_837(105, ["PCN-S1"]))
        await upload(sftp, "same.x12", make_837(106, ["PCN-S2"]))
        await clearinghouse.drain()
        archived = sorted(await sftp.listdir("archive"))
    assert len([n for n in archived if n.startswith("same.x12")]) == 2
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-S1": 1, "FACADE|PCN-S2": 1}


async def test_second_account_is_chrooted_apart(tmp_path: Path) -> None:
    from sandbox.clearinghouse import DEFAULT_ACCOUNTS, Account

    other = Account("clinic2", "pw-2", "CLINIC2", "T", "clinic2-client", "s2", "key-2")
    async with running_clearinghouse(tmp_path, accounts=(*DEFAULT_ACCOUNTS, other)) as ch:
        async with sftp_session(ch, "clinic2", "pw-2") as sftp:
            await upload(sftp, "c2.x12", make_837(1, ["PCN-C2"], sender="CLINIC2"))
            await ch.drain()
            assert kinds(list(await outbound_files(sftp))) == ["TA1", "999", "277CA", "835"]
        async with sftp_session(ch) as sftp:
            assert await outbound_files(sftp) == {}
        assert ch.ledger.claim_counts() == {"CLINIC2|PCN-C2": 1}


async def test_uploads_left_by_a_previous_run_are_picked_up(tmp_path: Path) -> None:
    root = tmp_path / "ch"
    (root / "facade" / "inbound").mkdir(parents=True)
    (root / "facade" / "inbound" / "left.x12").write_text(make_837(107, ["PCN-L"]))
    (root / "facade" / "inbound" / "half.x12.part").write_text("ISA*00*")
    async with running_clearinghouse(root, state_path=tmp_path / "ledger.sqlite3") as ch:
        await ch.drain()
        assert ch.ledger.claim_counts() == {"FACADE|PCN-L": 1}
        folders = ch.folders()
        assert sorted(p.name for p in folders.inbound.iterdir()) == ["half.x12.part"]
        assert (folders.archive / "left.x12").exists()
    # The ledger survives a restart: the same interchange again is a duplicate.
    (root / "facade" / "inbound" / "left-again.x12").write_text(make_837(107, ["PCN-L"]))
    async with running_clearinghouse(root, state_path=tmp_path / "ledger.sqlite3") as ch:
        await ch.drain()
        assert ch.ledger.claim_counts() == {"FACADE|PCN-L": 1}
        names = [p.name for p in ch.folders().outbound.iterdir()]
        assert sorted(kinds(names)).count("TA1") == 2


async def test_known_hosts_line_names_the_host_key(clearinghouse: ClearinghouseSandbox,
                                                   tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(clearinghouse.known_hosts())
    async with asyncssh.connect(clearinghouse.host, clearinghouse.sftp_port, username="facade",
                                password="sandbox-only", known_hosts=str(known),
                                client_keys=None, agent_path=None) as conn:
        async with conn.start_sftp_client() as sftp:
            assert "inbound" in await sftp.listdir(".")


async def test_public_key_login(tmp_path: Path) -> None:
    from sandbox.clearinghouse import Account

    key = asyncssh.generate_private_key("ssh-ed25519")
    public = key.export_public_key().decode()
    keyed = Account("keyed", "", "KEYED", "T", "", "", "", public_keys=(public,))
    async with running_clearinghouse(tmp_path, accounts=(keyed,)) as ch:
        async with asyncssh.connect(ch.host, ch.sftp_port, username="keyed", client_keys=[key],
                                    known_hosts=None, agent_path=None) as conn:
            async with conn.start_sftp_client() as sftp:
                assert "inbound" in await sftp.listdir(".")
        other = asyncssh.generate_private_key("ssh-ed25519")
        with pytest.raises(asyncssh.PermissionDenied):
            async with asyncssh.connect(ch.host, ch.sftp_port, username="keyed",
                                        client_keys=[other], known_hosts=None,
                                        agent_path=None):
                pass
        with pytest.raises(asyncssh.PermissionDenied):  # an empty password never matches
            async with sftp_session(ch, "keyed", ""):
                pass
