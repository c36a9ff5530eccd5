"""The reports v2 mailbox behind the REST API: CHC names (``X3nnnnnn.XX`` 277, ``R5nnnnnn.XX``
835; CLEARINGHOUSES.md section 2), unique however many pile up, per account, kept on disk."""

from __future__ import annotations

import re
from pathlib import Path

from sandbox.clearinghouse.mailbox import Mailbox
from sandbox.clearinghouse.model import ResponseFile

CA = ResponseFile("277CA", "ISA*277CA~")
ERA = ResponseFile("835", "ISA*835~")


def test_names_follow_chc_and_roll_the_extension() -> None:
    box = Mailbox()
    x3 = [box.deliver("facade", CA) for _ in range(3)]
    r5 = box.deliver("facade", ERA)
    assert all(n is not None and re.fullmatch(r"X3\d{6}\.[A-Z]{2}", n) for n in x3)
    assert r5 is not None and re.fullmatch(r"R5\d{6}\.AA", r5)
    assert [n[-2:] for n in x3 if n] == ["AA", "AB", "AC"]
    assert len({n[2:8] for n in x3 if n}) == 1  # one submitter number
    assert box.deliver("facade", ResponseFile("999", "ISA*999~")) is None
    assert box.names("facade") == [*x3, r5]


def test_names_stay_unique_past_zz() -> None:
    box = Mailbox()
    names = [box.deliver("facade", CA) for _ in range(26 * 26 + 3)]
    assert len(set(names)) == len(names)
    assert names[26 * 26 - 1] is not None and names[26 * 26 - 1].endswith(".ZZ")
    assert names[26 * 26] is not None and names[26 * 26].endswith(".AA")


def test_a_deleted_name_is_gone_and_accounts_are_apart() -> None:
    box = Mailbox()
    name = box.deliver("facade", CA)
    assert name is not None
    assert box.get("other", name) is None and not box.delete("other", name)
    assert box.get("facade", name) is not None
    assert box.delete("facade", name) and not box.delete("facade", name)
    assert box.names("facade") == []


def test_reports_survive_a_restart(tmp_path: Path) -> None:
    box = Mailbox(tmp_path)
    first = box.deliver("facade", CA)
    second = box.deliver("facade", ERA)
    gone = box.deliver("facade", CA)
    assert first and second and gone
    box.delete("facade", gone)
    again = Mailbox(tmp_path)
    assert again.names("facade") == [first, second]
    report = again.get("facade", second)
    assert report is not None and report.kind == "835" and report.content == "ISA*835~"
    # Numbering carries on after the highest name kept.
    assert again.deliver("facade", CA) == gone
    assert not list(tmp_path.glob("**/*.tmp"))
