"""A clinical note <-> FHIR DocumentReference and vital-signs Observations: lossless, valid R4B,
forgiving of notes other FHIR clients wrote (mappers.note)."""

import base64
import hashlib
import json
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.documentreference import DocumentReference as R4BDocumentReference
from fhir.resources.R4B.observation import Observation as R4BObservation
from hypothesis import given, settings
from hypothesis import strategies as st

from mappers.note import (
    NOTE_TYPE_CODES,
    US_CORE_CATEGORY,
    Note,
    NoteDraft,
    new_note,
    original_content,
    text_source_extension,
    text_unavailable_extension,
    to_domain,
    to_fhir,
    to_summary,
    vital_observations,
)
from mappers.note_text import NOTE_TYPES, soap_sections, vital_signs
from mappers.vitals import LOINC, VITAL_SIGNS, Vitals

BASE = "https://fhir-gateway.test"
PATIENT_ID = "p-123"
NOTE_ID = "note-1"
SAMPLES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[2] / "generators" / "data" / "soap_notes.json").read_text(encoding="utf-8")
)["notes"]

# The LOINC document type of each note type, as fhir-mapping.md lists them.
LOINC_OF_TYPE = {
    "progress": "11506-3",
    "history-and-physical": "34117-2",
    "consult": "11488-4",
    "discharge": "18842-5",
    "nursing": "34746-8",
    "admission": "47039-3",
    "other": "34133-9",
}

instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=14))]
    ),
)
word = st.text(alphabet=string.ascii_letters + "éöñ", min_size=1, max_size=10)
authors = st.lists(word, min_size=1, max_size=3).map(" ".join).map(lambda name: f"Dr. {name}")
file_names = st.builds(
    "{}.{}".format,
    st.text(alphabet=string.ascii_letters + string.digits + "-_ ", min_size=1, max_size=12).map(
        lambda stem: f"n{stem}"
    ),
    st.sampled_from(["txt", "pdf", "png", "jpg"]),
)
# Text as notes hold it: letters, digits, punctuation, line breaks, a few non-ASCII signs; no
# leading byte-order mark (a typed note's text is its content decoded, without one).
note_text = st.one_of(
    st.sampled_from([sample["content"] for sample in SAMPLES]),
    st.text(alphabet=string.ascii_letters + string.digits + " .,:;/%-\n\t°µé—", min_size=1, max_size=200),
)
binaries = st.binary(min_size=1, max_size=64)
reasons = st.sampled_from(
    ["OCR is not available", "the PDF has neither a text layer nor scanned pages", "OCR timed out"]
)


def _in_range(name: str) -> st.SearchStrategy[int | float]:
    sign = VITAL_SIGNS[name]
    if sign.decimals == 0:
        return st.integers(int(sign.low), int(sign.high))
    return st.integers(int(sign.low * 10), int(sign.high * 10)).map(lambda tenths: tenths / 10)


vitals = st.builds(Vitals, **{name: st.none() | _in_range(name) for name in VITAL_SIGNS})

# (content, content_type, text, text_source, text_unavailable), consistent with one another.
typed = st.builds(lambda text: (text.encode("utf-8"), "text/plain", text, "typed", None), note_text)
pdf_with_text = st.builds(
    lambda content, source, text: (content, "application/pdf", text, source, None),
    binaries,
    st.sampled_from(["pdf", "ocr"]),
    note_text,
)
scan_with_text = st.builds(
    lambda content, media_type, text: (content, media_type, text, "ocr", None),
    binaries,
    st.sampled_from(["image/png", "image/jpeg"]),
    note_text,
)
without_text = st.builds(
    lambda content, media_type, reason: (content, media_type, None, "none", reason),
    binaries,
    st.sampled_from(["application/pdf", "image/png", "image/jpeg"]),
    reasons,
)
contents = st.one_of(typed, pdf_with_text, scan_with_text, without_text)


def _draft(content: tuple[Any, ...], vitals: Vitals | None, **fields: Any) -> NoteDraft:
    data, content_type, text, source, unavailable = content
    # As a note is written: its vital signs are those its text gives, or none without text.
    if vitals is None:
        vitals = vital_signs(text).vitals if text else Vitals()
    return NoteDraft(
        patient_id=PATIENT_ID,
        content=data,
        content_type=content_type,
        text=text,
        text_source=source,
        text_unavailable=unavailable,
        vitals=vitals,
        **fields,
    )


