"""How the uploader authenticates to the FHIR server, as `httpx.Auth` schemes: a fixed bearer
token, or an OAuth2 client-credentials grant (RFC 6749 §4.4).

`GeneratorSettings.fhir_auth` picks the scheme the environment configures.
"""

import math
import time
from collections.abc import AsyncGenerator, Callable, Generator

import anyio
import httpx

# A token is renewed this long before the server said it expires, so no request carries
# one that expires on the way.
EXPIRY_MARGIN_SECONDS = 30.0
# RFC 6749 leaves `expires_in` optional; a grant without it is trusted this long.
DEFAULT_LIFETIME_SECONDS = 300.0

Clock = Callable[[], float]


class TokenError(Exception):
    """The token endpoint gave no access token: unreachable, refused, or an answer without one."""


class BearerToken(httpx.Auth):
    """Sends a fixed token as `Authorization: Bearer ...`."""

    def __init__(self, token: str) -> None:
        self._authorization = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._authorization
        yield request


class ClientCredentials(httpx.Auth):
    """OAuth2 client credentials: an access token from `token_url`, on every request.

    Parallel requests share one token, and only the first to find it stale fetches the
    next one. A token is renewed `EXPIRY_MARGIN_SECONDS` before its `expires_in` runs
    out. A 401 answer to a request that carried a token from the cache (it may have been
    revoked, or expired early) renews the token and sends the request once more; a 401
    to a token fetched for that very request is returned as it is, since a new token
    would be refused the same way.

    `token_transport` replaces the network to the token endpoint (tests pass a mock);
    `clock` is the monotonic time in seconds that lifetimes are measured with.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        token_transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._token_url = token_url
        self._client_auth = httpx.BasicAuth(client_id, client_secret)
        self._form = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
        self._token_transport = token_transport
        self._clock = clock
        self._token: str | None = None
        self._renew_at = -math.inf
        self._lock = anyio.Lock()

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # The inherited flow would send the request without any token.
        raise TypeError("ClientCredentials authenticates httpx.AsyncClient requests only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # Read now, so that a streamed body can still be sent a second time after a 401.
        await request.aread()
        token, fetched = await self._token_for(rejected=None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != httpx.codes.UNAUTHORIZED or fetched:
            return
        token, _ = await self._token_for(rejected=token)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    async def _token_for(self, *, rejected: str | None) -> tuple[str, bool]:
        """The token to send, and whether it was fetched just now; `rejected` is one the FHIR
        server refused, which is fetched anew unless another request already has."""
        async with self._lock:
            if self._token is not None and self._token != rejected and self._clock() < self._renew_at:
                return self._token, False
            # The lifetime runs from before the request: the server starts it on receipt.
            requested_at = self._clock()
            token, lifetime = await self._grant()
            self._token, self._renew_at = token, requested_at + lifetime - EXPIRY_MARGIN_SECONDS
            return token, True

    async def _grant(self) -> tuple[str, float]:
        """A new access token and its lifetime in seconds."""
        try:
            async with httpx.AsyncClient(transport=self._token_transport, auth=self._client_auth) as client:
                response = await client.post(self._token_url, data=self._form)
        except httpx.HTTPError as error:
            raise TokenError(f"token endpoint {self._token_url} could not be reached: {error!r}") from error
        if response.is_error:
            status = response.status_code
            raise TokenError(f"token endpoint {self._token_url} answered {status}{_oauth_error(response)}")
        try:
            return _parse_grant(response)
        except ValueError as error:
            raise TokenError(
                f"token endpoint {self._token_url} answered {response.status_code} without a usable token: {error}"
            ) from error


def _parse_grant(response: httpx.Response) -> tuple[str, float]:
    """The access token and its lifetime in seconds; a ValueError says what the answer lacks."""
    grant = response.json()
    token = grant.get("access_token") if isinstance(grant, dict) else None
    if not isinstance(token, str) or not token:
        raise ValueError("no access_token")
    expires_in = grant.get("expires_in")
    if expires_in is None:
        return token, DEFAULT_LIFETIME_SECONDS
    try:
        lifetime = float(expires_in)
    except (TypeError, ValueError):
        lifetime = math.nan
    if not math.isfinite(lifetime):
        raise ValueError(f"expires_in {expires_in!r} is not a number of seconds")
    return token, lifetime


def _oauth_error(response: httpx.Response) -> str:
    """`: invalid_client (why)` from an RFC 6749 §5.2 error answer, or nothing."""
    try:
        answer = response.json()
    except ValueError:
        return ""
    if not isinstance(answer, dict) or not isinstance(answer.get("error"), str):
        return ""
    description = answer.get("error_description")
    return f": {answer['error']}" + (f" ({description})" if isinstance(description, str) and description else "")
