"""The four delimiters of an interchange, read from its fixed-width ISA segment (X12.5 §3.3).

ISA is exactly 106 characters: the element separator is the 4th character, the repetition
separator ISA11 the 83rd, the component separator ISA16 the 105th and the segment terminator the
106th.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ISA_LENGTH", "Delimiters", "DEFAULT"]

ISA_LENGTH = 106


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"

    @classmethod
    def from_isa(cls, isa: str) -> Delimiters | None:
        """Delimiters of a 106-character ISA, or None when they cannot be told apart."""
        if len(isa) < ISA_LENGTH or not isa.startswith("ISA"):
            return None
        found = cls(element=isa[3], component=isa[104], repetition=isa[82], segment=isa[105])
        chars = (found.element, found.component, found.repetition, found.segment)
        if len(set(chars)) != 4 or any(c.isalnum() or c == " " for c in chars):
            return None
        # The element separator must sit at every fixed ISA boundary.
        if any(isa[i] != found.element for i in _ISA_SEPARATORS):
            return None
        return found


# Offsets of the 16 element separators in a fixed-width ISA.
_ISA_SEPARATORS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)

DEFAULT = Delimiters()
