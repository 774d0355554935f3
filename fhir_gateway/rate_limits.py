"""Requests per client, limited: a client that asks too often is refused 429 with `Retry-After`.

A client is who authenticated (an API key's name, a token's subject); the local developer,
who is everyone on an open gateway, is told apart by address. Each limit is a moving
window (`limits`), kept in this process: replicas behind a load balancer each allow the
limit. Health checks are never limited, so a busy client cannot get a replica restarted.
"""

import math
import time

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from fhir_gateway.refusals import refusal
from fhir_gateway.security.principal import principal_of

UNLIMITED_PREFIX = "/health"


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limits: list[RateLimitItem]) -> None:
        self.app = app
        self.items = limits
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.items or scope["path"].startswith(UNLIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        client = _client(scope)
        for item in self.items:
            if not await self.limiter.hit(item, client):
                reset_at, _ = await self.limiter.get_window_stats(item, client)
                wait = max(1, math.ceil(reset_at - time.time()))
                detail = f"more than {item} requests from this client: retry in {wait} s"
                response = refusal(scope, 429, detail, headers={"Retry-After": str(wait)})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _client(scope: Scope) -> str:
    principal = principal_of(scope)
    if principal is not None and principal.kind != "local-dev":
        return principal.identity
    address = scope.get("client")
    return f"address:{address[0] if address else 'unknown'}"
