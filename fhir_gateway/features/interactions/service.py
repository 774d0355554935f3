"""Interactions on the FHIR server: an `Encounter` each, with the `Observation`s made in it,
written and deleted together in one transaction, through `FhirClient` only."""

from typing import Any

from fhir_gateway.date_range import date_range
from fhir_gateway.features.interactions.schemas import InteractionIn, InteractionListQuery
from fhir_gateway.fhir_client import (
    FhirClient,
    delete_with_observations,
    resource_version,
)
from fhir_gateway.patient_scope import (
    ResourceNotFound,
    StaleVersion,
    about,
    create_with_observations,
    patient_holding,
    patient_records,
)
from mappers import patient as patient_mapper
from mappers.interaction import Interaction, InteractionDraft, encounter, label_tag, observations, to_domain

# Newest first; ties broken by id on every server, so that pages never overlap or skip.
_NEWEST_FIRST = "-date,_id"
# A page of Observations: an interaction has at most a few hundred (schemas.py's limits).
_OBSERVATION_PAGE = 500


async def create_interaction(
    *, client: FhirClient, data: InteractionIn, system_base: str
) -> tuple[Interaction, dict[str, Any]]:
    """Record an interaction with the patient holding its health number: the Encounter and
    its Observations in one transaction. The interaction and its stored Encounter."""
    patient = await patient_holding(
        client, data.insurance_no, system_base=system_base, location=("body", "insurance_no")
    )
    province = patient_mapper.to_domain(patient, system_base=system_base).province
    draft = InteractionDraft(
        **data.model_dump(),
        patient_id=patient["id"],
        insurance_system=patient_mapper.insurance_system(system_base, province),
    )
    stored, made = await create_with_observations(
        client,
        draft.patient_id,
        encounter(draft, system_base=system_base),
        lambda encounter_urn: observations(draft, encounter_urn, system_base=system_base),
    )
    return to_domain(stored, made, system_base=system_base), stored


async def read_interaction(
    *, client: FhirClient, interaction_id: str, system_base: str
) -> tuple[Interaction, dict[str, Any]]:
    """An interaction with its Observations (one search), and its Encounter; 404 when
    unknown, 410 when it was deleted."""
    bundle = await client.search("Encounter", [("_id", interaction_id), ("_revinclude", "Observation:encounter")])
    resources = [entry["resource"] for entry in bundle.get("entry") or [] if isinstance(entry.get("resource"), dict)]
    stored = next((r for r in resources if r.get("resourceType") == "Encounter" and _is_patients(r)), None)
    if stored is None:
        # Not found by search: unknown, deleted or no patient's. A read says which.
        stored = await _stored_encounter(client, interaction_id)
    found = [r for r in resources if r.get("resourceType") == "Observation"]
    return to_domain(stored, found, system_base=system_base), stored


async def list_for_insurance_no(
    *, client: FhirClient, insurance_no: str, query: InteractionListQuery, system_base: str
) -> tuple[list[Interaction], int]:
    """One page of the interactions of the patient holding `insurance_no`, and the total."""
    patient = await patient_holding(client, insurance_no, system_base=system_base, location=("query", "insurance_no"))
    return await list_interactions(client=client, patient_id=patient["id"], query=query, system_base=system_base)


async def list_interactions(
    *, client: FhirClient, patient_id: str, query: InteractionListQuery, system_base: str
) -> tuple[list[Interaction], int]:
    """One page of a patient's interactions, newest first, and the total: one search for
    the Encounters, one (rarely more) for their Observations."""
    params: list[tuple[str, str]] = [("_sort", _NEWEST_FIRST)]
    if query.label:
        params.append(("_tag", ",".join(_tag_value(label, system_base) for label in query.label)))
    params += date_range("date", query.from_, query.to)
    page = await patient_records(client, "Encounter", patient_id, params, count=query.size, offset=query.offset)
    found: dict[str, list[dict[str, Any]]] = {resource["id"]: [] for resource in page.matches}
    if found:
        references = ",".join(f"Encounter/{encounter_id}" for encounter_id in found)
        async for observation in client.search_all(
            "Observation", [("encounter", references), ("_count", str(_OBSERVATION_PAGE))]
        ):
            reference = str((observation.get("encounter") or {}).get("reference") or "")
            found.get(reference.removeprefix("Encounter/"), []).append(observation)
    items = [to_domain(resource, found[resource["id"]], system_base=system_base) for resource in page.matches]
    return items, page.total


async def delete_interaction(*, client: FhirClient, interaction_id: str, version: str | None) -> dict[str, int]:
    """Delete an interaction's Encounter and its Observations, in one transaction; how many
    of each type went. With `version`, only the Encounter at that version (412 otherwise)."""
    stored = await _stored_encounter(client, interaction_id)
    current = resource_version(stored)
    if version is not None and version != current:
        raise StaleVersion("interaction", interaction_id, current, version)
    return await delete_with_observations(client, "Encounter", interaction_id, link="encounter", version=version)


async def _stored_encounter(client: FhirClient, interaction_id: str) -> dict[str, Any]:
    """The stored Encounter of an interaction (404 when unknown, 410 when deleted)."""
    with about("interaction", interaction_id):
        stored = await client.read("Encounter", interaction_id)
    if not _is_patients(stored):
        raise ResourceNotFound("interaction", interaction_id)
    return stored


def _is_patients(resource: dict[str, Any]) -> bool:
    """Whether an Encounter is a patient's (not a group's, nor of no one)."""
    subject = resource.get("subject")
    return isinstance(subject, dict) and str(subject.get("reference") or "").startswith("Patient/")


def _tag_value(label: str, system_base: str) -> str:
    tag = label_tag(label, system_base)
    return f"{tag['system']}|{tag['code']}"
