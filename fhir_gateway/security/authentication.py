"""Authentication for Starlette's AuthenticationMiddleware: who sends a request, from its
bearer token, before anything else of the gateway sees it.

Every path needs a token but the open ones (health probes, the API's docs, the FHIR
CapabilityStatement that FHIR clients read first, and `/metrics` when METRICS_PUBLIC): an
anonymous request is refused before routing, so it learns nothing, not even which URLs exist.
"""

import logging

from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.requests import HTTPConnection
from starlette.responses import Response

from fhir_gateway.console_paths import is_console_path
from fhir_gateway.refusals import refusal
from fhir_gateway.security.api_keys import ApiKey, matching, parse_api_keys
from fhir_gateway.security.principal import Principal
from fhir_gateway.security.tokens import KeysUnavailable, TokenRefused, TokenVerifier, looks_like_jwt
from fhir_gateway.settings import Settings

REALM = "fhir-gateway"
LOCAL_DEVELOPER = Principal("local-dev", "local-dev", frozenset({"system/*.*"}))
OPEN_PATHS = frozenset(
    {"/health", "/health/live", "/health/ready", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"}
    | {"/fhir/metadata"}
)
METRICS_PATH = "/metrics"
# The JWKS is fetched again soon; a client may retry after this many seconds.
_KEYS_RETRY_AFTER = "5"

logger = logging.getLogger(__name__)


class Refused(AuthenticationError):
    """A request that is not authenticated: the status, and what the client is told."""

    def __init__(self, detail: str, *, status: int = 401, error: str | None = "invalid_token") -> None:
        super().__init__(detail)
        self.status = status
        self.error = error

    def headers(self) -> dict[str, str]:
        if self.status == 503:
            return {"Retry-After": _KEYS_RETRY_AFTER}
        challenge = f'Bearer realm="{REALM}"'
        if self.error:
            challenge += f', error="{self.error}", error_description="{self}"'
        return {"WWW-Authenticate": challenge}


class Authenticator(AuthenticationBackend):
    """Bearer API keys (API_KEYS) and JWTs (JWT_*), or everyone as the local developer
    (IS_LOCAL_DEV)."""

    def __init__(
        self,
        *,
        local_dev: bool,
        api_keys: tuple[ApiKey, ...] = (),
        tokens: TokenVerifier | None = None,
        open_paths: frozenset[str] = OPEN_PATHS,
    ) -> None:
        self.local_dev = local_dev
        self.api_keys = api_keys
        self.tokens = tokens
        self.open_paths = open_paths

    @classmethod
    def from_settings(cls, settings: Settings) -> "Authenticator":
        """ValueError when no authentication is configured (and IS_LOCAL_DEV is not true),
        or when the settings name keys or token issuers that cannot be used."""
        verifies_tokens = settings.jwt_jwks_url is not None or settings.jwt_public_key is not None
        # An open gateway is a choice made for a laptop, never a default that reaches a server.
        if not (settings.is_local_dev or settings.api_keys or verifies_tokens):
            raise ValueError(
                "no authentication is configured: set API_KEYS, or JWT_JWKS_URL or JWT_PUBLIC_KEY (with JWT_ISSUER "
                "and JWT_AUDIENCE); or IS_LOCAL_DEV=true to serve without authentication on a developer's machine"
            )
        return cls(
            local_dev=settings.is_local_dev,
            api_keys=parse_api_keys(settings.api_keys),
            tokens=TokenVerifier(settings) if verifies_tokens else None,
            open_paths=OPEN_PATHS | {METRICS_PATH} if settings.metrics_public else OPEN_PATHS,
        )

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Principal] | None:
        if self.local_dev:
            return _credentials(LOCAL_DEVELOPER)
        path = conn.scope["path"]
        if path in self.open_paths or is_console_path(path):
            return None
        header = conn.headers.get("authorization")
        if header is None:
            raise Refused("this request needs an Authorization: Bearer token", error=None)
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Refused("the Authorization header must be Bearer followed by an API key or a JWT")
        return _credentials(await self._principal(token))

    async def _principal(self, token: str) -> Principal:
        if self.tokens is not None and looks_like_jwt(token):
            try:
                return await self.tokens.verify(token)
            except TokenRefused as exc:
                raise Refused(str(exc)) from exc
            except KeysUnavailable as exc:
                logger.warning("JWT refused for now: %s", exc)
                raise Refused(str(exc), status=503) from exc
        key = matching(self.api_keys, token)
        if key is None:
            raise Refused("the bearer token is not a valid API key or JWT")
        return Principal(key.name, "api-key", key.scopes)


def refuse_authentication(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    """The 401 (or 503, when the issuer's keys are out of reach) in the face's format."""
    refused = exc if isinstance(exc, Refused) else Refused(str(exc))
    # Why, never what: the token itself is a credential.
    logger.info("request %s refused: %s", conn.scope.get("state", {}).get("request_id"), refused)
    return refusal(conn.scope, refused.status, str(refused), headers=refused.headers())


def _credentials(principal: Principal) -> tuple[AuthCredentials, Principal]:
    return AuthCredentials(sorted(principal.scopes)), principal
