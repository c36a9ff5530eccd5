"""The pipeline's records (``server/storage/outbox.py``): their kinds, keys and states.

- ``claim`` (key: Claim id, ref: patient control number, state: the claim's stage):
  ``queued`` -> ``batched`` -> ``sent`` -> ``accepted`` | ``rejected`` -> ``paid`` | ``denied``.
  Data: connector, pcn, the submitted Bundle, the ClaimResponse id, the batch reference.
- ``claim-ident`` (key: ``system|value`` of Claim.identifier): the Claim a submission made, for
  idempotent `$submit`.
- ``batch`` (key: reference, ref: ISA13, state ``prepared`` | ``sending`` | ``uncertain`` |
  ``sent`` | ``accepted`` | ``rejected``): the exact payload, recorded before it is sent.
- ``gs`` (key: GS06): the batch a functional group belongs to (999 AK102 correlation).
- ``inbound`` (key: ``connector|name``): the seen-file ledger.
- ``remittance`` (key: ``payer|trace``): an imported 835 payment (BPR/TRN), for idempotency.
- ``exception`` (key: id, ref: pcn, state ``open`` | ``resolved`` | ``dismissed``): a remittance
  claim that matched no submitted Claim.
"""

from __future__ import annotations

__all__ = [
    "BATCH",
    "CLAIM",
    "CLAIM_IDENT",
    "EXCEPTION",
    "FINAL_STATES",
    "GROUP",
    "INBOUND",
    "REMITTANCE",
]

CLAIM = "claim"
CLAIM_IDENT = "claim-ident"
BATCH = "batch"
GROUP = "gs"
INBOUND = "inbound"
REMITTANCE = "remittance"
EXCEPTION = "exception"

#: Claim stages after which no status inquiry is needed.
FINAL_STATES = frozenset({"rejected", "paid", "denied"})
