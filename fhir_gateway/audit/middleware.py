"""Every request to patient data, on either face, recorded in the audit trail once answered.

It sits after authentication, so the principal is known, and records refusals of scope
and of rate limits too: an attempt is part of the trail. A request's answer is never held
back or changed; building its event cannot fail it (a failure is counted instead).
"""

import logging
import re
from datetime import UTC, datetime

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fhir_gateway.audit.events import (
    Access,
    answered_patient,
    audit_event,
    created_record,
    fhir_access,
    simplified_access,
)
from fhir_gateway.audit.trail import AuditTrail
from fhir_gateway.observability import AuditMetrics
from fhir_gateway.refusals import FHIR_PREFIX, is_fhir_path
from fhir_gateway.security.principal import principal_of

logger = logging.getLogger(__name__)

# Answers of the simplified API that name their patient only in the body (an interaction,
# a generated record) are read, up to this much, for `patient_id`.
_ANSWER_PEEK_BYTES = 65536
_NAMED_IN_ANSWER = ("/interactions", "/api/generate/records")
# A FHIR batch and a transaction share the base URL; the Bundle's type says which.
_BUNDLE_TYPE_PEEK_BYTES = 4096
_BATCH_TYPE = re.compile(rb'"type"\s*:\s*"batch"')


class AuditMiddleware:
    def __init__(self, app: ASGIApp, *, system_base: str, metrics: AuditMetrics) -> None:
        self.app = app
        self.system_base = system_base
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        trail: AuditTrail | None = getattr(scope["app"].state, "audit_trail", None) if "app" in scope else None
        access = self._access(scope) if scope["type"] == "http" and trail is not None else None
        if trail is None or access is None:
            await self.app(scope, receive, send)
            return
        recorded = datetime.now(UTC)
        status = 500
        location: str | None = None
        peek = bytearray() if scope["path"].startswith(_NAMED_IN_ANSWER) else None
        first_body = bytearray() if access.interaction == "transaction" else None

        async def receive_peeking() -> Message:
            message = await receive()
            if (
                first_body is not None
                and message["type"] == "http.request"
                and len(first_body) < _BUNDLE_TYPE_PEEK_BYTES
            ):
                first_body.extend(message.get("body", b"")[:_BUNDLE_TYPE_PEEK_BYTES])
            return message

        async def send_watching(message: Message) -> None:
            nonlocal status, location
            if message["type"] == "http.response.start":
                status = message["status"]
                location = Headers(raw=message.get("headers", [])).get("location")
            elif message["type"] == "http.response.body" and peek is not None and len(peek) < _ANSWER_PEEK_BYTES:
                peek.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_peeking, send_watching)
        finally:
            try:
                if first_body is not None and _BATCH_TYPE.search(first_body):
                    access.interaction = "batch"
                created_record(access, location)
                if peek is not None:
                    answered_patient(access, _patient_id(bytes(peek)))
                trail.record(
                    audit_event(
                        access,
                        principal=principal_of(scope),
                        address=scope["client"][0] if scope.get("client") else None,
                        status=status,
                        request_id=scope.get("state", {}).get("request_id"),
                        recorded=recorded,
                        system_base=self.system_base,
                    )
                )
            # The request is answered already: a fault of the trail is counted, never raised.
            except Exception:  # noqa: BLE001
                logger.warning("audit trail: the AuditEvent of a request could not be made", exc_info=False)
                self.metrics.counted("failed")

    def _access(self, scope: Scope) -> Access | None:
        path: str = scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        try:
            if is_fhir_path(path):
                return fhir_access(scope["method"], path[len(FHIR_PREFIX) :], query)
            return simplified_access(scope["method"], path)
        # A request the trail cannot make sense of is served all the same, and counted.
        except Exception:  # noqa: BLE001
            logger.warning("audit trail: a request could not be classified", exc_info=False)
            self.metrics.counted("failed")
            return None


def _patient_id(body: bytes) -> object:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return answer.get("patient_id") if isinstance(answer, dict) else None
