"""fhirpy's AsyncFHIRClient, unmodified, against the gateway's FHIR face over real HTTP: every
request it makes goes through `/fhir` to the FHIR server behind, and every address it is
answered with (paging links, `fullUrl`s, locations) is the gateway's own, or fhirpy itself
refuses to follow it."""

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, MultipleResourcesFound, OperationOutcome, ResourceNotFound

from tests.e2e.conftest import AUTHORIZATION

pytestmark = pytest.mark.anyio

SYSTEM = "urn:e2e:fhirpy"
JSON_PATCH = "application/json-patch+json"
WEIGHT = {"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}


CheckUrls = Callable[[Any], None]


def _family() -> str:
    return f"Fhirpy{uuid4().hex[:12]}"


def _weight(subject: Any, kilograms: float) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [WEIGHT]},
        "subject": subject,
        "valueQuantity": {"value": kilograms, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    }


def under(base: str, url: str) -> bool:
    return url == base or url.startswith((f"{base}/", f"{base}?"))


def _next_link(bundle: Any) -> str | None:
    return next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)


def _status(entry: Any) -> str:
    return entry["response"]["status"].split()[0]


def _reference_of(location: str, base: str) -> tuple[str, str]:
    """(type, id) of a `location` such as `{base}/Patient/1/_history/1` or `Patient/1/_history/1`."""
    relative = location.removeprefix(f"{base}/") if under(base, location) else location
    resource_type, resource_id = relative.split("/")[:2]
    return resource_type, resource_id


async def test_create_read_update_vread_and_history(gateway_fhir_base: str, check_urls: CheckUrls) -> None:
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    family = _family()
    patient = fhir.resource("Patient", name=[{"family": family, "given": ["Ada"]}], birthDate="1970-03-04")
    await patient.create()
    assert patient.id
    assert patient["meta"]["versionId"] == "1"

    read = await fhir.get("Patient", patient.id)
    assert read["name"][0]["family"] == family
    assert read["birthDate"] == "1970-03-04"

    patient["active"] = True
    await patient.save()
    assert patient["meta"]["versionId"] == "2"
    await patient.refresh()
    assert patient["active"] is True
    assert patient["meta"]["versionId"] == "2"

    first = await fhir.execute(f"Patient/{patient.id}/_history/1", method="get")
    assert first["meta"]["versionId"] == "1"
    assert "active" not in first
    history = await fhir.execute(f"Patient/{patient.id}/_history", method="get")
    assert history["type"] == "history"
    assert [entry["resource"]["meta"]["versionId"] for entry in history["entry"]] == ["2", "1"]
    assert all(entry["fullUrl"].startswith(f"{gateway_fhir_base}/Patient/{patient.id}") for entry in history["entry"])
    check_urls(history)


async def test_conditional_update_creates_once_then_updates_the_match(gateway_fhir_base: str) -> None:
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    value = uuid4().hex
    family = _family()
    by_identifier = fhir.resources("Patient").search(identifier=f"{SYSTEM}|{value}")

    def patient(active: bool) -> Any:
        identifier = [{"system": SYSTEM, "value": value}]
        return fhir.resource("Patient", identifier=identifier, name=[{"family": family}], active=active)

    created, was_created = await by_identifier.update(patient(False))
    assert was_created
    assert created["meta"]["versionId"] == "1"
    updated, was_created = await by_identifier.update(patient(True))
    assert not was_created
    assert updated.id == created.id
    assert updated["meta"]["versionId"] == "2"
    assert updated["active"] is True
    assert await by_identifier.count() == 1


async def test_sorted_search_pages_through_the_gateways_next_links(
    gateway_fhir_base: str, check_urls: CheckUrls
) -> None:
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    family = _family()
    for year in (1961, 1975, 1968, 1990, 1983):
        await fhir.resource("Patient", name=[{"family": family}], birthDate=f"{year}-06-15").create()
    search = fhir.resources("Patient").search(family=family).sort("-birthdate").limit(2)

    # fetch_all follows each page's `next` link; fhirpy refuses one outside its base URL.
    walked = await search.fetch_all()
    assert [patient["birthDate"] for patient in walked] == [f"{year}-06-15" for year in (1990, 1983, 1975, 1968, 1961)]

    pages = [await search.fetch_raw()]
    while (link := _next_link(pages[-1])) is not None:
        assert under(gateway_fhir_base, link)
        pages.append(await fhir.execute(link, method="get"))
    assert [len(page.get("entry", [])) for page in pages] == [2, 2, 1]
    for page in pages:
        assert page["type"] == "searchset"
        assert any(link["relation"] == "self" for link in page["link"])
        check_urls(page)


