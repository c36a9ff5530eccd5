"""Everything a FHIR -> X12 translation lacks, collected before anything is written.

A guide requires elements the FHIR input may not carry (a billing provider NPI, a ZIP+4, a
subscriber member id...). The builders record each one as a gap with the FHIRPath of the element
that should have held it, and raise once at the end: the caller gets an OperationOutcome listing
every gap (issue type ``required``, code FAC-4001), never a half-built file.
"""

from __future__ import annotations

import re
from typing import TypeVar

from server.errors import Issue, MappingGapError

__all__ = ["Gaps", "MappingGapError"]

T = TypeVar("T")


class Gaps:
    """Gaps found while building one transaction; ``check`` raises when there are any."""

    __slots__ = ("_issues", "_seen")

    def __init__(self) -> None:
        self._issues: list[Issue] = []
        self._seen: set[tuple[str, str]] = set()

    def __bool__(self) -> bool:
        return bool(self._issues)

    def __len__(self) -> int:
        return len(self._issues)

    @property
    def issues(self) -> list[Issue]:
        return list(self._issues)

    def add(self, expression: str, message: str, code: str = "required") -> None:
        """Record one gap (the same expression and message only once)."""
        key = (expression, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self._issues.append(Issue(message=message, code=code, expression=(expression,)))

    def need(self, value: T | None, expression: str, message: str) -> T | None:
        """``value`` itself; a gap when it is missing or empty."""
        if value is None or value == "" or value == []:
            self.add(expression, message)
        return value

    def valid(self, value: str, expression: str, pattern: str, message: str) -> str:
        """``value`` when empty or shaped as ``pattern`` (the size and characters its X12
        element takes, X12.6 data element types); otherwise an ``invalid`` gap and ""."""
        if value and re.fullmatch(pattern, value) is None:
            self.add(expression, message, "invalid")
            return ""
        return value

    def check(self, what: str) -> None:
        """Raise :class:`MappingGapError` with every gap, if any were recorded."""
        if self._issues:
            count = len(self._issues)
            raise MappingGapError(
                f"{what}: {count} required element{'s' if count > 1 else ''} missing or unusable",
                issues=list(self._issues),
            )
