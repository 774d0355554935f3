"""Checks the API tests share: what a problem answer looks like, and whether a resource is still stored."""

from http import HTTPStatus
from typing import Any

import httpx

from fhir_gateway.fhir_client import FhirClient, FhirGone
from fhir_gateway.problems import PROBLEM_CONTENT_TYPE

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of `response`, asserting its status and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"] == HTTPStatus(status).phrase
    return body


async def exists(fhir: FhirClient, resource_type: str, resource_id: str) -> bool:
    """Whether the FHIR server still holds the resource (False once it was deleted)."""
    try:
        await fhir.read(resource_type, resource_id)
    except FhirGone:
        return False
    return True
