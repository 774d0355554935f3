"""Who is asking: the principal every authenticated request carries."""

from dataclasses import dataclass
from typing import Literal

from starlette.authentication import BaseUser
from starlette.types import Scope

PrincipalKind = Literal["api-key", "jwt", "local-dev"]


@dataclass(frozen=True)
class Principal(BaseUser):
    """An authenticated client: an API key's name, a JWT's subject, or the local developer.

    Starlette's AuthenticationMiddleware keeps it in `scope["user"]`.
    """

    name: str
    kind: PrincipalKind
    scopes: frozenset[str]

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.name

    @property
    def identity(self) -> str:
        return f"{self.kind}:{self.name}"


def principal_of(scope: Scope) -> Principal | None:
    """The principal of an authenticated request; None for one that is not (yet) authenticated."""
    user = scope.get("user")
    return user if isinstance(user, Principal) else None
