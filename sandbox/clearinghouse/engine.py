"""The sandbox clearinghouse's processing core: what it does with a file or a request it receives,
without any sockets (the SFTP and REST servers call it).

Order of answers for a batch file (CLEARINGHOUSES.md section 5, "Ack order"): TA1 for the
envelope, a 999 per functional group, then per accepted 837 set a 277CA (the front-end edits of
each claim, ``front_end.py``) and, for the claims that pass, an 835 per payer (``adjudication.py``).
JSON requests follow the CHC Medical Network shapes (CLEARINGHOUSES.md sections 2-3).

Every method is synchronous and thread-safe; what the clearinghouse has seen is kept in the
``Ledger``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mappers.x12.tree import TransactionSet
from mappers.x12.writer import Group, write_groups
from sandbox.clearinghouse.answer_271 import eligibility_set
from sandbox.clearinghouse.answer_277 import status_set
from sandbox.clearinghouse.batch import BatchContext, receive_batch
from sandbox.clearinghouse.claim_status import (
    StatusAnswer,
    decide,
    inquiries_from_276,
)
from sandbox.clearinghouse.claim_status import inquiry_from_json as status_inquiry
from sandbox.clearinghouse.eligibility import answer, inquiries_from_270
from sandbox.clearinghouse.eligibility import inquiry_from_json as eligibility_inquiry
from sandbox.clearinghouse.json_claims import JsonClaims
from sandbox.clearinghouse.json_out import eligibility_body, eligibility_error, status_body
from sandbox.clearinghouse.ledger import Ledger, LedgerNumbers
from sandbox.clearinghouse.model import ResponseFile, Submitter
from sandbox.clearinghouse.realtime import answer_realtime
from sandbox.clearinghouse.reports_json import report_json
from sandbox.clearinghouse.x12_out import Segments, envelope

__all__ = ["Engine", "EngineConfig", "Ledger"]


@dataclass(frozen=True)
class EngineConfig:
    """Who the clearinghouse is. Fee schedule and denial rules are module data in
    ``adjudication.py``."""

    clearinghouse_id: str = "CLEARINGHOUSE"
    """ISA08/GS03 it expects on inbound files (TA1 TA105 008 otherwise) and uses as ISA06 on
    what it sends back."""
    clearinghouse_name: str = "SANDBOX CLEARINGHOUSE"
    """How the clearinghouse names itself (for the servers' pages and logs; the X12 answers
    name the payer and the submitter, not the clearinghouse)."""


def _bad_request(field: str, description: str) -> tuple[int, dict[str, Any]]:
    return 400, {"status": "ERROR", "errors": [{"field": field, "description": description,
                                                "code": "33"}]}


class Engine:
    """The clearinghouse front end, payer adjudication and response writers."""

    def __init__(self, config: EngineConfig, ledger: Ledger) -> None:
        self.config = config
        self.ledger = ledger
        self.numbers = LedgerNumbers(ledger)
        self._batch = BatchContext(config.clearinghouse_id, ledger, self.numbers)
        self._claims = JsonClaims(config.clearinghouse_id, ledger, self.numbers)

    # -- X12 -----------------------------------------------------------------------------

    def receive_x12(
        self, content: bytes, submitter: Submitter, filename: str
    ) -> list[ResponseFile]:
        """Process a batch file uploaded over SFTP; the answers in the order they are written.

        - TA1 (X12.5): envelope errors; a repeated ISA13 from the same sender -> TA105 025 and
          nothing in the interchange is processed; ISA06 not the account's sender id -> 006;
          ISA08 not ``clearinghouse_id`` -> 008; ISA15 not the submitter's ``usage`` -> 020.
          Also when ISA14 = 1 asks for one.
        - 999 (005010X231A1) per functional group (AK102 = GS06, AK202 = ST02).
        - per accepted 837P interchange: a 277CA (005010X214), one set per payer, 2200B TRN02 =
          BHT03, 2200D TRN02 = CLM01, STC A2:20 accepted or A3/A6/A7 rejected by the edits.
        - an 835 (005010X221A1) per payer and payee for the accepted claims (CLP01 = CLM01).

        Every claim of an accepted set is counted in the ledger (``Ledger.claim_counts``).
        ``ResponseFile.meta`` holds ``isa13`` (of the answer), ``in_reply_to`` (the inbound
        ISA13) and ``filename``; ``name`` is left for the server to choose.
        """
        return receive_batch(content, submitter, filename, self._batch)

    def eligibility_x12(self, content: bytes, submitter: Submitter) -> str:
        """A 270 (005010X279A1) in, the 271 out (one set per inquiry; canned members,
        ``eligibility.py``); a TA1 for a rejected envelope, a 999 for a rejected set.
        Raises ``ValueError`` when no interchange can be read at all."""
        when = datetime.now()

        def sets(ts: TransactionSet) -> list[Segments]:
            return [eligibility_set(answer(q), when) for q in inquiries_from_270(ts)]

        return answer_realtime(content, submitter, clearinghouse_id=self.config.clearinghouse_id,
                               numbers=self.numbers, transaction="270", guide="005010X279A1",
                               functional_id="HB", version="005010X279A1", answer_sets=sets,
                               when=when)

    def claim_status_x12(self, content: bytes, submitter: Submitter) -> str:
        """A 276 (005010X212) in, the 277 out: the status of the claims the ledger knows
        (adjudicated F1/F2 with the paid amount, rejected A3/A6/A7, unknown A4:35), and the
        Optum magic payer ids (``claim_status.MAGIC_PAYERS``). TA1/999 as for eligibility."""
        when = datetime.now()
        today = when.strftime("%Y%m%d")

        def sets(ts: TransactionSet) -> list[Segments]:
            answers = [decide(q, self.ledger, today) for q in inquiries_from_276(ts)]
            return _status_sets(answers, when)

        return answer_realtime(content, submitter, clearinghouse_id=self.config.clearinghouse_id,
                               numbers=self.numbers, transaction="276", guide="005010X212",
                               functional_id="HN", version="005010X212", answer_sets=sets,
                               when=when)

    # -- JSON ----------------------------------------------------------------------------

    def submit_claim_json(
        self, body: Any, submitter: Submitter, idempotency_key: str | None
    ) -> tuple[int, dict[str, Any], list[ResponseFile]]:
        """CHC professional claims v3 ``/submission``: (HTTP status, response JSON, reports for
        the mailbox: a 277CA and, when the claim passed the edits, an 835, as X12
        ``ResponseFile`` objects).

        Edits failing -> 400 with ``status: "ERROR"`` and ``errors[]`` and no reports. Stedi
        ``Idempotency-Key``: the same key with the same body -> the first answer again (nothing
        re-processed, no reports); with a different body -> 422; still in flight -> 409.
        """
        return self._claims.submit(body, submitter, idempotency_key)

    def validate_claim_json(self, body: Any, submitter: Submitter) -> tuple[int, dict[str, Any]]:
        """CHC professional claims v3 ``/validation``: the same edits as ``/submission``, nothing
        recorded or adjudicated."""
        return self._claims.validate(body, submitter)

    def eligibility_json(self, body: Any, submitter: Submitter) -> tuple[int, dict[str, Any]]:
        """CHC eligibility v3: (status, the response JSON including ``x12`` = the raw 271).
        Canned subscribers only (CLEARINGHOUSES.md section 4), else 400 with ``errors[]``."""
        if not isinstance(body, Mapping):
            return _bad_request("body", "The request body must be a JSON object")
        for required in ("controlNumber", "subscriber"):
            if not body.get(required):
                return _bad_request(required, f"{required} is required")
        trace = f"EL{self.ledger.take('request'):010d}"
        inquiry = eligibility_inquiry(body)
        found = answer(inquiry)
        if not found.found:
            return 400, eligibility_error(dict(body), submitter, trace)
        when = datetime.now()
        usage = body.get("usageIndicator") if body.get("usageIndicator") in ("T", "P") \
            else submitter.usage
        env = envelope(self.config.clearinghouse_id, submitter.sender_id, str(usage), when)
        x12 = write_groups([Group("HB", "005010X279A1", [eligibility_set(found, when)])], env,
                           self.numbers)
        return 200, eligibility_body(found, x12, submitter, trace)

    def claim_status_json(self, body: Any, submitter: Submitter) -> tuple[int, dict[str, Any]]:
        """CHC claim status v2: (status, the response JSON including ``x12`` = the raw 277)."""
        if not isinstance(body, Mapping):
            return _bad_request("body", "The request body must be a JSON object")
        for required in ("tradingPartnerServiceId", "subscriber"):
            if not body.get(required):
                return _bad_request(required, f"{required} is required")
        trace = f"CS{self.ledger.take('request'):010d}"
        when = datetime.now()
        inquiry = status_inquiry(body, submitter.sender_id)
        found = decide(inquiry, self.ledger, when.strftime("%Y%m%d"))
        env = envelope(self.config.clearinghouse_id, submitter.sender_id, submitter.usage, when)
        x12 = write_groups([Group("HN", "005010X212", _status_sets([found], when))], env,
                           self.numbers)
        return 200, status_body([found], x12, submitter, trace)

    def report_json(self, report: ResponseFile) -> dict[str, Any]:
        """The JSON of a mailbox report: ``/reports/v2/{file}/277`` for a 277CA,
        ``/reports/v2/{file}/835`` for an 835 (CLEARINGHOUSES.md section 3, report rows)."""
        return report_json(report.kind, report.content)


def _status_sets(answers: list[StatusAnswer], when: datetime) -> list[Segments]:
    """One 277 per payer, receiver and provider (2000A/2000B/2000C hold one each here)."""
    groups: dict[tuple[str, str, str], list[StatusAnswer]] = {}
    for a in answers:
        q = a.inquiry
        groups.setdefault((q.payer_id, q.receiver_id, q.provider_npi), []).append(a)
    return [status_set(group, when) for group in groups.values()]
