"""The one error base of the facade and its stable codes.

Every failure that reaches a client is a :class:`FacadeError`; the app renders it as an
OperationOutcome (FHIR R4 `operationoutcome.html`) with the HTTP status it carries. Codes are
stable and never reused; they are numbered in blocks per area::

    FacadeError                                  FAC-0000 (abstract)
    ├── request and REST semantics               FAC-1xxx
    │   ├── InvalidRequestError          400     FAC-1001
    │   ├── ResourceNotFoundError        404     FAC-1002
    │   ├── ResourceGoneError            410     FAC-1003
    │   ├── UnsupportedResourceTypeError 404     FAC-1004
    │   ├── MethodNotAllowedError        405     FAC-1005
    │   ├── NotAcceptableError           406     FAC-1006
    │   ├── UnsupportedMediaTypeError    415     FAC-1007
    │   ├── PayloadTooLargeError         413     FAC-1008
    │   ├── PreconditionFailedError      412     FAC-1009
    │   ├── MultipleMatchesError         412     FAC-1010
    │   ├── IdMismatchError              400     FAC-1011
    │   ├── VersionConflictError         409     FAC-1012
    │   ├── InvalidSearchParameterError  400     FAC-1013
    │   ├── RouteNotFoundError           404     FAC-1014
    │   ├── InvalidPatchError            400     FAC-1015
    │   ├── TransactionEntryError        4xx     FAC-1016 (wraps the failing entry's error)
    │   └── PatchFailedError             422     FAC-1017
    ├── content validation               FAC-2xxx
    │   ├── MalformedJsonError           400     FAC-2001
    │   ├── ResourceTypeMismatchError    400     FAC-2002
    │   ├── ResourceValidationError      400     FAC-2003 (one issue per problem)
    │   └── PatchResultInvalidError      422     FAC-2004
    ├── storage                          FAC-3xxx
    │   ├── StorageUnavailableError      503     FAC-3001
    │   └── StorageBusyError             503     FAC-3002
    ├── translation (FHIR <-> X12)       FAC-4xxx
    │   ├── MappingGapError              422     FAC-4001 (one issue per gap)
    │   └── X12InputError                422     FAC-4002 (not the X12 asked for)
    ├── security (SMART on FHIR, OAuth 2)  FAC-5xxx
    │   ├── AuthenticationError          401     FAC-5001 (WWW-Authenticate: Bearer ...)
    │   ├── ForbiddenError               403     FAC-5002 (scopes do not allow the interaction)
    │   └── OAuthError                   4xx     FAC-5003 (rendered as RFC 6749 section 5.2 JSON)
    ├── clearinghouses and the claim pipeline  FAC-6xxx
    │   ├── ConnectorError               502     FAC-6000 (a vendor call failed)
    │   ├── ConnectorDownError           503     FAC-6001 (nothing delivered; safe to retry)
    │   ├── DeliveryUnknownError         504     FAC-6002 (maybe delivered; reconcile first)
    │   ├── ConnectorRejectedError       422     FAC-6003 (refused for good)
    │   ├── ConnectorNotConfiguredError  503     FAC-6004
    │   └── PipelineStateError           409     FAC-6005 (not in a state that allows it)
    └── InternalError                    500     FAC-9001

An issue carries the OperationOutcome ``issue.code`` (the IssueType value set), a human message,
and, where one exists, the FHIRPath ``expression`` of the offending element.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

__all__ = [
    "ERROR_CODE_SYSTEM",
    "FacadeError",
    "Issue",
    "InvalidRequestError",
    "ResourceNotFoundError",
    "ResourceGoneError",
    "UnsupportedResourceTypeError",
    "MethodNotAllowedError",
    "NotAcceptableError",
    "UnsupportedMediaTypeError",
    "PayloadTooLargeError",
    "PreconditionFailedError",
    "MultipleMatchesError",
    "IdMismatchError",
    "VersionConflictError",
    "InvalidSearchParameterError",
    "RouteNotFoundError",
    "InvalidPatchError",
    "TransactionEntryError",
    "PatchFailedError",
    "MalformedJsonError",
    "ResourceTypeMismatchError",
    "ResourceValidationError",
    "PatchResultInvalidError",
    "StorageUnavailableError",
    "StorageBusyError",
    "MappingGapError",
    "X12InputError",
    "AuthenticationError",
    "ForbiddenError",
    "OAuthError",
    "ConnectorError",
    "ConnectorDownError",
    "DeliveryUnknownError",
    "ConnectorRejectedError",
    "ConnectorNotConfiguredError",
    "PipelineStateError",
    "InternalError",
]

#: CodeSystem of the stable error codes, carried in ``issue.details.coding``.
ERROR_CODE_SYSTEM = "urn:fhir-facade:error-code"


@dataclass(frozen=True, slots=True)
class Issue:
    """One OperationOutcome issue (R4 `OperationOutcome.issue`)."""

    message: str
    code: str = "invalid"
    severity: str = "error"
    expression: tuple[str, ...] = field(default=())


class FacadeError(Exception):
    """Base of every error the facade reports. Subclasses fix code, status and issue type."""

    code: ClassVar[str] = "FAC-0000"
    http_status: ClassVar[int] = 500
    issue_type: ClassVar[str] = "exception"

    def __init__(
        self,
        message: str,
        *,
        expression: str | tuple[str, ...] | None = None,
        issues: list[Issue] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if isinstance(expression, str):
            expression = (expression,)
        self.expression: tuple[str, ...] = expression or ()
        self._issues = issues
        self.headers = headers or {}

    @property
    def issues(self) -> list[Issue]:
        """The issues to report; one built from the message when none were given."""
        if self._issues:
            return self._issues
        return [Issue(message=self.message, code=self.issue_type, expression=self.expression)]


# --- request and REST semantics (FAC-1xxx) -------------------------------------------------


class InvalidRequestError(FacadeError):
    code = "FAC-1001"
    http_status = 400
    issue_type = "invalid"


class ResourceNotFoundError(FacadeError):
    code = "FAC-1002"
    http_status = 404
    issue_type = "not-found"


class ResourceGoneError(FacadeError):
    """Read of a deleted resource or version (R4 http.html#read: 410 Gone)."""

    code = "FAC-1003"
    http_status = 410
    issue_type = "deleted"


class UnsupportedResourceTypeError(FacadeError):
    code = "FAC-1004"
    http_status = 404
    issue_type = "not-supported"


class MethodNotAllowedError(FacadeError):
    code = "FAC-1005"
    http_status = 405
    issue_type = "not-supported"


class NotAcceptableError(FacadeError):
    """`_format` / `Accept` asks for a format we do not serve (R4 http.html#mime-type)."""

    code = "FAC-1006"
    http_status = 406
    issue_type = "not-supported"


class UnsupportedMediaTypeError(FacadeError):
    code = "FAC-1007"
    http_status = 415
    issue_type = "not-supported"


class PayloadTooLargeError(FacadeError):
    code = "FAC-1008"
    http_status = 413
    issue_type = "too-long"


class PreconditionFailedError(FacadeError):
    """`If-Match` did not match the current version (R4 http.html#concurrency)."""

    code = "FAC-1009"
    http_status = 412
    issue_type = "conflict"


class MultipleMatchesError(FacadeError):
    """A conditional interaction matched more than one resource (R4 http.html#cond-update)."""

    code = "FAC-1010"
    http_status = 412
    issue_type = "multiple-matches"


class IdMismatchError(FacadeError):
    code = "FAC-1011"
    http_status = 400
    issue_type = "invalid"


class VersionConflictError(FacadeError):
    code = "FAC-1012"
    http_status = 409
    issue_type = "conflict"


class InvalidSearchParameterError(FacadeError):
    code = "FAC-1013"
    http_status = 400
    issue_type = "invalid"


class RouteNotFoundError(FacadeError):
    code = "FAC-1014"
    http_status = 404
    issue_type = "not-found"


class InvalidPatchError(FacadeError):
    code = "FAC-1015"
    http_status = 400
    issue_type = "invalid"


class TransactionEntryError(FacadeError):
    """A transaction entry failed; the whole transaction is rolled back (R4 http.html#trules).

    Carries the status of the entry's own error and names the entry in every issue.
    """

    code = "FAC-1016"
    issue_type = "processing"

    def __init__(self, index: int, cause: FacadeError) -> None:
        super().__init__(f"Bundle.entry[{index}]: {cause.message}")
        self.cause = cause
        self.index = index
        self.http_status = cause.http_status  # type: ignore[misc]
        self._issues = [
            Issue(
                message=f"Bundle.entry[{index}]: {issue.message}",
                code=issue.code,
                severity=issue.severity,
                expression=issue.expression or (f"Bundle.entry[{index}]",),
            )
            for issue in cause.issues
        ]


class PatchFailedError(FacadeError):
    """A JSON Patch `test` failed or a path it names does not exist (RFC 6902 section 5)."""

    code = "FAC-1017"
    http_status = 422
    issue_type = "processing"


# --- content validation (FAC-2xxx) ---------------------------------------------------------


class MalformedJsonError(FacadeError):
    code = "FAC-2001"
    http_status = 400
    issue_type = "structure"


class ResourceTypeMismatchError(FacadeError):
    code = "FAC-2002"
    http_status = 400
    issue_type = "invalid"


class ResourceValidationError(FacadeError):
    """The resource breaks R4 structure, types, cardinality or a required binding."""

    code = "FAC-2003"
    http_status = 400
    issue_type = "invalid"


class PatchResultInvalidError(ResourceValidationError):
    """The patched resource is not valid (R4 http.html#patch: 422 Unprocessable Entity)."""

    code = "FAC-2004"
    http_status = 422
    issue_type = "processing"


# --- storage (FAC-3xxx) ---------------------------------------------------------------------


class StorageUnavailableError(FacadeError):
    code = "FAC-3001"
    http_status = 503
    issue_type = "transient"


class StorageBusyError(FacadeError):
    code = "FAC-3002"
    http_status = 503
    issue_type = "transient"


# --- translation (FAC-4xxx) ----------------------------------------------------------------


class MappingGapError(FacadeError):
    """The FHIR input lacks what the X12 guide requires: one issue per gap, nothing built."""

    code = "FAC-4001"
    http_status = 422
    issue_type = "required"


class X12InputError(FacadeError):
    """The X12 input cannot be mapped: wrong transaction, or not valid for its guide."""

    code = "FAC-4002"
    http_status = 422
    issue_type = "invalid"


# --- security (FAC-5xxx) -------------------------------------------------------------------


class AuthenticationError(FacadeError):
    """No usable bearer token: missing, malformed, expired, forged or revoked (RFC 6750 s3).

    ``error`` is the RFC 6750 error code put in ``WWW-Authenticate`` (empty when no token was
    sent at all, as RFC 6750 section 3.1 asks)."""

    code = "FAC-5001"
    http_status = 401
    issue_type = "login"

    def __init__(self, message: str, *, error: str = "invalid_token", realm: str = "fhir") -> None:
        challenge = f'Bearer realm="{realm}"'
        if error:
            challenge += f', error="{error}", error_description="{message}"'
        super().__init__(message, headers={"WWW-Authenticate": challenge})
        self.error = error


class ForbiddenError(FacadeError):
    """The token is valid but its scopes do not allow the interaction (RFC 6750 s3.1
    ``insufficient_scope``). Never used for another patient's resource: that is a 404."""

    code = "FAC-5002"
    http_status = 403
    issue_type = "forbidden"

    def __init__(self, message: str, *, scope: str | None = None) -> None:
        challenge = 'Bearer realm="fhir", error="insufficient_scope"'
        if scope:
            challenge += f', scope="{scope}"'
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class OAuthError(FacadeError):
    """An OAuth 2 endpoint error, answered as ``{"error", "error_description"}`` JSON
    (RFC 6749 section 5.2, RFC 7591 section 3.2.2, RFC 7009 section 2.2.1), not as an
    OperationOutcome. ``status`` is 400 except ``invalid_client`` (401) and server errors."""

    code = "FAC-5003"
    http_status = 400
    issue_type = "security"

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description, headers=headers)
        self.error = error
        self.http_status = status  # type: ignore[misc]