async def test_a_range_given_as_a_repeated_parameter_and_count(gateway_fhir_base: str) -> None:
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    family = _family()
    for year in (1950, 1960, 1970, 1980, 1990):
        await fhir.resource("Patient", name=[{"family": family}], birthDate=f"{year}-01-01").create()
    everyone = fhir.resources("Patient").search(family=family)
    # `birthdate=ge1960-01-01&birthdate=lt1980-01-01`: one parameter, twice.
    in_range = everyone.search(birthdate__ge="1960-01-01", birthdate__lt="1980-01-01")

    # count() asks for `_count=0&_totalMethod=count` and reads Bundle.total.
    assert await everyone.count() == 5
    assert await in_range.count() == 2
    assert sorted(patient["birthDate"] for patient in await in_range.fetch_all()) == ["1960-01-01", "1970-01-01"]
    assert await fhir.resources("Patient").search(family=_family()).count() == 0


async def test_include_and_revinclude_mark_entries_by_search_mode(
    gateway_fhir_base: str, check_urls: CheckUrls
) -> None:
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    patient = fhir.resource("Patient", name=[{"family": _family()}])
    await patient.create()
    bystander = fhir.resource("Patient", name=[{"family": _family()}])
    await bystander.create()
    for subject, kilograms in ((patient, 61), (patient, 82), (bystander, 70)):
        await fhir.resource("Observation", **_weight(subject.to_reference(), kilograms)).create()

    included = (
        await fhir.resources("Observation")
        .search(subject=f"Patient/{patient.id}")
        .include("Observation", "subject")
        .fetch_raw()
    )
    assert sorted((entry["search"]["mode"], entry["resource"]["resourceType"]) for entry in included["entry"]) == [
        ("include", "Patient"),
        ("match", "Observation"),
        ("match", "Observation"),
    ]
    (included_patient,) = [entry for entry in included["entry"] if entry["search"]["mode"] == "include"]
    assert included_patient["resource"].id == patient.id
    assert included_patient["fullUrl"] == f"{gateway_fhir_base}/Patient/{patient.id}"
    check_urls(included)

    revincluded = (
        await fhir.resources("Patient").search(_id=patient.id).revinclude("Observation", "subject").fetch_raw()
    )
    assert sorted((entry["search"]["mode"], entry["resource"]["resourceType"]) for entry in revincluded["entry"]) == [
        ("include", "Observation"),
        ("include", "Observation"),
        ("match", "Patient"),
    ]
    weights = sorted(
        entry["resource"]["valueQuantity"]["value"]
        for entry in revincluded["entry"]
        if entry["resource"]["resourceType"] == "Observation"
    )
    assert weights == [61, 82]
    for entry in revincluded["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"] == f"{gateway_fhir_base}/{resource['resourceType']}/{resource.id}"
    check_urls(revincluded)


async def test_json_patch_through_fhirpy_honours_if_match_and_test_operations(gateway_fhir_base: str) -> None:
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    patient = fhir.resource("Patient", name=[{"family": _family()}], active=False)
    await patient.create()
    path = f"Patient/{patient.id}"

    def patcher(version: str) -> AsyncFHIRClient:
        # fhirpy's own patch() sends a partial resource as application/json (see below); a
        # JSON Patch goes through execute() with the headers it needs.
        return AsyncFHIRClient(
            gateway_fhir_base,
            authorization=AUTHORIZATION,
            extra_headers={"Content-Type": JSON_PATCH, "If-Match": f'W/"{version}"'},
        )

    operations = [
        {"op": "test", "path": "/active", "value": False},
        {"op": "replace", "path": "/active", "value": True},
        {"op": "add", "path": "/gender", "value": "female"},
    ]
    patched = await patcher("1").execute(path, method="patch", data=operations)
    assert patched["id"] == patient.id
    assert patched["active"] is True
    assert patched["gender"] == "female"
    assert patched["meta"]["versionId"] == "2"

    # A stale version is a 412, which fhirpy raises as MultipleResourcesFound (its error for any 412).
    with pytest.raises(MultipleResourcesFound):
        await patcher("1").execute(path, method="patch", data=[{"op": "remove", "path": "/gender"}])
    # A `test` that fails changes nothing.
    with pytest.raises(OperationOutcome):
        await patcher("2").execute(
            path,
            method="patch",
            data=[{"op": "test", "path": "/active", "value": False}, {"op": "remove", "path": "/gender"}],
        )
    current = await fhir.get("Patient", patient.id)
    assert current["meta"]["versionId"] == "2"
    assert current["gender"] == "female"
    assert current["active"] is True


