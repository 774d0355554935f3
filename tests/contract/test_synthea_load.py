"""Loading Synthea exports: every entry stored, every reference resolved to the right resource.

A 3.x export (a hospital batch, a practitioner batch, then patient transactions whose
references to organisations, locations and practitioners are conditional) and a 2.x export
(patient transactions carrying their own copies of those, referenced by `urn:uuid:`) are
each posted once per server, three patients sharing their hospitals and clinicians. The
stored resources are then read back through the set's tag and compared with what was sent.
"""

import dataclasses
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.contract.factories import Json, Tag, unknown_numeric_id
from tests.contract.interactions import assert_operation_outcome, create, location_parts, matches, pages, search_ids
from tests.contract.target import UNMATCHED_CONDITIONAL_REFERENCE
from tests.synthea.directory import practitioner
from tests.synthea.elements import SYNTHEA
from tests.synthea.shapes import Style, SyntheaSet, patient_bundle, synthea_set

SEED = 2026
PATIENTS = 3
# HAPI's largest page in hapi/application.yaml; fewer requests to read a set back.
PAGE = "200"
BY_PATIENT = ["Observation", "ExplanationOfBenefit", "Claim", "DiagnosticReport", "MedicationRequest"]


@dataclass(frozen=True)
class Loaded:
    """A Synthea set as posted, the server's answer to each bundle, and what it then holds."""

    tag: Tag
    synthea: SyntheaSet
    answers: list[Json]
    # Every resource carrying the set's tag, by `Type/id`.
    stored: dict[str, Json]

    def located(self, bundle: int, entry: int) -> str:
        """`Type/id` of what the server stored (or matched) for that entry."""
        resource_type, resource_id, _ = location_parts(self.answers[bundle]["entry"][entry]["response"]["location"])
        return f"{resource_type}/{resource_id}"

    def urn_targets(self, bundle: int) -> dict[str, str]:
        """Where each `urn:uuid:` fullUrl of a bundle was stored."""
        entries = self.synthea.bundles[bundle]["entry"]
        return {entry["fullUrl"]: self.located(bundle, index) for index, entry in enumerate(entries)}

    def identified(self) -> dict[str, str]:
        """`Type?identifier=…` of each conditional create in the batches, and what it stored."""
        return {
            f"{entry['request']['url']}?{entry['request']['ifNoneExist']}": self.located(bundle_index, entry_index)
            for bundle_index, bundle in enumerate(self.synthea.bundles)
            if bundle["type"] == "batch"
            for entry_index, entry in enumerate(bundle["entry"])
        }


def _post(fhir: httpx.Client, bundle: Json) -> Json:
    response = fhir.post("", json=bundle)
    assert response.status_code == 200, response.text
    return response.json()


def _statuses(answer: Json) -> list[str]:
    return [entry["response"]["status"] for entry in answer["entry"]]


def _locations(answer: Json) -> list[str]:
    return [entry["response"]["location"] for entry in answer["entry"]]


def _tagged(fhir: httpx.Client, resource_type: str, tag: Tag) -> list[Json]:
    return [
        resource
        for page in pages(fhir, resource_type, [("_tag", tag.search), ("_count", PAGE)])
        for resource in matches(page)
    ]


def _load(fhir: httpx.Client, style: Style) -> Loaded:
    tag = Tag.new()
    synthea = synthea_set(SEED, PATIENTS, salt=tag.code, style=style, tag=tag.coding)
    answers = [_post(fhir, bundle) for bundle in synthea.bundles]
    stored = {
        f"{resource_type}/{resource['id']}": resource
        for resource_type in synthea.counts
        for resource in _tagged(fhir, resource_type, tag)
    }
    return Loaded(tag, synthea, answers, stored)


@pytest.fixture(scope="module")
def v3(fhir: httpx.Client) -> Loaded:
    return _load(fhir, Style.V3)


@pytest.fixture(scope="module")
def v2(fhir: httpx.Client) -> Loaded:
    return _load(fhir, Style.V2)


