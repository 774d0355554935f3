"""How the uploader authenticates to the FHIR server: not at all, a bearer token, or OAuth2
client credentials.

`IS_LOCAL_DEV=true` means no authentication whatever else is configured, as for a FHIR
server on a laptop. Otherwise a configured `FHIR_TOKEN` is sent as a bearer token, or,
with `FHIR_OAUTH_TOKEN_URL`, `FHIR_OAUTH_CLIENT_ID` and `FHIR_OAUTH_CLIENT_SECRET`, a
token is fetched by the client-credentials grant and fetched again before it expires.
"""

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import anyio
import httpx

# A token is renewed this long before the server said it expires, so no request carries
# one that expires on the way.
_EXPIRY_MARGIN_SECONDS = 30.0
_DEFAULT_LIFETIME_SECONDS = 300.0


@dataclass(frozen=True)
class AuthConfig:
    """Authentication settings, usually read from the environment by `from_env`."""

    local_dev: bool = False
    token: str | None = None
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "AuthConfig":
        return cls(
            local_dev=environ.get("IS_LOCAL_DEV", "").strip().lower() in ("1", "true", "yes"),
            token=environ.get("FHIR_TOKEN") or None,
            token_url=environ.get("FHIR_OAUTH_TOKEN_URL") or None,
            client_id=environ.get("FHIR_OAUTH_CLIENT_ID") or None,
            client_secret=environ.get("FHIR_OAUTH_CLIENT_SECRET") or None,
            scope=environ.get("FHIR_OAUTH_SCOPE") or None,
        )

    @property
    def uses_client_credentials(self) -> bool:
        return not self.local_dev and not self.token and self.token_url is not None

    def headers(self) -> dict[str, str]:
        """Static headers: the bearer token when one is configured and this is not local development."""
        return {"Authorization": f"Bearer {self.token}"} if self.token and not self.local_dev else {}

    def transport(self, inner: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncBaseTransport | None:
        """The transport to reach the FHIR server through: `inner` (None: the network), wrapped
        in the client-credentials flow when that is configured."""
        if not self.uses_client_credentials:
            return inner
        if not self.client_id or not self.client_secret:
            raise ValueError("FHIR_OAUTH_TOKEN_URL needs FHIR_OAUTH_CLIENT_ID and FHIR_OAUTH_CLIENT_SECRET")
        assert self.token_url is not None
        return ClientCredentialsTransport(
            inner or httpx.AsyncHTTPTransport(),
            token_url=self.token_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scope,
        )


class ClientCredentialsTransport(httpx.AsyncBaseTransport):
    """Adds an OAuth2 client-credentials access token to every request it forwards to `inner`."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        token_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._inner = inner
        self._token_url = token_url
        self._form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
        self._token_client = httpx.AsyncClient(auth=(client_id, client_secret), transport=token_transport)
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = anyio.Lock()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Authorization"] = f"Bearer {await self._access_token()}"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._token_client.aclose()
        await self._inner.aclose()

    async def _access_token(self) -> str:
        # Parallel requests share one token; only the first to find it stale fetches another.
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                response = await self._token_client.post(self._token_url, data=self._form)
                response.raise_for_status()
                grant = response.json()
                self._token = str(grant["access_token"])
                lifetime = float(grant.get("expires_in") or _DEFAULT_LIFETIME_SECONDS)
                self._expires_at = time.monotonic() + max(0.0, lifetime - _EXPIRY_MARGIN_SECONDS)
            return self._token
