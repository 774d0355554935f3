"""FHIR versions as HTTP entity tags: the one reader and writer of `W/"3"`."""

import re
from typing import Any

# A weak or strong tag, or the bare version number, as clients and servers write them.
ETAG_SHAPE = r'^(?:(?:W/)?"[0-9]{1,18}"|[0-9]{1,18})$'
_ETAG = re.compile(r'(?:W/)?"(?P<quoted>[0-9]{1,18})"|(?P<bare>[0-9]{1,18})')


def version_of(etag: str) -> str:
    """The version an ETag names (`W/"3"`, `"3"` or `3` give "3"); ValueError for anything else."""
    match = _ETAG.fullmatch(etag.strip())
    if match is None:
        raise ValueError(f'{etag!r} is not the ETag of a version, such as W/"3"')
    return match["quoted"] or match["bare"]


def etag(version: str) -> str:
    """The weak ETag FHIR servers answer for `version` (a bare version or any ETag form of one)."""
    return f'W/"{version_of(version)}"'


def resource_version(resource: dict[str, Any]) -> str | None:
    """A stored resource's `meta.versionId`, or None when it has none."""
    meta = resource.get("meta")
    version = meta.get("versionId") if isinstance(meta, dict) else None
    return version if isinstance(version, str) and version else None


def resource_etag(resource: dict[str, Any]) -> str:
    """The ETag of a stored resource's version."""
    version = resource_version(resource)
    if version is None:
        raise ValueError(f"{resource.get('resourceType')}/{resource.get('id')} carries no meta.versionId")
    return etag(version)
