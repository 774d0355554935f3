"""Bearer API keys, configured by their SHA-256 digests only.

`API_KEYS` holds `name:sha256-hex:scope scope…` entries separated by `;`. A key is 32
random bytes: a plain SHA-256 of it is as hard to reverse as the key is to guess, so the
configuration (environment, Secrets) never holds a usable key. Presented keys are hashed and
compared with every configured digest in constant time.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from fhir_gateway.security.scopes import is_valid

KEY_PREFIX = "fgw_"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ApiKey:
    name: str
    digest: bytes
    scopes: frozenset[str]

    def entry(self) -> str:
        """The key's `API_KEYS` entry."""
        return f"{self.name}:{self.digest.hex()}:{' '.join(sorted(self.scopes))}"


def new_api_key(name: str, scopes: list[str]) -> tuple[str, ApiKey]:
    """A fresh random key, and its configuration (which holds only its digest)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, _checked(name, digest_of(key), scopes)


def digest_of(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def parse_api_keys(entries: list[str]) -> tuple[ApiKey, ...]:
    """The configured keys; ValueError naming the entry that is malformed."""
    keys = tuple(_parsed(position, entry) for position, entry in enumerate(entries, start=1))
    names = [key.name for key in keys]
    if duplicated := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"API_KEYS names each key once; repeated: {', '.join(duplicated)}")
    return keys


def matching(keys: tuple[ApiKey, ...], presented: str) -> ApiKey | None:
    """The configured key `presented` is, if any: every digest is compared, in constant time."""
    digest = digest_of(presented)
    found = None
    for key in keys:
        if hmac.compare_digest(key.digest, digest):
            found = key
    return found


def _parsed(position: int, entry: str) -> ApiKey:
    parts = entry.split(":")
    if len(parts) != 3:
        raise ValueError(f"API_KEYS entry {position} is not name:sha256-hex:scopes")
    name, digest, scopes = (part.strip() for part in parts)
    if not _DIGEST.fullmatch(digest):
        raise ValueError(f"API_KEYS entry {position} ({name}): the digest is not 64 lowercase hex digits")
    return _checked(name, bytes.fromhex(digest), scopes.split())


def _checked(name: str, digest: bytes, scopes: list[str]) -> ApiKey:
    if not _NAME.fullmatch(name):
        raise ValueError(f"API key name {name!r} must be 1 to 64 letters, digits, '.', '_' or '-'")
    if not scopes:
        raise ValueError(f"API key {name} has no scopes: it could do nothing")
    if unknown := [scope for scope in scopes if not is_valid(scope)]:
        raise ValueError(f"API key {name}: not SMART scopes: {', '.join(unknown)}")
    return ApiKey(name, digest, frozenset(scopes))
