"""What the FHIR face answers itself: the server's CapabilityStatement (read once), and
`Patient/$summary` (its parameters, the patient an identifier names, the document)."""

from dataclasses import dataclass
from typing import Any, get_args

import orjson
from fastapi import Request
from starlette.datastructures import State
from starlette.responses import Response

from fhir_gateway.features.fhir_api.negotiation import require_fhir_json
from fhir_gateway.features.fhir_api.outcomes import FhirFaceError
from fhir_gateway.features.fhir_api.summary_document import summary_document
from fhir_gateway.features.fhir_api.validation import parsed, validated
from fhir_gateway.fhir_client import FHIR_JSON, FhirClient
from fhir_gateway.llm import LanguageModel
from fhir_gateway.patient_summary.cache import SummaryCache
from fhir_gateway.patient_summary.compose import summarize
from fhir_gateway.patient_summary.models import Audience, Length
from fhir_gateway.patient_summary.record import gather

_SUMMARY_PARAMETERS = ("identifier", "audience", "length")


@dataclass(frozen=True)
class SummaryParameters:
    identifier: str | None = None
    audience: Audience = "clinician"
    length: Length = "standard"


def fhir_json(resource: dict[str, Any], status: int = 200) -> Response:
    return Response(dumps(resource), status_code=status, media_type=FHIR_JSON)


def dumps(resource: dict[str, Any]) -> bytes:
    return orjson.dumps(resource)


async def server_capabilities(state: State, client: FhirClient) -> dict[str, Any]:
    """The FHIR server's CapabilityStatement, asked once per app: what a server serves does
    not change while it runs (a restart of the gateway reads it again)."""
    held: dict[str, Any] | None = getattr(state, "fhir_server_capabilities", None)
    if held is None:
        held = state.fhir_server_capabilities = await client.capabilities()
    return held


async def summary_parameters(request: Request) -> SummaryParameters:
    """The operation's parameters: from the query, and from a Parameters resource posted."""
    given: list[tuple[str, str]] = [
        (name, value) for name, value in request.query_params.multi_items() if not name.startswith("_")
    ]
    body = await request.body() if request.method == "POST" else b""
    if body.strip():
        require_fhir_json(request)
        given += _posted(validated(parsed(body), "Parameters"))
    values: dict[str, str] = {}
    for name, value in given:
        if name not in _SUMMARY_PARAMETERS:
            raise FhirFaceError.of(
                400, f"$summary takes no parameter {name!r}; it takes {', '.join(_SUMMARY_PARAMETERS)}", expression=name
            )
        if name in values:
            raise FhirFaceError.of(400, f"$summary takes one {name}, not several", expression=name)
        values[name] = value
    audience = _choice(values, "audience", get_args(Audience))
    length = _choice(values, "length", get_args(Length))
    return SummaryParameters(identifier=values.get("identifier"), audience=audience, length=length)


async def patient_with(client: FhirClient, identifier: str) -> str:
    """The id of the one Patient `identifier` (system|value) names: 404 for none, 412 for several."""
    bundle = await client.search("Patient", [("identifier", identifier), ("_count", "2"), ("_elements", "id")])
    ids = [
        str(entry["resource"].get("id"))
        for entry in bundle.get("entry") or []
        if isinstance(entry.get("resource"), dict) and entry["resource"].get("resourceType") == "Patient"
    ]
    if not ids:
        raise FhirFaceError.of(404, f"No patient has the identifier {identifier!r}", expression="identifier")
    if len(ids) > 1:
        raise FhirFaceError.of(
            412,
            f"Several patients have the identifier {identifier!r}; ask by the patient's id",
            expression="identifier",
        )
    return ids[0]


async def summary_document_of(
    client: FhirClient,
    patient_id: str,
    parameters: SummaryParameters,
    *,
    gateway_base: str,
    system_base: str,
    software_version: str,
    model: LanguageModel | None,
    cache: SummaryCache,
) -> dict[str, Any]:
    record = await gather(client, patient_id, system_base=system_base)
    summary = await summarize(
        record,
        audience=parameters.audience,
        length=parameters.length,
        system_base=system_base,
        model=model,
        cache=cache,
    )
    return summary_document(
        record, summary, gateway_base=gateway_base, system_base=system_base, software_version=software_version
    )


def _posted(parameters: dict[str, Any]) -> list[tuple[str, str]]:
    given = []
    for index, parameter in enumerate(parameters.get("parameter") or []):
        value = next((v for key, v in parameter.items() if key.startswith("value")), None)
        if not isinstance(value, str):
            raise FhirFaceError.of(
                400,
                f"Parameter {parameter.get('name')!r} needs a code or string value",
                expression=f"Parameters.parameter[{index}]",
            )
        given.append((str(parameter.get("name")), value))
    return given


def _choice(values: dict[str, str], name: str, choices: tuple[str, ...]) -> Any:
    value = values.get(name)
    if value is None:
        return SummaryParameters.__dataclass_fields__[name].default
    if value not in choices:
        raise FhirFaceError.of(400, f"{name} {value!r} is not one of {', '.join(choices)}", expression=name)
    return value
