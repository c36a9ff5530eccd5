"""CHC professional claims v3 over REST: ``/submission`` and ``/validation``
(CLEARINGHOUSES.md sections 2, 3 and 6).

- A body that cannot be read as a claim (required objects missing, amounts that are not
  amounts) -> 400 ``status: ERROR`` with ``errors[]``; nothing is counted.
- A claim failing the front-end edits (``front_end.py``, with the JSON limit of 50 service
  lines) -> 400 with every failed edit in ``errors[]`` and ``editResponses[]``; it is counted
  and its rejection recorded (claim status answers A3/A6/A7), but no report is made.
- An accepted claim -> 200 ``status: SUCCESS`` with the claim reference and ``x12`` (the
  277CA, as Stedi returns it); the mailbox gets the 277CA and the 835.
- Stedi ``Idempotency-Key`` (24 h): the same key with the same body answers the first response
  again and processes nothing; with another body 422; while the first request is still being
  processed 409.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mappers.x12.writer import ControlNumbers, Group, write_groups
from sandbox.clearinghouse.ack_277ca import ClaimAckBatch, claim_ack_sets
from sandbox.clearinghouse.claims_in import claim_from_json
from sandbox.clearinghouse.front_end import failed_edits
from sandbox.clearinghouse.json_out import claim_errors, claim_submission, claim_validation
from sandbox.clearinghouse.ledger import Ledger
from sandbox.clearinghouse.model import ResponseFile, Submitter
from sandbox.clearinghouse.processing import process_claims
from sandbox.clearinghouse.remit_835 import remittance_set
from sandbox.clearinghouse.x12_out import envelope

__all__ = ["JsonClaims"]

Answer = tuple[int, dict[str, Any], list[ResponseFile]]


def _hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class JsonClaims:
    clearinghouse_id: str
    ledger: Ledger
    numbers: ControlNumbers
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _in_flight: set[tuple[str, str]] = field(default_factory=set)

    def submit(self, body: Any, submitter: Submitter, key: str | None) -> Answer:
        if not key:
            return self._submit(body, submitter)
        slot = (submitter.username, key)
        digest = _hash(body)
        with self._lock:
            if slot in self._in_flight:
                return 409, {"code": "CONFLICT", "message": "A request with this "
                             "Idempotency-Key is still being processed"}, []
            first = self.ledger.idempotent(submitter.username, key)
            if first is not None:
                if first.body_hash != digest:
                    return 422, {"code": "UNPROCESSABLE_ENTITY", "message": "The "
                                 "Idempotency-Key was used with a different request body"}, []
                return first.status, first.response, []
            self._in_flight.add(slot)
        try:
            status, response, files = self._submit(body, submitter)
            self.ledger.remember(submitter.username, key, digest, status, response)
        finally:
            with self._lock:
                self._in_flight.discard(slot)
        return status, response, files

    def _submit(self, body: Any, submitter: Submitter) -> Answer:
        when = datetime.now()
        claim, errors = claim_from_json(body, submitter.sender_id)
        trace = f"RQ{self.ledger.take('request'):010d}"
        if claim is None:
            return 400, claim_errors(body, errors, submitter, trace), []
        done = process_claims([claim], self.ledger, channel="rest", source=trace,
                              today=when.date(), json_limits=True)
        result = done.results[0]
        if not result.accepted:
            edits = failed_edits(claim, today=when.date(), json_limits=True)
            return 400, claim_errors(body, edits, submitter, result.trace), []
        usage = body.get("usageIndicator") if body.get("usageIndicator") in ("T", "P") \
            else submitter.usage
        env = envelope(self.clearinghouse_id, submitter.sender_id, usage, when)
        batch = ClaimAckBatch(
            bht03=str(body.get("controlNumber") or claim.pcn), results=done.results,
            payer_claim_numbers=done.payer_claim_numbers(), submitter_id=submitter.sender_id,
            submitter_name=submitter.sender_id,
            reference=f"CA{self.ledger.take('277ca'):010d}",
        )
        ack = write_groups([Group("HN", "005010X214", claim_ack_sets(batch, when))], env,
                           self.numbers)
        meta = {"pcn": claim.pcn, "payer_id": claim.payer_id, "trace": result.trace}
        files = [ResponseFile("277CA", ack, meta={**meta, "isa13": ack[90:99]})]
        for remittance in done.remittances:
            body_835 = remittance_set(list(remittance.decisions), remittance.trace,
                                      remittance.payee, submitter.sender_id, when)
            text = write_groups([Group("HP", "005010X221A1", [body_835])], env, self.numbers)
            files.append(ResponseFile("835", text, meta={**meta, "isa13": text[90:99],
                                                         "check": remittance.trace}))
        return 200, claim_submission(body, claim, result.trace, submitter, ack, when), files

    def validate(self, body: Any, submitter: Submitter) -> tuple[int, dict[str, Any]]:
        trace = f"RQ{self.ledger.take('request'):010d}"
        claim, errors = claim_from_json(body, submitter.sender_id)
        if claim is None:
            return 400, claim_errors(body, errors, submitter, trace)
        edits = failed_edits(claim, json_limits=True)
        if edits:
            return 400, claim_errors(body, edits, submitter, trace)
        return 200, claim_validation(body, submitter, trace)
