"""Index rows extracted from resources: what search, _include and integrity checks see."""

from datetime import datetime

from fhir_gateway.embedded.indexing import find_links, index_rows, rewrite_references, unresolvable_references


def _patient() -> dict:
    return {
        "resourceType": "Patient",
        "id": "ada",
        "identifier": [{"system": "https://example.org/mrn", "value": "MRN-1"}],
        "name": [{"use": "official", "family": "Lovelace", "given": ["Ada", "Marie"]}],
        "gender": "female",
        "birthDate": "1980-12-10",
        "telecom": [{"system": "phone", "value": "+1 604 555 0100"}, {"system": "email", "value": "a@x.org"}],
        "address": [{"city": "Vancouver", "postalCode": "V5K 0A1"}],
        "meta": {"tag": [{"system": "urn:t", "code": "demo"}]},
        "managingOrganization": {"reference": "Organization/org-1"},
    }


def test_string_parameters_index_every_name_part_folded_and_exact() -> None:
    rows = index_rows(_patient(), 7)
    names = {(row["value"], row["exact"]) for row in rows.strings if row["param"] == "name"}
    assert names == {("lovelace", "Lovelace"), ("ada", "Ada"), ("marie", "Marie")}
    assert {row["value"] for row in rows.strings if row["param"] == "given"} == {"ada", "marie"}
    assert {row["value"] for row in rows.strings if row["param"] == "address-postalcode"} == {"v5k 0a1"}
    assert all(row["res_pk"] == 7 and row["res_type"] == "Patient" for row in rows.strings)


def test_token_parameters_keep_system_and_code() -> None:
    tokens = {(row["param"], row["system"], row["code"]) for row in index_rows(_patient(), 1).tokens}
    assert ("identifier", "https://example.org/mrn", "MRN-1") in tokens
    assert ("gender", None, "female") in tokens
    assert ("_tag", "urn:t", "demo") in tokens
    # phone/email keep only the telecom entries of their system; a ContactPoint's token system
    # is its own `system`, as HAPI FHIR indexes it.
    assert ("phone", "phone", "+1 604 555 0100") in tokens
    assert not any(param == "phone" and code == "a@x.org" for param, _, code in tokens)
    assert ("email", "email", "a@x.org") in tokens


def test_date_parameters_index_ranges() -> None:
    dates = index_rows(_patient(), 1).dates
    assert [(row["param"], row["low"], row["high"]) for row in dates] == [
        ("birthdate", datetime(1980, 12, 10), datetime(1980, 12, 10, 23, 59, 59, 999999))
    ]


def test_choice_and_period_dates_are_indexed() -> None:
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"code": "AMB"},
        "period": {"start": "2025-03-01T10:30:00-08:00"},
    }
    (row,) = index_rows(encounter, 1).dates
    assert row["low"] == datetime(2025, 3, 1, 18, 30)
    assert row["high"].year == 9999  # an open period runs on


def test_every_reference_is_a_link_with_its_path_but_not_contained_ones() -> None:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "subject": {"reference": "Patient/p1"},
        "performer": [{"reference": "Practitioner/d1/_history/2"}, {"reference": "#local"}],
        "extension": [{"url": "u", "valueReference": {"reference": "Encounter/e1"}}],
        "contained": [{"resourceType": "Patient", "id": "local", "link": [{"other": {"reference": "Patient/zz"}}]}],
    }
    links = {(link.path, link.target_type, link.target_id) for link in find_links(observation)}
    assert links == {
        ("Observation.subject", "Patient", "p1"),
        ("Observation.performer", "Practitioner", "d1"),
        ("Observation.extension.valueReference", "Encounter", "e1"),
    }


def test_urn_and_absolute_references_are_unresolvable_and_urns_rewritable() -> None:
    observation = {
        "resourceType": "Observation",
        "subject": {"reference": "urn:uuid:abc"},
        "focus": [{"reference": "https://elsewhere.org/fhir/Patient/1"}],
    }
    assert list(unresolvable_references(observation)) == [
        ("Observation.subject", "urn:uuid:abc"),
        ("Observation.focus", "https://elsewhere.org/fhir/Patient/1"),
    ]
    del observation["focus"]
    rewrite_references(observation, {"urn:uuid:abc": "Patient/p9"})
    assert observation["subject"] == {"reference": "Patient/p9"}
    assert list(unresolvable_references(observation)) == []


