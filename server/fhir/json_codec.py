"""FHIR JSON in and out, without losing decimal precision.

FHIR R4 `json.html` (JSON representation) and `datatypes.html#decimal`: a decimal keeps the
precision it was written with, so ``1.50`` and ``1.5`` are different values and a float
round trip is not allowed. Input is therefore parsed with the stdlib decoder and
``parse_float=decimal.Decimal``; output is written by orjson with each ``Decimal`` spliced in
verbatim as an ``orjson.Fragment``.

Input rules (R4 `json.html`, RFC 8259):

- the body is UTF-8 (a leading byte order mark is tolerated and dropped);
- ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON and are rejected;
- an object may not repeat a key (FHIR JSON has one property per element name);
- numbers too large for Python's integer conversion limit are rejected, not crashed on.

Every failure is a :class:`~server.errors.MalformedJsonError` whose message gives the line and
column and never echoes the input (no PHI in errors, DESIGN.md law 6).
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from decimal import Decimal
from typing import Any, Final

import orjson

from server.errors import MalformedJsonError

__all__ = ["loads", "dumps", "dumps_pretty", "pretty"]

_BOM_BYTES: Final = b"\xef\xbb\xbf"
_BOM_TEXT: Final = "\ufeff"
#: An escaped UTF-16 surrogate; only then can the decoded text hold a lone surrogate.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
#: A JSON string, or one of the non-JSON constants the stdlib decoder would accept.
_CONSTANT_TOKEN: Final = re.compile(r'"(?:[^"\\]|\\.)*"|(NaN|-?Infinity)', re.DOTALL)
_INT64_MIN: Final = -(2**63)
_UINT64_MAX: Final = 2**64 - 1


class _DuplicateKey(Exception):
    """Raised inside the decoder when an object repeats a key."""


class _NonFiniteConstant(Exception):
    """Raised inside the decoder on ``NaN`` / ``Infinity``."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def _reject_constant(_name: str) -> Any:
    raise _NonFiniteConstant


_DECODER: Final = json.JSONDecoder(
    parse_float=Decimal,
    parse_constant=_reject_constant,
    object_pairs_hook=_unique_pairs,
)
#: Lenient decoder for bytes we wrote ourselves (``pretty``): only precision matters there.
_TRUSTED_DECODER: Final = json.JSONDecoder(parse_float=Decimal)


# --- loads ----------------------------------------------------------------------------------


def loads(body: bytes | str) -> Any:
    """Parse a FHIR JSON body; decimals become :class:`decimal.Decimal`.

    Raises :class:`MalformedJsonError` (with line and column) on anything that is not strict
    UTF-8 JSON: bad syntax, invalid UTF-8, ``NaN``/``Infinity``, duplicate keys, escaped lone
    surrogates, nesting deeper than the interpreter can follow.
    """
    text = _decode_utf8(body)
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _malformed(exc.msg, exc.lineno, exc.colno) from None
    except _DuplicateKey:
        raise _duplicate_key_error(text) from None
    except _NonFiniteConstant:
        raise _constant_error(text) from None
    except RecursionError:
        raise MalformedJsonError("Malformed JSON: nesting is too deep") from None
    except ValueError:
        # int() refuses numbers beyond sys.get_int_max_str_digits().
        raise MalformedJsonError("Malformed JSON: a number has too many digits") from None
    if _SURROGATE_ESCAPE.search(text) is not None:
        _reject_lone_surrogates(value)
    return value


def _decode_utf8(body: bytes | str) -> str:
    if isinstance(body, str):
        return body[1:] if body.startswith(_BOM_TEXT) else body
    raw = bytes(body)
    if raw.startswith(_BOM_BYTES):
        raw = raw[len(_BOM_BYTES) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(raw, exc.start)
        raise _malformed("invalid UTF-8 byte sequence", line, column) from None


def _position(data: str | bytes, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``, counted the way ``json.JSONDecodeError`` does."""
    newline: Any = "\n" if isinstance(data, str) else b"\n"
    line = data.count(newline, 0, offset) + 1
    column = offset - data.rfind(newline, 0, offset)
    return line, column


def _malformed(reason: str, line: int, column: int) -> MalformedJsonError:
    return MalformedJsonError(f"Malformed JSON at line {line} column {column}: {reason}")


def _constant_error(text: str) -> MalformedJsonError:
    for match in _CONSTANT_TOKEN.finditer(text):
        if match.group(1) is not None:
            line, column = _position(text, match.start(1))
            return _malformed("NaN and Infinity are not valid JSON numbers", line, column)
    return MalformedJsonError("Malformed JSON: NaN and Infinity are not valid JSON numbers")


def _duplicate_key_error(text: str) -> MalformedJsonError:
    """Find the object that repeats a key with the (slow) pure-Python scanner."""
    offset = _locate_duplicate_key(text)
    if offset is None:
        return MalformedJsonError("Malformed JSON: an object has a duplicate key")
    line, column = _position(text, offset)
    return _malformed("the object starting here has a duplicate key", line, column)


def _locate_duplicate_key(text: str) -> int | None:
    found: list[int] = []

    def parse_object(
        s_and_end: tuple[str, int], strict: bool, scan_once: Any, *_hooks: Any, **_kw: Any
    ) -> tuple[dict[str, Any], int]:
        pairs, end = json.decoder.JSONObject(s_and_end, strict, scan_once, None, list)  # type: ignore[attr-defined]
        if len({key for key, _ in pairs}) != len(pairs):
            found.append(s_and_end[1] - 1)
            raise _DuplicateKey
        return dict(pairs), end

    decoder = json.JSONDecoder(parse_float=Decimal)
    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(text)
    except (_DuplicateKey, RecursionError, ValueError):
        pass
    return found[0] if found else None


def _reject_lone_surrogates(value: Any) -> None:
    """A ``\\ud800`` escape without its pair decodes to text that is not valid UTF-8."""
    try:
        orjson.dumps(value, default=_default)
    except orjson.JSONEncodeError as exc:
        if "surrogate" in str(exc):
            raise MalformedJsonError(
                "Malformed JSON: a string escapes an unpaired UTF-16 surrogate"
            ) from None
        # Anything else (e.g. integers beyond 64 bits) is acceptable input.


# --- dumps ----------------------------------------------------------------------------------


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError("NaN and Infinity cannot be written as JSON numbers")
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON; ``Decimal`` values are written exactly as their text."""
    return _dumps(obj, 0)


def dumps_pretty(obj: Any) -> bytes:
    """Like :func:`dumps`, indented by two spaces."""
    return _dumps(obj, orjson.OPT_INDENT_2)


def pretty(raw: bytes) -> bytes:
    """Re-indent serialised JSON by two spaces, keeping every number's exact text."""
    return dumps_pretty(_TRUSTED_DECODER.decode(raw.decode("utf-8")))


def _dumps(obj: Any, option: int) -> bytes:
    try:
        return orjson.dumps(obj, default=_default, option=option)
    except orjson.JSONEncodeError as exc:
        if "Integer exceeds" not in str(exc):
            raise
    # A JSON integer beyond 64 bits (valid FHIR decimal): orjson cannot write it natively.
    return orjson.dumps(_big_ints_as_fragments(obj), default=_default, option=option)


def _big_ints_as_fragments(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _big_ints_as_fragments(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_big_ints_as_fragments(item) for item in value]
    if type(value) is int and not _INT64_MIN <= value <= _UINT64_MAX:
        return orjson.Fragment(str(value))
    return value
