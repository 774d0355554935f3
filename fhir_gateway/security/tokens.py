"""JWT bearer tokens (PyJWT), signed by a configured public key or a key of the issuer's JWKS.

Every token must name the configured issuer and audience and carry `exp` and `sub`; the
scopes come from `scope` (a space-separated string, as OAuth 2 and SMART write it) or `scp`
(a list, as some identity providers write it). Only asymmetric algorithms are accepted: the
gateway holds no secret that could also mint tokens.
"""

from pathlib import Path

import anyio.to_thread
import jwt
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from fhir_gateway.security.principal import Principal
from fhir_gateway.settings import Settings

# Seconds a fetched JWKS is trusted before it is fetched again; a token signed by a key it
# does not hold fetches it at once (at most every COOLDOWN seconds), as keys rotate.
JWKS_LIFESPAN = 300
JWKS_COOLDOWN = 30
JWKS_TIMEOUT = 5
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]


class TokenRefused(Exception):
    """A token that does not authenticate its bearer; the message says why, for the client."""


class KeysUnavailable(Exception):
    """The issuer's JWKS could not be fetched: nothing can be verified for now."""


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        if settings.jwt_issuer is None or settings.jwt_audience is None:
            raise ValueError("JWTs are checked against an issuer and an audience: set JWT_ISSUER and JWT_AUDIENCE")
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.algorithms = [algorithm for algorithm in settings.jwt_algorithms if not algorithm.startswith("HS")]
        if not self.algorithms:
            raise ValueError("JWT_ALGORITHMS names no asymmetric algorithm (RS256, ES256, PS256, EdDSA…)")
        self.leeway = settings.jwt_leeway_seconds
        self._static_key = _public_key(settings.jwt_public_key) if settings.jwt_public_key else None
        self._jwks = (
            jwt.PyJWKClient(
                settings.jwt_jwks_url,
                cache_keys=True,
                lifespan=JWKS_LIFESPAN,
                timeout=JWKS_TIMEOUT,
                cooldown_duration=JWKS_COOLDOWN,
            )
            if settings.jwt_jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        try:
            key = self._static_key if self._jwks is None else await self._signing_key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRefused("the token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRefused("the token is meant for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRefused("the token is from another issuer") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRefused(f"the token has no {exc.claim} claim") from exc
        except jwt.PyJWTError as exc:
            raise TokenRefused("the token's signature or form is invalid") from exc
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise TokenRefused("the token's sub claim is not a name")
        return Principal(subject, "jwt", _scopes(claims))

    async def _signing_key(self, token: str) -> object:
        assert self._jwks is not None
        try:
            # PyJWKClient fetches with urllib, blocking: off the event loop. Cached keys
            # come back without a request.
            signing_key = await anyio.to_thread.run_sync(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as exc:
            raise KeysUnavailable("the token issuer's keys could not be fetched") from exc
        except jwt.PyJWKClientError as exc:
            raise TokenRefused("the token is signed by a key the issuer does not publish") from exc
        return signing_key.key


def looks_like_jwt(token: str) -> bool:
    """A compact JWS: three base64url parts, the first a JSON header (`eyJ` is `{"`)."""
    return token.startswith("eyJ") and token.count(".") == 2


def _scopes(claims: dict[str, object]) -> frozenset[str]:
    granted = claims.get("scope", claims.get("scp"))
    if isinstance(granted, str):
        return frozenset(granted.split())
    if isinstance(granted, list):
        return frozenset(scope for scope in granted if isinstance(scope, str))
    return frozenset()


def _public_key(configured: str) -> PublicKeyTypes:
    """JWT_PUBLIC_KEY, loaded once: a PEM public key, or the path of a file holding one."""
    if configured.lstrip().startswith("-----BEGIN"):
        pem = configured
    elif Path(configured).is_file():
        pem = Path(configured).read_text()
    else:
        raise ValueError("JWT_PUBLIC_KEY is neither a PEM public key nor the path of a readable file")
    try:
        return load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise ValueError("JWT_PUBLIC_KEY holds no PEM public key") from exc
