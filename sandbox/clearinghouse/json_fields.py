"""Reading fields of the CHC JSON bodies the clearinghouse receives (CLEARINGHOUSES.md s3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["json_object", "json_text"]

_NOT_IN_X12 = str.maketrans("", "", "*~:^\r\n")


def json_text(source: Mapping[str, Any], key: str) -> str:
    """A text field (a number is taken as its text), without the characters the X12 answers
    use as delimiters; '' when absent or not text."""
    value = source.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    return str(value).translate(_NOT_IN_X12).strip()


def json_object(source: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An object field; {} when absent or not an object."""
    value = source.get(key)
    return value if isinstance(value, Mapping) else {}
