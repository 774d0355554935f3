"""The FHIR face served by an application of its own, and the dispatch that sends `/fhir` to it.

The routes are declared once, on the FastAPI router (`router`), which puts them in the
gateway's OpenAPI schema; they are served here by plain Starlette routes made from the same
declarations. Every FHIR request is spared FastAPI's per-request machinery (matching past
the simplified API's routes, a few microseconds each; parameter and dependency solving),
which cost the relay more than the rest of its work: the face's endpoints take the request
alone. A router, not an application: requests keep the gateway as their app, and with it
its state (one FHIR client, one language model, one summary cache).
"""

from collections.abc import Awaitable, Callable

from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from fhir_gateway.features.fhir_api.outcomes import handled
from fhir_gateway.features.fhir_api.router import router
from fhir_gateway.refusals import is_fhir_path

Endpoint = Callable[[Request], Awaitable[Response]]


def fhir_face() -> Router:
    """The face's routes, as an ASGI app of their own."""
    return Router(
        routes=[
            Route(route.path, _answering_outcomes(route.endpoint), methods=list(route.methods))
            for route in router.routes
            if isinstance(route, APIRoute)
        ]
    )


class FhirFaceDispatch:
    """ASGI middleware: requests under `/fhir` go to the face, all others on to the gateway."""

    def __init__(self, app: ASGIApp, *, face: ASGIApp) -> None:
        self.app = app
        self.face = face

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if is_fhir_path(path):
            try:
                await self.face(scope, receive, send)
            except HTTPException as refusal:
                # A method no route knows (TRACE): the router refuses before any route runs.
                answer = await handled(Request(scope), refusal)
                await answer(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _answering_outcomes(endpoint: Endpoint) -> Endpoint:
    """The endpoint, every failure of which answers as an OperationOutcome."""

    async def answer(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an OperationOutcome
            return await handled(request, exc)

    return answer