async def test_fhirpys_own_patch_changes_only_what_it_names(gateway_fhir_base: str) -> None:
    # fhirpy's patch() sends PATCH with the changed elements as a partial resource,
    # `{"gender": "male"}`, as application/json: the face reads it as a JSON Merge Patch.
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    family = _family()
    patient = fhir.resource("Patient", name=[{"family": family}], gender="female", birthDate="1980-04-04")
    await patient.create()

    await patient.patch(gender="male")
    await fhir.reference("Patient", patient.id).patch(active=True)

    current = await fhir.get("Patient", patient.id)
    assert current["meta"]["versionId"] == "3"
    assert (current["gender"], current["active"], current["birthDate"]) == ("male", True, "1980-04-04")
    assert current["name"] == [{"family": family}]


async def test_delete_then_read_is_gone_and_search_finds_nothing(gateway_fhir_base: str) -> None:
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    family = _family()
    patient = fhir.resource("Patient", name=[{"family": family}])
    await patient.create()
    kept = fhir.resource("Patient", name=[{"family": family}])
    await kept.create()

    await patient.delete()

    with pytest.raises(ResourceNotFound):
        await fhir.get("Patient", patient.id)
    assert [found.id for found in await fhir.resources("Patient").search(family=family).fetch_all()] == [kept.id]


async def test_transaction_resolves_urn_uuid_references(gateway_fhir_base: str, check_urls: CheckUrls) -> None:
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    family = _family()
    patient_urn = f"urn:uuid:{uuid4()}"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient_urn,
                "resource": {"resourceType": "Patient", "name": [{"family": family}]},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": f"urn:uuid:{uuid4()}",
                "resource": _weight({"reference": patient_urn}, 64.5),
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }

    response = await fhir.execute("/", method="post", data=bundle)

    assert response["resourceType"] == "Bundle"
    assert response["type"] == "transaction-response"
    assert [_status(entry) for entry in response["entry"]] == ["201", "201"]
    check_urls(response)
    locations = [_reference_of(entry["response"]["location"], gateway_fhir_base) for entry in response["entry"]]
    (patient_type, patient_id), (observation_type, observation_id) = locations
    assert (patient_type, observation_type) == ("Patient", "Observation")
    patient = await fhir.get("Patient", patient_id)
    assert patient["name"][0]["family"] == family
    observation = await fhir.get("Observation", observation_id)
    assert observation["subject"]["reference"] == f"Patient/{patient_id}"
    assert observation["valueQuantity"]["value"] == 64.5


async def test_batch_answers_each_entry_on_its_own(gateway_fhir_base: str, check_urls: CheckUrls) -> None:
    fhir = AsyncFHIRClient(gateway_fhir_base, authorization=AUTHORIZATION)
    family = _family()
    patient = fhir.resource("Patient", name=[{"family": family}])
    await patient.create()
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": f"Patient/{patient.id}"}},
            {"request": {"method": "GET", "url": f"Patient/missing-{uuid4().hex}"}},
            {
                "resource": {"resourceType": "Patient", "name": [{"family": family}]},
                "request": {"method": "POST", "url": "Patient"},
            },
        ],
    }

    response = await fhir.execute("/", method="post", data=bundle)

    assert response["type"] == "batch-response"
    assert [_status(entry) for entry in response["entry"]] == ["200", "404", "201"]
    assert response["entry"][0]["resource"]["id"] == patient.id
    check_urls(response)
    assert await fhir.resources("Patient").search(family=family).count() == 2


async def test_without_the_key_the_client_is_refused(gateway_fhir_base: str) -> None:
    anonymous = AsyncFHIRClient(gateway_fhir_base)
    with pytest.raises(AuthorizationError, match='"code":"login"'):
        await anonymous.resources("Patient").limit(1).fetch()
    wrong = AsyncFHIRClient(gateway_fhir_base, authorization="Bearer fgw_not-a-key")
    with pytest.raises(AuthorizationError, match="not a valid API key"):
        await wrong.resources("Patient").limit(1).fetch()
