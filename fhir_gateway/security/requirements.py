"""What a route needs of the principal's scopes, and the 403 when it is not granted.

The simplified API declares it per route with `requires(...)` (a FastAPI dependency, which
also puts the bearer scheme in the OpenAPI schema); the FHIR face, whose needs depend on
the resource type in the URL or the entries of a Bundle, calls `authorize` itself.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.params import Depends as DependsParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Scope

from fhir_gateway.security.authentication import REALM
from fhir_gateway.security.principal import principal_of
from fhir_gateway.security.scopes import Action, Need, missing

bearer = HTTPBearer(
    auto_error=False,
    description="An API key from API_KEYS, or a JWT of the configured issuer; "
    "SMART scopes such as system/Patient.read or system/*.write.",
)


def authorize(scope: Scope, needs: tuple[Need, ...]) -> None:
    """403 naming the scopes the request needs and the principal lacks."""
    principal = principal_of(scope)
    if principal is None:
        # Only open paths reach a route unauthenticated, and they ask for nothing.
        raise HTTPException(401, "this request needs an Authorization: Bearer token")
    lacking = missing(principal.scopes, needs)
    if lacking:
        scopes = " ".join(need.scope() for need in lacking)
        raise HTTPException(
            403,
            f"{principal.name} lacks the scope to do this; it needs {scopes} (or a wider scope such as system/*.*)",
            headers={"WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scopes}"'},
        )


def need(text: str) -> Need:
    """`Patient.read`, `*.delete` …: an action on a type."""
    resource_type, _, action = text.partition(".")
    if action not in Action.__args__:
        raise ValueError(f"not an action: {text}")
    return Need(resource_type, action)  # type: ignore[arg-type]


def requires(*needs: str) -> DependsParam:
    """The dependency a route declares for what it does: `requires("Patient.read")`."""
    wanted = tuple(need(text) for text in needs)

    async def check(request: Request, _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        authorize(request.scope, wanted)

    return Depends(check)