def _sort_keys(resource: dict) -> dict[str, str]:
    rows = index_rows(resource, 3).sorts
    assert all(row["res_pk"] == 3 and row["res_id"] == resource["id"] for row in rows)
    return {row["param"]: row["value"] for row in rows}


def test_a_string_parameter_sorts_by_its_values_in_document_order_folded_and_joined() -> None:
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "name": [{"use": "official", "family": "Ørsted", "given": ["Christian", "Adrian"]}],
        "address": [{"line": ["1 Main St"], "city": "Victoria"}, {"city": "Aarhus"}],
    }

    keys = _sort_keys(patient)

    assert keys["given"] == "christian adrian"
    assert keys["family"] == "orsted"
    assert keys["name"] == "orsted christian adrian"
    # Of repeating complex elements, only the first counts when none is marked official.
    assert keys["address"] == "1 main st victoria"
    assert keys["address-city"] == "victoria"
    # A parameter without a value has no sort key: it sorts last either way.
    assert "address-country" not in keys


def test_names_sort_by_the_official_name_wherever_it_stands() -> None:
    patient = {
        "resourceType": "Patient",
        "id": "p2",
        "name": [
            {"use": "nickname", "given": ["Aaron"]},
            {"use": "official", "family": "Smith", "given": ["Walter", "Bruce"]},
            {"use": "old", "family": "Jones", "given": ["Adam"]},
        ],
    }

    keys = _sort_keys(patient)

    assert (keys["given"], keys["family"]) == ("walter bruce", "smith")


def test_an_official_name_without_given_names_leaves_given_unsorted() -> None:
    patient = {
        "resourceType": "Patient",
        "id": "p3",
        "name": [{"use": "official", "family": "Smith"}, {"use": "usual", "given": ["Al"]}],
    }

    assert "given" not in _sort_keys(patient)


def test_quantity_number_uri_and_reference_rows() -> None:
    observation = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": "Patient/p1", "identifier": {"system": "urn:mrn", "value": "M1"}},
        "valueQuantity": {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
        "component": [{"code": {"text": "x"}, "valueQuantity": {"value": 3, "code": "mm[Hg]"}}],
        "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/bodyweight"]},
    }
    rows = index_rows(observation, 7)

    quantities = {(row["param"], row["code"], row["low"], row["high"]) for row in rows.quantities}
    assert ("value-quantity", "kg", 72.5, 72.5) in quantities
    assert ("component-value-quantity", "mm[Hg]", 3.0, 3.0) in quantities
    assert ("combo-value-quantity", "mm[Hg]", 3.0, 3.0) in quantities
    references = {(row["param"], row["target_type"], row["target_id"]) for row in rows.references}
    assert {("subject", "Patient", "p1"), ("patient", "Patient", "p1")} <= references
    tokens = {(row["param"], row["system"], row["code"]) for row in rows.tokens}
    assert ("subject:identifier", "urn:mrn", "M1") in tokens
    assert ("_profile", "http://hl7.org/fhir/StructureDefinition/bodyweight") in {
        (row["param"], row["value"]) for row in rows.uris
    }


def test_a_reference_parameter_keeps_only_the_types_its_expression_resolves_to() -> None:
    observation = {"resourceType": "Observation", "id": "o2", "status": "final", "code": {"text": "x"}}
    rows = index_rows({**observation, "subject": {"reference": "Group/g1"}}, 8)

    params = {row["param"] for row in rows.references}
    assert "subject" in params
    assert "patient" not in params  # Observation.subject.where(resolve() is Patient)


def test_a_range_indexes_from_low_to_high() -> None:
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}
    rows = index_rows({**condition, "onsetRange": {"low": {"value": 40, "unit": "a"}, "high": {"value": 50}}}, 9)

    assert [(row["param"], row["low"], row["high"]) for row in rows.quantities] == [("onset-age", 40.0, 50.0)]