@pytest.fixture(params=[Style.V3, Style.V2], ids=["synthea-3", "synthea-2"])
def loaded(request: pytest.FixtureRequest, fhir: httpx.Client) -> Loaded:
    """Each export in turn; one failing to load leaves the other's tests to run."""
    # Asking for `fhir` carries the backend parametrization here, which getfixturevalue cannot.
    return request.getfixturevalue("v3" if request.param is Style.V3 else "v2")


def _references(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    """`(path, reference)` of every Reference.reference in a resource, contained ones too."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield path, value
            else:
                yield from _references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _references(item, f"{path}[{index}]")


def _paired_references(loaded: Loaded) -> Iterator[tuple[str, str, str, int]]:
    """`(path, sent, stored, bundle)` for every reference sent, the stored resource's at the same path."""
    for bundle_index, bundle in enumerate(loaded.synthea.bundles):
        for entry_index, entry in enumerate(bundle["entry"]):
            stored = loaded.stored[loaded.located(bundle_index, entry_index)]
            sent_references = dict(_references(entry["resource"]))
            stored_references = dict(_references(stored))
            kind = stored["resourceType"]
            assert set(stored_references) == set(sent_references), f"{kind}: references lost or added"
            for path, sent in sent_references.items():
                yield f"{kind}{path}", sent, stored_references[path], bundle_index


def test_every_entry_of_every_bundle_is_created(loaded: Loaded) -> None:
    for answer in loaded.answers:
        assert all(status.startswith("201") for status in _statuses(answer)), _statuses(answer)


def test_the_server_holds_one_resource_per_create_and_per_identifier(loaded: Loaded) -> None:
    held = Counter(key.split("/")[0] for key in loaded.stored)

    assert held == loaded.synthea.counts


def test_urn_uuid_references_point_at_the_resources_their_entries_created(loaded: Loaded) -> None:
    targets = [loaded.urn_targets(bundle) for bundle in range(len(loaded.synthea.bundles))]
    checked = 0
    for where, sent, stored, bundle in _paired_references(loaded):
        if sent.startswith("urn:uuid:"):
            assert stored == targets[bundle][sent], where
            checked += 1
    # Every patient, encounter and item of the record is referred to by urn:uuid.
    assert checked > loaded.synthea.counts["Encounter"] * 10


def test_conditional_references_point_at_the_resource_with_that_identifier(v3: Loaded) -> None:
    identified = v3.identified()
    referred: Counter[str] = Counter()
    for where, sent, stored, _ in _paired_references(v3):
        if "?" in sent:
            assert stored == identified[sent], where
            referred[sent.split("?")[0]] += 1
    assert set(referred) == {"Organization", "Location", "Practitioner"}


def test_other_references_are_kept_and_every_literal_one_resolves(loaded: Loaded) -> None:
    for where, sent, stored, _ in _paired_references(loaded):
        # Contained (`#referral`) and literal references stay as they were sent.
        if not sent.startswith("urn:uuid:") and "?" not in sent:
            assert stored == sent, where
    for resource in loaded.stored.values():
        for path, reference in _references(resource):
            if not reference.startswith("#"):
                # Every target is a resource of this set, hence tagged and read back.
                assert reference in loaded.stored, f"{resource['resourceType']}{path}: {reference}"


def test_sending_the_hospital_and_practitioner_batches_again_stores_nothing(fhir: httpx.Client, v3: Loaded) -> None:
    batches = [index for index, bundle in enumerate(v3.synthea.bundles) if bundle["type"] == "batch"]

    resent = [_post(fhir, v3.synthea.bundles[index]) for index in batches]

    for index, answer in zip(batches, resent, strict=True):
        assert all(status.startswith("200") for status in _statuses(answer)), _statuses(answer)
        first = [v3.located(index, entry) for entry in range(len(answer["entry"]))]
        assert [f"{kind}/{id_}" for kind, id_, _ in map(location_parts, _locations(answer))] == first
    for resource_type in ("Organization", "Location", "Practitioner", "PractitionerRole"):
        assert len(_tagged(fhir, resource_type, v3.tag)) == v3.synthea.counts[resource_type]


@pytest.mark.parametrize("resource_type", BY_PATIENT)
def test_searching_by_patient_finds_exactly_that_patients_resources(
    fhir: httpx.Client, loaded: Loaded, resource_type: str
) -> None:
    for bundle_index, bundle in enumerate(loaded.synthea.bundles):
        if bundle["type"] != "transaction":
            continue
        located = [loaded.located(bundle_index, index) for index in range(len(bundle["entry"]))]
        (patient,) = [where for where in located if where.startswith("Patient/")]
        expected = {where.split("/")[1] for where in located if where.startswith(f"{resource_type}/")}

        found = search_ids(fhir, resource_type, [("patient", patient), ("_count", PAGE)])

        assert expected
        assert sorted(found) == sorted(expected)


def test_each_hospital_location_is_found_once_by_its_identifier(fhir: httpx.Client, v3: Loaded) -> None:
    identified = v3.identified()
    for hospital in v3.synthea.hospitals:
        found = search_ids(fhir, "Location", [("identifier", f"{SYNTHEA}|{hospital.location_id}")])

        assert [f"Location/{id_}" for id_ in found] == [identified[hospital.location_url]]


def _identifier_values(resources: Iterator[Json], resource_type: str) -> Counter[str]:
    return Counter(
        identifier["value"]
        for resource in resources
        if resource["resourceType"] == resource_type
        for identifier in resource["identifier"]
    )


def test_a_2x_export_stores_a_copy_of_its_hospitals_and_clinicians_per_patient(v2: Loaded) -> None:
    sent = [entry["resource"] for bundle in v2.synthea.bundles for entry in bundle["entry"]]
    for resource_type in ("Organization", "Practitioner"):
        copies = _identifier_values(iter(v2.stored.values()), resource_type)

        assert copies == _identifier_values(iter(sent), resource_type)
    # Three patients of two hospitals: two of them share one.
    assert max(_identifier_values(iter(v2.stored.values()), "Organization").values()) > 1


def _unknown_npi() -> str:
    """Ten digits starting with 9, as Synthea's NPIs, that no set has drawn."""
    return unknown_numeric_id()[:10]


def _failing_bundle(v3: Loaded, npi: str, tag: Tag) -> Json:
    """A one-encounter patient of a loaded hospital whose clinician is known only by `npi`."""
    clinician = dataclasses.replace(v3.synthea.clinicians[0], npi=npi)
    return patient_bundle(random.Random(npi), [clinician.hospital], [clinician], encounters=1, tag=tag.coding)


def _nothing_stored(fhir: httpx.Client, bundle: Json, tag: Tag) -> None:
    for resource_type in {entry["request"]["url"] for entry in bundle["entry"]}:
        assert _tagged(fhir, resource_type, tag) == [], resource_type


def test_a_conditional_reference_matching_nothing_fails_the_transaction(
    fhir: httpx.Client, v3: Loaded, tag: Tag
) -> None:
    bundle = _failing_bundle(v3, _unknown_npi(), tag)

    assert_operation_outcome(fhir.post("", json=bundle), UNMATCHED_CONDITIONAL_REFERENCE)
    _nothing_stored(fhir, bundle, tag)


def test_a_conditional_reference_matching_two_resources_fails_the_transaction(
    fhir: httpx.Client, v3: Loaded, tag: Tag
) -> None:
    twin = dataclasses.replace(v3.synthea.clinicians[0], npi=_unknown_npi())
    for _ in range(2):
        create(fhir, {**practitioner(random.Random(twin.npi), twin), "meta": {"tag": [tag.coding]}})
    bundle = _failing_bundle(v3, twin.npi, tag)

    assert_operation_outcome(fhir.post("", json=bundle), 412)
    _nothing_stored(fhir, bundle, tag)
