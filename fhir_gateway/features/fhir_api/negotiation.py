"""The formats the FHIR face speaks: FHIR JSON only. Asking for anything else is a 406,
sending anything else a 415, each as an OperationOutcome (never a body in a format the
client did not ask for)."""

from fastapi import Request

from fhir_gateway.features.fhir_api.outcomes import FhirFaceError
from fhir_gateway.fhir_client import FHIR_JSON

# `_format` values that mean JSON (R4 http.html#mime-type), and the media types of FHIR JSON
# (with the pre-R4 `application/json+fhir` some clients still send).
_JSON_FORMATS = frozenset({"json", "application/json", FHIR_JSON, "application/json+fhir"})
_ACCEPTABLE_RANGES = frozenset({"*/*", "application/*", *_JSON_FORMATS})
FORM = "application/x-www-form-urlencoded"


async def negotiate(request: Request) -> None:
    """406 unless the client takes FHIR JSON (an absent Accept takes anything)."""
    requested = request.query_params.get("_format")
    if requested is not None and requested.strip().lower() not in _JSON_FORMATS:
        raise FhirFaceError.of(
            406,
            f"_format {requested!r} is not served: this server speaks JSON only (_format=json)",
            expression="_format",
        )
    accept = request.headers.get("accept")
    if accept and not any(_takes_json(part) for part in accept.split(",")):
        raise FhirFaceError.of(406, f"Cannot answer with {accept!r}: this server speaks {FHIR_JSON} only")


def require_fhir_json(request: Request) -> None:
    """415 for a resource body sent as anything but JSON (a missing Content-Type is read as JSON)."""
    media_type = media_type_of(request)
    if media_type is not None and media_type not in _JSON_FORMATS and not media_type.endswith("+json"):
        raise FhirFaceError.of(415, f"Content-Type {media_type!r} is not served: send {FHIR_JSON}")


def require_media_type(request: Request, expected: str, what: str) -> None:
    """415 unless the body is `expected` (a JSON Patch, a search form)."""
    media_type = media_type_of(request)
    if media_type != expected:
        raise FhirFaceError.of(415, f"{what} needs Content-Type {expected}; got {media_type or 'none'!r}")


def media_type_of(request: Request) -> str | None:
    content_type = request.headers.get("content-type")
    return None if content_type is None else content_type.split(";", 1)[0].strip().lower()


def _takes_json(media_range: str) -> bool:
    kind, *parameters = (piece.strip().lower() for piece in media_range.split(";"))
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "q" and _is_zero(value.strip()):
            return False
    return kind in _ACCEPTABLE_RANGES or kind.endswith("+json")


def _is_zero(quality: str) -> bool:
    try:
        return float(quality) == 0
    except ValueError:
        return False
