"""The one error type of the store, and the OperationOutcome every error becomes."""

from dataclasses import dataclass, field
from typing import Any

# HTTP status -> OperationOutcome issue type (http://hl7.org/fhir/issue-type).
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    500: "exception",
    502: "exception",
    503: "transient",
    504: "timeout",
}


@dataclass
class Issue:
    diagnostics: str
    expression: str | None = None
    code: str | None = None


@dataclass
class FhirStoreError(Exception):
    """A request the store refuses: HTTP status and the issues that explain why."""

    status: int
    issues: list[Issue] = field(default_factory=list)

    @classmethod
    def of(
        cls, status: int, diagnostics: str, *, expression: str | None = None, code: str | None = None
    ) -> "FhirStoreError":
        return cls(status, [Issue(diagnostics, expression, code)])

    def __str__(self) -> str:
        return "; ".join(issue.diagnostics for issue in self.issues)

    def outcome(self) -> dict[str, Any]:
        default_code = _ISSUE_CODES.get(self.status, "processing")
        return operation_outcome(
            [_issue("error", issue.code or default_code, issue.diagnostics, issue.expression) for issue in self.issues]
        )


def information(diagnostics: str) -> dict[str, Any]:
    return operation_outcome([_issue("information", "informational", diagnostics, None)])


def operation_outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": issues}


def _issue(severity: str, code: str, diagnostics: str, expression: str | None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return issue


def bad_request(diagnostics: str, *, expression: str | None = None) -> FhirStoreError:
    return FhirStoreError.of(400, diagnostics, expression=expression)


def not_found(diagnostics: str) -> FhirStoreError:
    return FhirStoreError.of(404, diagnostics)