# --- clearinghouses and the claim pipeline (FAC-6xxx) ---------------------------------------


class ConnectorError(FacadeError):
    """A clearinghouse call failed; ``retry_after`` (seconds) when the vendor said when."""

    code = "FAC-6000"
    http_status = 502
    issue_type = "transient"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConnectorDownError(ConnectorError):
    """Nothing was delivered: the vendor could not be reached, refused the connection, answered
    429/503 before taking the payload, or its circuit breaker is open. Safe to retry later."""

    code = "FAC-6001"
    http_status = 503


class DeliveryUnknownError(ConnectorError):
    """The payload may or may not have been delivered (a timeout or a broken connection after
    the upload or POST began). Never resend without reconciling first (CLEARINGHOUSES.md s6)."""

    code = "FAC-6002"
    http_status = 504


class ConnectorRejectedError(ConnectorError):
    """The vendor answered and refused the payload for good (a 4xx other than 408/409/429, or
    edit errors in a JSON response); sending the same payload again cannot succeed."""

    code = "FAC-6003"
    http_status = 422
    issue_type = "processing"


class ConnectorNotConfiguredError(FacadeError):
    """No clearinghouse connection is configured for the operation."""

    code = "FAC-6004"
    http_status = 503
    issue_type = "not-supported"


class PipelineStateError(FacadeError):
    """The claim, job or exception is not in a state that allows the request."""

    code = "FAC-6005"
    http_status = 409
    issue_type = "business-rule"


# --- internal (FAC-9xxx) --------------------------------------------------------------------


class InternalError(FacadeError):
    code = "FAC-9001"
    http_status = 500
    issue_type = "exception"
