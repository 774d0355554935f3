"""A synthetic record from its codes: written by the language model with the codes'
descriptions, or from the template when there is none or it fails; kept as a patient's
note when asked, through the same note mapping as the notes API."""

from datetime import UTC, datetime

from fhir_gateway.features.records.schemas import (
    ChatRequest,
    Codes,
    CptCode,
    GeneratedRecord,
    IcdCode,
    RecordGenerator,
    StoredNote,
    cpt_category,
)
from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.llm import RECORD, LanguageModel, ModelFailure
from fhir_gateway.patient_scope import create_with_observations, read_patient
from mappers import icd10cm
from mappers.note import new_note, to_fhir, vital_observations
from mappers.synthetic_record import AUTHOR, offline_record

# A record of the seed's layout runs to about 600 words.
_RECORD_TOKENS = 1_500


async def generate(
    *, client: FhirClient, request: ChatRequest, model: LanguageModel | None, system_base: str
) -> GeneratedRecord:
    """The record of `request`'s codes (404 before anything is generated when its patient is unknown)."""
    if request.patient_id is not None:
        await read_patient(client, request.patient_id)
    codes = Codes(
        icd10cm=[IcdCode(code=code, description=icd10cm.description(code) or code) for code in request.icd_codes()],
        cpt=[CptCode(code=code, category=cpt_category(code) or "I") for code in request.cpt_codes],
    )
    warnings: list[str] = []
    generator = RecordGenerator(kind="offline")
    text: str | None = None
    if model is not None:
        messages = RECORD.messages(
            diagnoses="\n".join(f"- {code.code}: {code.description}" for code in codes.icd10cm),
            procedures="\n".join(f"- {code.code}" for code in codes.cpt) or "- none",
        )
        try:
            completion = await model.complete(messages, max_tokens=_RECORD_TOKENS, model=request.model)
        except ModelFailure as failure:
            warnings.append(f"The record was written offline: {failure.reason}.")
        else:
            text = completion.text
            generator = RecordGenerator(kind="openai", model=completion.model, prompt=RECORD.label)
    if text is None:
        text = offline_record(
            [(code.code, code.description) for code in codes.icd10cm],
            [(code.code, code.category) for code in codes.cpt],
        )
    note = await _keep_as_note(client, request.patient_id, text, system_base) if request.patient_id else None
    return GeneratedRecord(record=text, codes=codes, generator=generator, note=note, warnings=warnings)


async def _keep_as_note(client: FhirClient, patient_id: str, text: str, system_base: str) -> StoredNote:
    draft = new_note(
        patient_id=patient_id,
        taken_at=datetime.now(UTC),
        content=text.encode("utf-8"),
        content_type="text/plain",
        text=text,
        text_source="typed",
        author=AUTHOR,
    )
    document = to_fhir(draft, system_base=system_base, stored_at=datetime.now(UTC))
    stored, _ = await create_with_observations(
        client, patient_id, document, lambda note_urn: vital_observations(draft, note_urn)
    )
    return StoredNote(id=stored["id"], patient_id=patient_id, note_type=draft.note_type)
