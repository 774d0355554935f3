"""The headers every answer carries, against sniffing, framing, leaking and caching.

The API answers data, never pages to render: its Content-Security-Policy allows nothing.
The console's pages (`/ui`, and `/`, which links to it) use only scripts, styles and images
of their own: their policy allows those and requests to this origin, and nothing inline.
The interactive docs (`/docs`, `/redoc`) are pages, built from FastAPI's inline bootstrap
script and Swagger UI or ReDoc from jsDelivr, and get a policy that allows exactly that.
Answers hold patient data, so no shared cache may keep them (`Cache-Control: no-store`,
unless a route chose otherwise); ETags still let clients ask whether their copy is current.
The `Server` header is dropped: no banner naming the software to whoever asks.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fhir_gateway.console_paths import is_console_path

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src blob:; connect-src 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
CONSOLE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = _policy(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS.items():
                    headers[name] = value
                headers["Content-Security-Policy"] = policy
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _policy(path: str) -> str:
    if path in DOCS_PATHS:
        return DOCS_POLICY
    if is_console_path(path):
        return CONSOLE_POLICY
    return API_POLICY