# Declarative, so that @given builds and validates every part up front rather than in a timed draw.
drafts = st.builds(
    _draft,
    content=contents,
    vitals=st.none() | vitals,
    taken_at=instants,
    author=st.none() | authors,
    note_type=st.sampled_from(NOTE_TYPES),
    file_name=st.none() | file_names,
)


def _stored(draft: NoteDraft, stored_at: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The DocumentReference and Observations of a draft as a FHIR server returns them."""
    meta = {"versionId": "1", "lastUpdated": stored_at.isoformat()}
    document = to_fhir(draft, system_base=BASE, stored_at=stored_at) | {"id": NOTE_ID, "meta": meta}
    derived = [
        observation | {"id": f"obs-{index}", "meta": meta}
        for index, observation in enumerate(vital_observations(draft, f"DocumentReference/{NOTE_ID}"))
    ]
    return document, derived


# fhir.resources builds each nested element's validator on first use: paid here, not in an example.
_WARM_UP = new_note(
    patient_id=PATIENT_ID,
    taken_at=datetime(2025, 2, 3, 8, 15, tzinfo=UTC),
    content=b"%PDF-1.7",
    content_type="application/pdf",
    text=SAMPLES[0]["content"],
    text_source="pdf",
    author="Dr. Warm",
    file_name="warm.pdf",
)
for _resource in _stored(_WARM_UP, datetime(2025, 2, 3, 9, tzinfo=UTC))[1]:
    R4BObservation.model_validate(_resource)
R4BDocumentReference.model_validate(_stored(_WARM_UP, datetime(2025, 2, 3, 9, tzinfo=UTC))[0])


@settings(max_examples=60)
@given(drafts, instants)
def test_round_trip_gives_back_every_field(draft: NoteDraft, stored_at: datetime) -> None:
    document, derived = _stored(draft, stored_at)

    note = to_domain(document, derived, PATIENT_ID, system_base=BASE)

    assert note.id == NOTE_ID
    assert note.patient_id == PATIENT_ID
    assert note.version == "1"
    assert note.updated_at == stored_at
    assert note.taken_at == draft.taken_at
    assert note.taken_at.utcoffset() == draft.taken_at.utcoffset()
    assert note.author == draft.author
    assert note.note_type == draft.note_type
    assert note.content_type == draft.content_type
    assert note.size == len(draft.content)
    assert note.sha1 == hashlib.sha1(draft.content).hexdigest()
    assert note.file_name == draft.file_name
    assert note.text == draft.text
    assert note.text_source == draft.text_source
    assert note.text_unavailable == draft.text_unavailable
    assert note.vitals == draft.vitals
    assert note.sections == (soap_sections(draft.text) if draft.text else None)
    assert note.vitals_skipped == (vital_signs(draft.text).skipped if draft.text else [])


@settings(max_examples=40)
@given(drafts, instants)
def test_the_summary_is_the_note_without_its_text(draft: NoteDraft, stored_at: datetime) -> None:
    document, derived = _stored(draft, stored_at)

    summary = to_summary(document, PATIENT_ID, system_base=BASE)

    note = to_domain(document, derived, PATIENT_ID, system_base=BASE)
    assert summary.model_dump() == note.model_dump(include=set(type(summary).model_fields))


@settings(max_examples=40)
@given(drafts, instants)
def test_every_resource_is_valid_r4b(draft: NoteDraft, stored_at: datetime) -> None:
    document, derived = _stored(draft, stored_at)

    R4BDocumentReference.model_validate(document)
    for observation in derived:
        R4BObservation.model_validate(observation)
        assert observation["derivedFrom"] == [{"reference": f"DocumentReference/{NOTE_ID}"}]
        assert observation["subject"] == {"reference": f"Patient/{PATIENT_ID}"}
        assert observation["effectiveDateTime"] == draft.taken_at.isoformat(timespec="milliseconds")


@settings(max_examples=40)
@given(drafts, instants)
def test_the_document_reference_follows_the_documented_elements(draft: NoteDraft, stored_at: datetime) -> None:
    resource = to_fhir(draft, system_base=BASE, stored_at=stored_at)

    original = resource["content"][0]["attachment"]
    assert base64.b64decode(original["data"]) == draft.content
    assert original["size"] == len(draft.content)
    assert original["hash"] == base64.b64encode(hashlib.sha1(draft.content).digest()).decode("ascii")
    assert original.get("title") == draft.file_name
    expected_media = "text/plain; charset=utf-8" if draft.content_type == "text/plain" else draft.content_type
    assert original["contentType"] == expected_media
    assert resource["type"]["coding"] == [
        {"system": LOINC, "code": LOINC_OF_TYPE[draft.note_type], "display": NOTE_TYPE_CODES[draft.note_type][1]}
    ]
    assert resource["category"][0]["coding"][0] == {
        "system": US_CORE_CATEGORY,
        "code": "clinical-note",
        "display": "Clinical Note",
    }
    assert US_CORE_CATEGORY == "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
    assert resource["context"]["period"] == {
        "start": draft.taken_at.isoformat(timespec="milliseconds"),
        "end": draft.taken_at.isoformat(timespec="milliseconds"),
    }
    assert resource["status"] == "current"
    assert resource["docStatus"] == "final"
    assert resource["date"] == stored_at.isoformat()
    assert resource["subject"] == {"reference": f"Patient/{PATIENT_ID}"}
    assert "id" not in resource
    if draft.author:
        assert resource["author"] == [{"display": draft.author}]
    else:
        assert "author" not in resource
    extensions = {extension["url"]: extension for extension in resource["extension"]}
    assert extensions[text_source_extension(BASE)] == {
        "url": text_source_extension(BASE),
        "valueCode": draft.text_source,
    }
    if draft.text_unavailable:
        assert extensions[text_unavailable_extension(BASE)]["valueString"] == draft.text_unavailable
    else:
        assert text_unavailable_extension(BASE) not in extensions
    # A typed note's text is its content; the text of a PDF or a scan is a second attachment.
    if draft.text is not None and draft.text_source != "typed":
        assert len(resource["content"]) == 2
        extracted = resource["content"][1]["attachment"]
        assert extracted["contentType"] == "text/plain; charset=utf-8"
        assert base64.b64decode(extracted["data"]).decode("utf-8") == draft.text
    else:
        assert len(resource["content"]) == 1


@settings(max_examples=30)
@given(drafts, instants)
def test_original_content_gives_back_the_original_bytes(draft: NoteDraft, stored_at: datetime) -> None:
    document, _ = _stored(draft, stored_at)

    content, content_type, file_name = original_content(document)

    assert content == draft.content
    assert content_type.split(";")[0] == draft.content_type
    assert file_name == draft.file_name


@pytest.mark.parametrize(("note_type", "code"), list(LOINC_OF_TYPE.items()))
def test_each_note_type_has_its_loinc_code(note_type: str, code: str) -> None:
    assert NOTE_TYPE_CODES[note_type][0] == code


def test_the_subject_of_a_transaction_replaces_the_patient_reference() -> None:
    draft = new_note(
        patient_id=PATIENT_ID,
        taken_at=datetime(2025, 2, 4, 9, 30, tzinfo=timezone(timedelta(hours=-8))),
        content=SAMPLES[1]["content"].encode(),
        content_type="text/plain",
        text=SAMPLES[1]["content"],
        text_source="typed",
    )

    document = to_fhir(draft, system_base=BASE, stored_at=datetime(2025, 2, 4, 18, tzinfo=UTC), subject="urn:uuid:1")
    derived = vital_observations(draft, "urn:uuid:2", subject="urn:uuid:1")

    assert document["subject"] == {"reference": "urn:uuid:1"}
    assert derived and all(observation["subject"] == {"reference": "urn:uuid:1"} for observation in derived)
    assert all(observation["derivedFrom"] == [{"reference": "urn:uuid:2"}] for observation in derived)


def test_a_new_note_is_classified_and_its_vital_signs_read() -> None:
    draft = new_note(
        patient_id=PATIENT_ID,
        taken_at=datetime(2025, 2, 3, 8, 15, tzinfo=timezone(timedelta(hours=-8))),
        content=SAMPLES[0]["content"].encode(),
        content_type="text/plain",
        text=SAMPLES[0]["content"],
        text_source="typed",
    )

    assert draft.note_type == "admission"
    assert draft.vitals == Vitals(
        heart_rate=104, bp_systolic=138, bp_diastolic=84, respiratory_rate=24, spo2=89, temperature_c=38.6
    )
    codes = [
        observation["code"]["coding"][0]["code"]
        for observation in vital_observations(draft, f"DocumentReference/{NOTE_ID}")
    ]
    assert sorted(codes) == sorted(["8867-4", "9279-1", "8310-5", "2708-6", "85354-9"])


def test_a_note_without_text_is_other_and_has_no_vitals() -> None:
    draft = new_note(
        patient_id=PATIENT_ID,
        taken_at=datetime(2025, 2, 3, 8, 15, tzinfo=UTC),
        content=b"\x89PNG\r\n\x1a\n",
        content_type="image/png",
        text=None,
        text_source="none",
        text_unavailable="OCR is not available",
    )

    assert draft.note_type == "other"
    assert draft.vitals == Vitals()
    assert vital_observations(draft, f"DocumentReference/{NOTE_ID}") == []


def test_a_given_note_type_is_kept() -> None:
    draft = new_note(
        patient_id=PATIENT_ID,
        taken_at=datetime(2025, 2, 3, 8, 15, tzinfo=UTC),
        content=b"S: ok\nO: fine",
        content_type="text/plain",
        text="S: ok\nO: fine",
        text_source="typed",
        note_type="consult",
    )

    assert draft.note_type == "consult"


FOREIGN_TEXT = "Procedure note. Joint injection R knee, tolerated well. BP 130/80."


def _foreign_document() -> dict[str, Any]:
    """A DocumentReference another FHIR client wrote: no extensions, plain text, a LOINC type not mapped."""
    return {
        "resourceType": "DocumentReference",
        "id": "foreign-1",
        "meta": {"versionId": "3", "lastUpdated": "2024-06-01T12:00:00.000+00:00"},
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": "28570-0", "display": "Procedure note"}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "date": "2024-06-01T11:58:00+00:00",
        "author": [{"reference": "Practitioner/9", "display": "Dr. Jane Roe"}],
        "content": [
            {"attachment": {"contentType": "text/plain", "data": base64.b64encode(FOREIGN_TEXT.encode()).decode()}}
        ],
    }


def test_a_note_another_client_wrote_reads_as_typed_other() -> None:
    document = _foreign_document()
    R4BDocumentReference.model_validate(document)

    note = to_domain(document, [], PATIENT_ID, system_base=BASE)

    assert note == Note(
        id="foreign-1",
        patient_id=PATIENT_ID,
        version="3",
        updated_at=datetime(2024, 6, 1, 12, tzinfo=UTC),
        # Without a period, when it was written stands in for the time it is about.
        taken_at=datetime(2024, 6, 1, 11, 58, tzinfo=UTC),
        author="Dr. Jane Roe",
        note_type="other",
        content_type="text/plain",
        size=len(FOREIGN_TEXT.encode()),
        sha1=hashlib.sha1(FOREIGN_TEXT.encode()).hexdigest(),
        file_name=None,
        text_source="typed",
        text=FOREIGN_TEXT,
        text_unavailable=None,
        sections=None,
        vitals=Vitals(),
        vitals_skipped=[],
    )
    assert to_summary(document, PATIENT_ID, system_base=BASE).text_source == "typed"
    assert original_content(document) == (FOREIGN_TEXT.encode(), "text/plain", None)


def test_a_foreign_note_of_a_mapped_type_with_a_period_reads_both() -> None:
    document = _foreign_document() | {
        "type": {"coding": [{"system": "http://example.org/local", "code": "X"}, {"system": LOINC, "code": "18842-5"}]},
        "context": {"period": {"start": "2024-05-30T08:00:00-07:00"}},
    }

    note = to_domain(document, [], PATIENT_ID, system_base=BASE)

    assert note.note_type == "discharge"
    assert note.taken_at == datetime(2024, 5, 30, 8, tzinfo=timezone(timedelta(hours=-7)))


def test_a_foreign_scan_without_text_reads_as_none() -> None:
    scan = b"\xff\xd8\xff\xe0scan"
    document = _foreign_document() | {
        "type": {"text": "Scanned letter"},
        "content": [{"attachment": {"contentType": "image/jpeg", "data": base64.b64encode(scan).decode()}}],
    }

    note = to_domain(document, [], PATIENT_ID, system_base=BASE)

    assert (note.note_type, note.text_source, note.text, note.content_type) == ("other", "none", None, "image/jpeg")
    assert note.size == len(scan)


def test_a_foreign_pdf_with_a_text_attachment_reads_as_pdf() -> None:
    document = _foreign_document() | {
        "content": [
            {"attachment": {"contentType": "application/pdf", "data": base64.b64encode(b"%PDF-1.4").decode()}},
            {"attachment": {"contentType": "text/plain", "data": base64.b64encode(b"HR 80").decode()}},
        ],
    }

    note = to_domain(document, [], PATIENT_ID, system_base=BASE)

    assert (note.text_source, note.text, note.content_type) == ("pdf", "HR 80", "application/pdf")


def test_malformed_content_reads_as_empty() -> None:
    document = _foreign_document() | {"content": [{"attachment": {"contentType": "text/plain", "data": "not base64!"}}]}

    note = to_domain(document, [], PATIENT_ID, system_base=BASE)

    assert note.size == 0
    assert note.sha1 == hashlib.sha1(b"").hexdigest()
