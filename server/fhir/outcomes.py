"""OperationOutcome bodies (R4 operationoutcome.html) for errors and informational answers."""

from __future__ import annotations

from typing import Any

from server.errors import ERROR_CODE_SYSTEM, FacadeError, Issue

__all__ = ["error_outcome", "info_outcome", "issue_json"]


def issue_json(issue: Issue, code: str | None = None) -> dict[str, Any]:
    """One `OperationOutcome.issue`, with the stable error code in `details.coding`."""
    out: dict[str, Any] = {"severity": issue.severity, "code": issue.code}
    details: dict[str, Any] = {}
    if code is not None:
        details["coding"] = [{"system": ERROR_CODE_SYSTEM, "code": code}]
    details["text"] = issue.message
    out["details"] = details
    if issue.expression:
        out["expression"] = list(issue.expression)
    return out


def error_outcome(error: FacadeError) -> dict[str, Any]:
    """The OperationOutcome of an error: every issue it carries, each with its code."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [issue_json(issue, error.code) for issue in error.issues],
    }


def info_outcome(message: str, code: str = "informational") -> dict[str, Any]:
    """A one-issue informational OperationOutcome (`Prefer: return=OperationOutcome`)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": code, "details": {"text": message}}],
    }
