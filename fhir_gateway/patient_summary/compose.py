"""A patient's summary: the record's key facts and a narrative from the language model
(grounded in the record) or written offline."""

from datetime import UTC, date, datetime

import anyio

from fhir_gateway.llm import SUMMARY, LanguageModel, ModelFailure
from fhir_gateway.patient_summary import facts, narrative
from fhir_gateway.patient_summary.cache import SummaryCache
from fhir_gateway.patient_summary.models import Audience, Generator, Length, Source, Summary
from fhir_gateway.patient_summary.record import PatientRecord
from mappers import clinical_terms

_CUT_SHORT = {
    "DocumentReference": "notes",
    "Encounter": "interactions",
    "Observation": "vital signs",
    "Immunization": "immunizations",
    "AllergyIntolerance": "allergies",
    "Condition": "conditions",
    "MedicationRequest": "medication requests",
}


async def summarize(
    record: PatientRecord,
    *,
    audience: Audience,
    length: Length,
    system_base: str,
    model: LanguageModel | None,
    cache: SummaryCache,
    today: date | None = None,
) -> Summary:
    """The summary of a patient's record (see `record.gather`) for `audience` at `length`."""
    # The name tables take a second to read, once: in a worker thread, not on the event loop.
    await anyio.to_thread.run_sync(clinical_terms.load)
    today = today or datetime.now(UTC).date()
    offline = Generator(kind="offline")
    generator = Generator(kind="openai", model=model.model, prompt=SUMMARY.label) if model else offline
    key = (tuple(record.versions), audience, length, generator.model, generator.prompt, today)
    if (held := cache.get(key)) is not None:
        return held

    heading = facts.heading(record, system_base=system_base, today=today)
    key_facts = facts.key_facts(record)
    warnings = [
        f"Only the newest {_CUT_SHORT[kind]} were read: the record holds more than a summary reads."
        for kind in record.cut_short
    ]
    text: str | None = None
    # A summary the model failed to write is not kept: the next request asks it again.
    keep = True
    if model is not None:
        messages = narrative.prompt_messages(record, heading, key_facts, audience, length)
        try:
            completion = await model.complete(messages, max_tokens=narrative.answer_tokens(length))
        except ModelFailure as failure:
            warnings.append(f"The narrative was written offline: {failure.reason}.")
            generator = offline
            keep = False
        else:
            text = completion.text
            generator = generator.model_copy(update={"model": completion.model})
            warnings += narrative.ungrounded(text, record, key_facts)
    if text is None:
        text = narrative.offline_narrative(heading, key_facts, audience, length)
    sources = (
        [Source(type="note", id=note.id) for note in record.notes]
        + [Source(type="interaction", id=visit.id) for visit in record.interactions]
        + [Source(type="immunization", id=shot.id) for shot in record.immunizations]
        + [Source(type="allergy", id=allergy.id) for allergy in record.allergies]
        + [Source(type="condition", id=str(resource.get("id"))) for resource in record.conditions]
        + [Source(type="medication", id=str(resource.get("id"))) for resource in record.medication_requests]
    )
    summary = Summary(
        heading=heading,
        narrative=text,
        key_facts=key_facts,
        sources=sources,
        generator=generator,
        generated_at=datetime.now(UTC),
        warnings=warnings,
    )
    if keep:
        cache.put(key, summary)
    return summary
