"""SMART-style scopes, and what each allows.

A scope is `context/ResourceType.permissions`, for any resource type with `*`:

- SMART v1 permissions: `read` (read and search), `write` (create, update, delete), `*`;
- SMART v2 permissions: letters of `cruds` in that order (`rs`, `cud`, `cruds`).

`system/` (a service acting for itself) and `user/` (a person, with what the user may see)
grant the same here: the gateway keeps no per-user compartments. `patient/` scopes need a
patient context the gateway does not track, and v2 scopes narrowed by a query
(`patient/Observation.rs?category=…`) cannot be checked route by route: both grant nothing,
rather than more than they say.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Action = Literal["create", "read", "update", "delete", "search"]

ANY_TYPE = "*"
# A need met by the permission on any one type: paging through results names no type.
SOME_TYPE = "?"
_LETTERS: dict[Action, str] = {"create": "c", "read": "r", "update": "u", "delete": "d", "search": "s"}
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE = re.compile(r"(?:system|user)/(?P<type>\*|[A-Z][A-Za-z]{0,63})\.(?P<permissions>read|write|\*|c?r?u?d?s?)")


@dataclass(frozen=True)
class Need:
    """An action on a resource type (`*` for every type) that a request performs."""

    resource_type: str
    action: Action

    def __str__(self) -> str:
        resource_type = "[type]" if self.resource_type == SOME_TYPE else self.resource_type
        return f"{resource_type}.{_LETTERS[self.action]}"

    def scope(self) -> str:
        """The narrowest SMART v2 scope that grants it."""
        return f"system/{self}"


@lru_cache(maxsize=1024)
def _grants(scopes: frozenset[str]) -> frozenset[tuple[str, str]]:
    """(resource type, permission letter) pairs the scopes grant."""
    granted: set[tuple[str, str]] = set()
    for scope in scopes:
        match = _SCOPE.fullmatch(scope)
        if match is None or not match["permissions"]:
            continue
        letters = _V1.get(match["permissions"], match["permissions"])
        granted.update((match["type"], letter) for letter in letters)
    return frozenset(granted)


def allows(scopes: frozenset[str], need: Need) -> bool:
    letter = _LETTERS[need.action]
    grants = _grants(scopes)
    if (ANY_TYPE, letter) in grants:
        return True
    if need.resource_type == SOME_TYPE:
        return any(granted == letter for _, granted in grants)
    # A need on every type (a system-wide search) is met only by a scope on every type.
    return need.resource_type != ANY_TYPE and (need.resource_type, letter) in grants


def missing(scopes: frozenset[str], needs: tuple[Need, ...]) -> list[Need]:
    return [need for need in needs if not allows(scopes, need)]


def is_valid(scope: str) -> bool:
    """Whether `scope` is one the gateway understands (configured keys must hold only those)."""
    return _SCOPE.fullmatch(scope) is not None and not scope.endswith(".")
