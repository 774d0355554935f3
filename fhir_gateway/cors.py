"""CORS for the configured origins only (`CORS_ORIGINS`), with refusals a client can read.

Starlette's CORSMiddleware decides; a preflight it refuses is answered 403 in problem
details naming what was not allowed (the origin, the method, a header), instead of its
plain-text 400. A simple request from another origin is served without CORS headers, so
the browser keeps its answer from the page.
"""

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from fhir_gateway.problems import problem_response

# Headers of a response body, which the problem's own body replaces.
_BODY_HEADERS = frozenset({"content-length", "content-type"})


class CorsMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code == 200:
            return answer
        refused = bytes(answer.body).decode().removeprefix("Disallowed CORS ")
        detail = f"this cross-origin request is not allowed ({refused}); the allowed origins are set by CORS_ORIGINS"
        headers = {name: value for name, value in answer.headers.items() if name not in _BODY_HEADERS}
        return problem_response(403, detail, headers=headers)
