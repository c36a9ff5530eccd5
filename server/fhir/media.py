"""Content negotiation and `Prefer` handling (R4 http.html#mime-type, http.html#ops).

The facade speaks FHIR JSON only. `_format` wins over `Accept`; anything that asks only for XML,
Turtle or another type gets 406. Request bodies must be JSON (415 otherwise); PATCH bodies are
JSON Patch (`application/json-patch+json`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from server.errors import InvalidRequestError, NotAcceptableError, UnsupportedMediaTypeError

__all__ = [
    "FHIR_JSON",
    "JSON_PATCH",
    "Preferences",
    "check_body_type",
    "check_patch_type",
    "negotiate",
    "parse_prefer",
]

FHIR_JSON = "application/fhir+json"
PLAIN_JSON = "application/json"
JSON_PATCH = "application/json-patch+json"

# `_format` values (R4 http.html#mime-type) and what we answer with.
_FORMAT_VALUES: dict[str, str] = {
    "json": FHIR_JSON,
    FHIR_JSON: FHIR_JSON,
    PLAIN_JSON: PLAIN_JSON,
    "application/json+fhir": FHIR_JSON,
    "text/json": PLAIN_JSON,
}

# Media ranges in `Accept` we can satisfy.
_ACCEPT_VALUES: dict[str, str] = {
    FHIR_JSON: FHIR_JSON,
    "application/json+fhir": FHIR_JSON,
    PLAIN_JSON: PLAIN_JSON,
    "text/json": PLAIN_JSON,
    "application/*": FHIR_JSON,
    "*/*": FHIR_JSON,
}

_BODY_TYPES = frozenset({FHIR_JSON, PLAIN_JSON, "application/json+fhir", "text/json"})


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


@lru_cache(maxsize=512)
def negotiate(format_param: str | None, accept: str | None) -> str:
    """The response media type for a request's `_format` and `Accept`, or 406."""
    if format_param is not None:
        answer = _FORMAT_VALUES.get(_media_type(format_param.replace(" ", "+")))
        if answer is None:
            raise NotAcceptableError(
                "This server answers in FHIR JSON only (_format=json)", expression="_format"
            )
        return answer
    if not accept or not accept.strip():
        return FHIR_JSON
    best: tuple[float, str] | None = None
    for item in accept.split(","):
        media, *params = item.split(";")
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        answer = _ACCEPT_VALUES.get(media.strip().lower())
        if answer is not None and quality > 0 and (best is None or quality > best[0]):
            best = (quality, answer)
    if best is None:
        raise NotAcceptableError(
            "This server answers in application/fhir+json or application/json only"
        )
    return best[1]


def check_body_type(content_type: str | None) -> None:
    """A resource body must be FHIR JSON; a missing Content-Type is taken as JSON."""
    if content_type is None or not content_type.strip():
        return
    if _media_type(content_type) not in _BODY_TYPES:
        raise UnsupportedMediaTypeError(
            "Send resources as application/fhir+json (XML and forms are not accepted)"
        )


def check_patch_type(content_type: str | None) -> None:
    """PATCH takes JSON Patch (RFC 6902) only (R4 http.html#patch)."""
    if content_type is None or _media_type(content_type) != JSON_PATCH:
        raise UnsupportedMediaTypeError(
            "PATCH takes a JSON Patch document (Content-Type: application/json-patch+json)"
        )


@dataclass(frozen=True, slots=True)
class Preferences:
    """The parts of `Prefer` (RFC 7240) FHIR defines."""

    return_: str = "representation"
    handling: str = "lenient"
    respond_async: bool = False


_DEFAULT_PREFERENCES = Preferences()


@lru_cache(maxsize=256)
def parse_prefer(header: str | None) -> Preferences:
    """`return=minimal|representation|OperationOutcome`, `handling=strict|lenient`."""
    if not header:
        return _DEFAULT_PREFERENCES
    return_, handling, respond_async = "representation", "lenient", False
    for token in header.split(","):
        for part in token.split(";"):
            key, _, value = part.strip().partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "return":
                if value not in ("minimal", "representation", "OperationOutcome"):
                    raise InvalidRequestError(
                        "Prefer: return must be minimal, representation or OperationOutcome",
                        expression="Prefer",
                    )
                return_ = value
            elif key == "handling":
                if value not in ("strict", "lenient"):
                    raise InvalidRequestError(
                        "Prefer: handling must be strict or lenient", expression="Prefer"
                    )
                handling = value
            elif key == "respond-async":
                respond_async = True
    return Preferences(return_, handling, respond_async)
