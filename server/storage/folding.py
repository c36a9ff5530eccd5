"""String folding shared by index extraction and search parsing (R4 search.html#string:
"case-insensitive and accent-insensitive").

Both sides must fold the same way, or a prefix search misses what was indexed.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold"]


def fold(text: str) -> str:
    """NFKD, drop combining marks, casefold, collapse runs of whitespace to one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
