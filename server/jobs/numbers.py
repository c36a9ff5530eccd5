"""Durable X12 control numbers (CLEARINGHOUSES.md section 5.1: "control-number counters are
durable and unique per sender id").

One counter per kind for the whole store (``x12:ISA``, ``x12:GS``, ``x12:ST``), so a number is
never reused for any sender, also across restarts and worker processes. A batch reserves the
numbers it may need in its unit of work; unused ones are skipped, never handed out twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.storage.outbox import OutboxWriter

__all__ = ["ReservedNumbers", "reserve_numbers"]

_LIMIT = 999_999_999


@dataclass
class ReservedNumbers:
    """A block of numbers per kind: ``ControlNumbers`` for the X12 writer."""

    blocks: dict[str, tuple[int, int]]
    """kind -> (first, count)."""
    _used: dict[str, int] = field(default_factory=dict)

    def next(self, kind: str) -> int:
        first, count = self.blocks[kind]
        used = self._used.get(kind, 0)
        if used >= count:
            raise RuntimeError(f"the reserved {kind} control numbers ran out")
        self._used[kind] = used + 1
        return (first + used - 1) % _LIMIT + 1


async def reserve_numbers(uow: OutboxWriter, sets: int, groups: int = 2) -> ReservedNumbers:
    """Numbers for one interchange of up to ``groups`` groups and ``sets`` transaction sets."""
    blocks = {}
    for kind, count in (("ISA", 1), ("GS", groups), ("ST", sets)):
        blocks[kind] = (await uow.take_numbers(f"x12:{kind}", count), count)
    return ReservedNumbers(blocks)
