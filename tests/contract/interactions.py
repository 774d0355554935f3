"""Thin wrappers over the FHIR REST API for the contract tests: set-up writes, searches that
follow every page, and the checks every error answer must pass.
"""

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import httpx

from tests.contract.factories import Json

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"

Params = Sequence[tuple[str, str]]


def reference(resource: Json) -> str:
    """`Type/id` of a stored resource, as a reference to it is written."""
    return f"{resource['resourceType']}/{resource['id']}"


def create(fhir: httpx.Client, resource: Json) -> Json:
    """POST `resource` as set-up for a test and answer the stored representation."""
    response = fhir.post(resource["resourceType"], json=resource)
    assert response.status_code == 201, response.text
    return response.json()


def read(fhir: httpx.Client, path: str) -> Json:
    """GET `path` (e.g. `Patient/123`), which must exist."""
    response = fhir.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def search(fhir: httpx.Client, resource_type: str, params: Params) -> Json:
    """One search request; the answer must be a searchset Bundle."""
    response = fhir.get(resource_type, params=list(params))
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["resourceType"] == "Bundle"
    assert found["type"] == "searchset"
    return found


def next_link(page: Json) -> str | None:
    """The `next` link of a search page, or None on the last page."""
    return next((link["url"] for link in page.get("link", []) if link["relation"] == "next"), None)


def pages(fhir: httpx.Client, resource_type: str, params: Params) -> Iterable[Json]:
    """Every page of a search, following `link[rel=next]` as an opaque URL."""
    page = search(fhir, resource_type, params)
    yield page
    while url := next_link(page):
        response = fhir.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        yield page


def matches(page: Json) -> list[Json]:
    """The resources a search page matched (entries that are not `_include`d)."""
    return [
        entry["resource"] for entry in page.get("entry", []) if entry.get("search", {}).get("mode", "match") == "match"
    ]


def search_ids(fhir: httpx.Client, resource_type: str, params: Params) -> list[str]:
    """Ids of every resource the search matches, over all pages, in the server's order."""
    return [resource["id"] for page in pages(fhir, resource_type, params) for resource in matches(page)]


def parse_instant(value: str) -> datetime:
    """A FHIR instant (`meta.lastUpdated`) as an aware datetime."""
    return datetime.fromisoformat(value)


def location_parts(location: str) -> tuple[str, str, str | None]:
    """`(type, id, version)` from a Location, absolute or relative, with or without `_history`."""
    parts = location.split("?", 1)[0].rstrip("/").split("/")
    if "_history" in parts:
        at = parts.index("_history")
        return parts[at - 2], parts[at - 1], parts[at + 1]
    return parts[-2], parts[-1], None


def outcome_text(outcome: Json) -> str:
    """Everything an OperationOutcome says about where and why, as one searchable string."""
    said: list[str] = []
    for issue in outcome.get("issue", []):
        said.append(issue.get("diagnostics", ""))
        said.append(issue.get("details", {}).get("text", ""))
        said.extend(issue.get("expression", []))
        said.extend(issue.get("location", []))
    return "\n".join(said)


def assert_operation_outcome(response: httpx.Response, statuses: Collection[int] | int) -> Json:
    """The response has one of `statuses` and a FHIR JSON OperationOutcome explaining it."""
    expected = {statuses} if isinstance(statuses, int) else set(statuses)
    assert response.status_code in expected, f"{response.status_code} not in {expected}: {response.text}"
    assert response.headers["content-type"].startswith(FHIR_JSON)
    outcome: Any = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issues = outcome["issue"]
    assert issues, "an OperationOutcome needs at least one issue"
    for issue in issues:
        assert issue["severity"] in {"fatal", "error", "warning", "information"}
        assert issue["code"]
    assert any(issue["severity"] in {"fatal", "error"} and issue.get("diagnostics") for issue in issues), (
        "an error needs an issue of severity error with diagnostics"
    )
    return outcome
