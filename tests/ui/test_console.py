"""The web console's flows in Chromium, as a user meets them: controls are found by their
role and accessible name (or label), never by how they are styled.

Data is seeded through the public REST API; what the console stores is read back through it.
"""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from generators.clinical.tables import header
from mappers.health_numbers import normalize
from mappers.note_text import NOTE_TYPES
from tests.api.test_notes_uploads import text_pdf
from tests.ui.browser import PHONE, VIEWPORTS, Api, console_pages
from tests.ui.conftest import ConsoleLog, GuardedGateway

SEARCH = "Search patients by name"
DECOY = ("Zebulon", "Quackenbush")
DECOY_NAME = " ".join(DECOY)
SOAP_TEXT = (
    "Subjective: cough for 3 days. Objective: T 38.1 C, HR 96. Assessment: bronchitis. "
    "Plan: fluids, follow up in 1 week."
)
PDF_NAME = "discharge-summary.pdf"
PDF_LINES = [
    "DISCHARGE SUMMARY",
    "Admitted with community-acquired pneumonia.",
    "Discharged home on oral amoxicillin.",
    "Follow up with the family physician in one week.",
]
FAILED_REQUEST = r"the server responded with a status of 422"
# What a datetime-local field holds (its default is now).
NOW_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


# --- finding, waiting, reading back ------------------------------------------------------


def ready(page: Page) -> None:
    """Wait until the page has loaded its data (`main[data-ready=true]`)."""
    expect(page.get_by_role("main")).to_have_attribute("data-ready", "true")


def visit(page: Page, path: str) -> None:
    page.goto(path)
    ready(page)


def h1(page: Page, name: str) -> Locator:
    return page.get_by_role("heading", level=1, name=name, exact=True)


def h2(page: Page, name: str) -> Locator:
    return page.get_by_role("heading", level=2, name=name, exact=True)


def patients_table(page: Page) -> Locator:
    return page.get_by_role("table", name="Patients")


def patient_link(page: Page, name: str) -> Locator:
    return patients_table(page).get_by_role("link", name=name, exact=True)


def search(page: Page, text: str) -> None:
    """Type `text` in the search box, and wait until the table shows that search's results:
    first a search for the decoy patient shows her, then typing `text` must replace her."""
    box = page.get_by_role("searchbox", name=SEARCH)
    box.fill(DECOY_NAME)
    expect(patient_link(page, DECOY_NAME)).to_be_visible()
    box.fill("")
    box.press_sequentially(text)
    expect(patient_link(page, DECOY_NAME)).to_have_count(0)


def hrefs(links: Locator) -> list[str]:
    return [link.get_attribute("href") or "" for link in links.all()]


def selected_option(select: Locator) -> str:
    return select.evaluate("select => select.options[select.selectedIndex]?.text ?? ''")


def options(select: Locator) -> list[str]:
    return select.evaluate("select => [...select.options].map(option => option.text)")


def fill_fields(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)


def expect_values(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)


def note_heading(note_type: str) -> str:
    return f"{note_type.capitalize()} note"


def only_note(api: Api, patient_id: str) -> dict[str, Any]:
    (summary,) = api.get(f"/patients/{patient_id}/notes")["items"]
    return api.get(f"/patients/{patient_id}/notes/{summary['id']}")


def saved_note_status(page: Page, note_type: str) -> Locator:
    assert note_type in NOTE_TYPES
    status = page.get_by_role("status").filter(has_text=f"Saved as a {note_type} note.")
    expect(status).to_be_visible()
    return status


def query_of(response: Response) -> dict[str, list[str]]:
    return parse_qs(urlparse(response.url).query)


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def decoy(api: Api) -> dict[str, Any]:
    """A patient no search of these tests looks for: when a search replaces him in the
    table, the table shows that search's results."""
    return api.patient(*DECOY, birth_date="1950-01-01", gender="male")


@pytest.fixture(scope="module")
def charted(api: Api) -> dict[str, Any]:
    """A patient with a note and an interaction: something on every page about her."""
    patient = api.patient(
        "Ingrid",
        "Halvorsen",
        birth_date="1974-09-30",
        phone="604-555-0142",
        email="ingrid.halvorsen@example.org",
        address={"line": ["1450 Kingsway"], "city": "Vancouver", "province": "BC", "postal_code": "V5N 2R5"},
    )
    note = api.note(patient["id"], SOAP_TEXT, "2025-02-04T09:30:00-08:00", author="Dr. Amara Singh")
    api.interaction(
        patient["insurance_no"],
        "2025-02-10T10:30:00-08:00",
        ailment="Acute bronchitis",
        ailment_code="J20.9",
        metrics={"heart_rate": 96, "temperature_c": 38.1},
        health_status=6,
        labels=["follow-up"],
    )
    return {"patient": patient, "note": note}


# --- every page --------------------------------------------------------------------------


def page_headings(charted: dict[str, Any]) -> dict[str, str]:
    patient, note = charted["patient"], charted["note"]
    name = f"{patient['given_name']} {patient['family_name']}"
    return {
        "patients": "Patients",
        "patient": name,
        "note": note_heading(note["note_type"]),
        "new-note": "Add a note",
        "new-interaction": "Record an interaction",
        "new-interaction-blank": "Record an interaction",
        "summary": f"Summary of {name}",
        "generate": "Generate synthetic data",
    }


PAGE_NAMES = list(console_pages("p", "n"))


@pytest.mark.parametrize("viewport", list(VIEWPORTS.values()), ids=list(VIEWPORTS))
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_loads_with_its_header_and_one_h1_and_fits_a_phone(
    page: Page, charted: dict[str, Any], name: str, viewport: dict[str, int]
) -> None:
    path = console_pages(charted["patient"]["id"], charted["note"]["id"])[name]

    visit(page, path)

    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(h1(page, page_headings(charted)[name])).to_be_visible()
    assert page.title().strip(), f"{path} has no title"
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Patients", exact=True)).to_have_attribute("href", "/ui")
    expect(main_nav.get_by_role("link", name="Generate data", exact=True)).to_have_attribute("href", "/ui/generate")
    expect(page.get_by_label("API key", exact=True)).to_have_attribute("type", "password")
    expect(page.get_by_role("button", name="Use key", exact=True)).to_be_visible()
    if viewport == PHONE:
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{path} scrolls sideways on a phone: {widths[0]} px wide in {widths[1]} px"


def test_the_root_page_links_to_the_console(page: Page, gateway: str) -> None:
    page.goto("/")

    console_links = [href for href in hrefs(page.get_by_role("link")) if href in ("/ui", f"{gateway}/ui")]
    assert console_links, "the root page has no link to /ui"
    page.goto(console_links[0])
    expect(h1(page, "Patients")).to_be_visible()


def test_the_patient_page_shows_her_record_and_its_sections(page: Page, charted: dict[str, Any]) -> None:
    patient = charted["patient"]

    visit(page, f"/ui/patients/{patient['id']}")

    for term in ("Birth date", "Gender", "Health number", "Province", "MRN", "Phone", "Email", "Address"):
        expect(page.get_by_role("term").filter(has_text=re.compile(rf"^{term}$"))).to_have_count(1)
    for value in (patient["mrn"], patient["phone"], patient["email"]):
        expect(page.get_by_text(value, exact=True)).to_be_visible()
    expect(page.get_by_text("1450 Kingsway")).to_be_visible()
    for section in ("Immunizations", "Allergies", "Interactions", "Notes"):
        expect(h2(page, section)).to_be_visible()
    for link in ("Add a note", "Record an interaction", "Summary"):
        expect(page.get_by_role("link", name=link, exact=True)).to_be_visible()
    notes = page.get_by_role("table", name="Notes")
    (note_link,) = notes.get_by_role("link", name=re.compile(r"^Open note of ")).all()
    expect(note_link).to_have_attribute("href", f"/ui/patients/{patient['id']}/notes/{charted['note']['id']}")
    interactions = page.get_by_role("table", name="Interactions")
    expect(interactions.get_by_role("row").filter(has_text="Acute bronchitis")).to_contain_text("follow-up")


def test_a_key_typed_in_the_header_is_sent_with_the_console_s_requests(
    guarded_page: Page, guarded_gateway: GuardedGateway, console: ConsoleLog
) -> None:
    # Whatever the console asks before it has the key, the gateway refuses.
    console.allow(r"the server responded with a status of 401", guarded_gateway.root)
    owner = Api(guarded_gateway.root, guarded_gateway.key)
    try:
        owner.patient("Wilhelmina", "Oyelaran")
    finally:
        owner.close()
    page = guarded_page
    visit(page, "/ui/generate")

    page.get_by_label("API key", exact=True).fill(guarded_gateway.key)
    page.get_by_role("button", name="Use key", exact=True).click()
    with page.expect_request(lambda request: urlparse(request.url).path == "/patients") as listing:
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients", exact=True).click()

    assert listing.value.all_headers().get("authorization") == f"Bearer {guarded_gateway.key}"
    expect(patient_link(page, "Wilhelmina Oyelaran")).to_be_visible()
    assert guarded_gateway.key not in page.url


# --- a: search ---------------------------------------------------------------------------


def test_a_search_with_typos_finds_the_patient_and_her_link_opens_her_page(
    page: Page, api: Api, decoy: dict[str, Any]
) -> None:
    patient = api.patient("Margaret", "Okonkwo")
    visit(page, "/ui")
    expect(h1(page, "Patients")).to_be_visible()

    search(page, "Margret Okonkow")

    link = patient_link(page, "Margaret Okonkwo")
    expect(link).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=re.compile(r"\d+ patients?\b"))).to_be_visible()
    page.evaluate("() => { window.sameDocument = true; }")
    link.click()
    expect(h1(page, "Margaret Okonkwo")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/ui/patients/{patient['id']}$"))
    # The console follows its own links in the page (history.pushState), and Back returns.
    assert page.evaluate("() => window.sameDocument === true"), "following the link reloaded the page"
    page.go_back()
    expect(h1(page, "Patients")).to_be_visible()


def test_a_search_matching_nobody_says_so(page: Page, decoy: dict[str, Any]) -> None:
    visit(page, "/ui")

    search(page, "Xqzvbtw Jjkrrpf")

    expect(page.get_by_role("status").filter(has_text="No patient matches")).to_be_visible()


def test_tab_from_the_search_box_reaches_a_patient_link_and_enter_opens_it(
    page: Page, api: Api, decoy: dict[str, Any]
) -> None:
    api.patient("Theodora", "Quist")
    visit(page, "/ui")
    search(page, "Theodora Quist")
    link = patient_link(page, "Theodora Quist")
    expect(link).to_be_visible()
    expect(page.get_by_role("searchbox", name=SEARCH)).to_be_focused()

    for _ in range(12):
        page.keyboard.press("Tab")
        if link.evaluate("link => link === document.activeElement"):
            break
    expect(link).to_be_focused()
    page.keyboard.press("Enter")

    expect(h1(page, "Theodora Quist")).to_be_visible()


SORTS = {
    "Best match": None,
    "Family name, A to Z": "family_name",
    "Family name, Z to A": "-family_name",
    "Birth date, oldest first": "birth_date",
    "Birth date, newest first": "-birth_date",
}
LISTED_PATIENTS = 45


def at_least_patients(api: Api, count: int) -> int:
    """Load synthetic patients through the API until the gateway holds `count`; how many it holds."""
    total = api.get("/patients", size=1)["total"]
    if total < count:
        body = {"count": count - total, "province": "ON", "seed": 11}
        with api.http.stream("POST", "/api/generate/immunizations", json=body) as answer:
            assert answer.status_code == 200, answer.read()
            last = [json.loads(line) for line in answer.iter_lines() if line.strip()][-1]
        assert last.get("done") is True, last
    return api.get("/patients", size=1)["total"]


def patients_request(response: Response) -> bool:
    return urlparse(response.url).path == "/patients" and response.request.resource_type == "fetch"


def test_the_patient_list_pages_through_every_patient_once(page: Page, api: Api) -> None:
    total = at_least_patients(api, LISTED_PATIENTS)
    visit(page, "/ui")
    expect(page.get_by_role("status").filter(has_text=f"{total} patients")).to_be_visible()
    pager = page.get_by_role("navigation", name="Pages")
    previous = pager.get_by_role("button", name="Previous page", exact=True)
    following = pager.get_by_role("button", name="Next page", exact=True)
    counter = pager.get_by_text(re.compile(r"^Page 1 of \d+$"))
    expect(counter).to_be_visible()
    pages = int(counter.inner_text().rsplit(" ", 1)[1])
    assert pages > 1
    expect(previous).to_be_disabled()
    links = patients_table(page).get_by_role("link")

    seen: list[str] = []
    for number in range(1, pages + 1):
        expect(pager.get_by_text(f"Page {number} of {pages}", exact=True)).to_be_visible()
        ready(page)
        on_this_page = hrefs(links)
        seen += on_this_page
        if number < pages:
            expect(following).to_be_enabled()
            following.click()
            expect(links.first).not_to_have_attribute("href", on_this_page[0])

    expect(following).to_be_disabled()
    expect(previous).to_be_enabled()
    assert len(seen) == len(set(seen)) == total


def test_the_patient_list_sorts_as_chosen(page: Page, api: Api, decoy: dict[str, Any]) -> None:
    at_least_patients(api, 3)
    visit(page, "/ui")
    sort = page.get_by_label("Sort by", exact=True)
    assert options(sort) == list(SORTS)

    for label, order in SORTS.items():
        if order is None:
            continue
        with page.expect_response(patients_request) as answer:
            sort.select_option(label=label)
        assert answer.value.ok
        assert query_of(answer.value)["sort"][0].split(",")[0] == order
        items = answer.value.json()["items"]
        field = order.removeprefix("-")
        values = [item[field].casefold() for item in items]
        assert values == sorted(values, reverse=order.startswith("-")), (label, values)
        names = [f"{item['given_name']} {item['family_name']}" for item in items]
        expect(patients_table(page).get_by_role("link")).to_have_text(names)


# --- b, c: notes -------------------------------------------------------------------------


def test_a_typed_note_is_classified_saved_and_opens_with_its_soap_sections(page: Page, api: Api) -> None:
    patient = api.patient("Beatrice", "Achterberg")
    visit(page, f"/ui/patients/{patient['id']}")
    page.get_by_role("link", name="Add a note", exact=True).click()
    expect(h1(page, "Add a note")).to_be_visible()
    ready(page)
    expect(page.get_by_role("group", name="Note from")).to_be_visible()

    expect(page.get_by_label("Taken at", exact=True)).to_have_value(NOW_LOCAL)
    page.get_by_role("radio", name="Typed text", exact=True).check()
    page.get_by_label("Note text", exact=True).fill(SOAP_TEXT)
    note_type = page.get_by_label("Note type", exact=True)
    expect(note_type).to_have_value("")
    assert selected_option(note_type) == "Let the gateway classify it"
    page.get_by_role("button", name="Save note", exact=True).click()

    expect(page.get_by_role("status").filter(has_text="Saved as a")).to_be_visible()
    stored = only_note(api, patient["id"])
    assert stored["text"] == SOAP_TEXT
    saved_note_status(page, stored["note_type"])
    page.get_by_role("link", name="Open the note", exact=True).click()
    expect(h1(page, note_heading(stored["note_type"]))).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/ui/patients/{patient['id']}/notes/{stored['id']}$"))
    ready(page)
    expect(h2(page, "Text")).to_be_visible()
    expect(page.get_by_text(SOAP_TEXT)).to_be_visible()
    assert stored["sections"], "the API found no SOAP sections in this note"
    expect(h2(page, "SOAP sections")).to_be_visible()
    expect(page.get_by_text(stored["sections"]["assessment"], exact=True)).to_be_visible()
    assert any(value is not None for value in stored["vitals"].values())
    expect(h2(page, "Vitals")).to_be_visible()


def test_a_pdf_note_is_saved_with_its_text_and_downloads_as_it_was_sent(page: Page, api: Api) -> None:
    pdf = text_pdf(PDF_LINES)
    patient = api.patient("Octavia", "Lindqvist")
    visit(page, f"/ui/patients/{patient['id']}")
    page.get_by_role("link", name="Add a note", exact=True).click()
    expect(h1(page, "Add a note")).to_be_visible()
    ready(page)

    page.get_by_role("radio", name="A file", exact=True).check()
    page.get_by_label("File (text, PDF, PNG or JPEG)", exact=True).set_input_files(
        files=[{"name": PDF_NAME, "mimeType": "application/pdf", "buffer": pdf}]
    )
    page.get_by_role("button", name="Save note", exact=True).click()

    expect(page.get_by_role("status").filter(has_text="Saved as a")).to_be_visible()
    stored = only_note(api, patient["id"])
    assert (stored["content_type"], stored["file_name"], stored["text_source"]) == ("application/pdf", PDF_NAME, "pdf")
    assert PDF_LINES[2] in stored["text"]
    saved_note_status(page, stored["note_type"])
    page.get_by_role("link", name="Open the note", exact=True).click()
    expect(h1(page, note_heading(stored["note_type"]))).to_be_visible()
    ready(page)
    expect(page.get_by_text(PDF_LINES[2]).first).to_be_visible()

    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download original", exact=True).click()
    download = downloading.value
    assert download.suggested_filename == PDF_NAME
    assert Path(download.path()).read_bytes() == pdf


# --- d: interactions ---------------------------------------------------------------------


def test_an_interaction_is_recorded_and_found_by_its_labels_only(page: Page, api: Api) -> None:
    patient = api.patient("Cornelius", "Vandermeer", gender="male")
    api.interaction(patient["insurance_no"], "2025-01-15T09:00:00-08:00", ailment="Sprained ankle", labels=["injury"])
    visit(page, f"/ui/patients/{patient['id']}")
    page.get_by_role("link", name="Record an interaction", exact=True).click()
    expect(h1(page, "Record an interaction")).to_be_visible()
    ready(page)
    health_number = page.get_by_label("Health number", exact=True)
    expect(health_number).to_have_value(re.compile(r"\S"))
    assert normalize(health_number.input_value()) == patient["insurance_no"]
    expect(page.get_by_label("Date and time", exact=True)).to_have_value(NOW_LOCAL)

    fill_fields(
        page,
        {
            "Ailment": "Acute bronchitis",
            "Ailment code (ICD-10-CM)": "J20.9",
            "Symptoms (one per line)": "cough\nfever",
            "Next steps (one per line)": "Rest\nFluids",
            "Labels (comma-separated)": "follow-up, respiratory",
            "Remarks": "Worse at night.",
        },
    )
    page.get_by_role("spinbutton", name="Health status (1 to 10)").fill("6")
    page.get_by_role("spinbutton", name="Heart rate (/min)").fill("96")
    page.get_by_role("spinbutton", name="Temperature (°C)").fill("38.1")
    page.get_by_role("button", name="Save interaction", exact=True).click()

    expect(page.get_by_role("status").filter(has_text="Interaction recorded.")).to_be_visible()
    (stored,) = api.get(f"/patients/{patient['id']}/interactions", label="follow-up")["items"]
    assert (stored["ailment"], stored["ailment_code"], stored["remarks"]) == (
        "Acute bronchitis",
        "J20.9",
        "Worse at night.",
    )
    assert (stored["symptoms"], stored["next_steps"]) == (["cough", "fever"], ["Rest", "Fluids"])
    assert sorted(stored["labels"]) == ["follow-up", "respiratory"]
    assert (stored["health_status"], stored["metrics"]) == (6, {"heart_rate": 96, "temperature_c": 38.1})

    page.get_by_role("link", name="Back to the patient", exact=True).click()
    expect(h1(page, "Cornelius Vandermeer")).to_be_visible()
    rows = page.get_by_role("table", name="Interactions").get_by_role("row")
    bronchitis, ankle = rows.filter(has_text="Acute bronchitis"), rows.filter(has_text="Sprained ankle")
    expect(bronchitis).to_be_visible()
    expect(bronchitis).to_contain_text("follow-up")
    expect(ankle).to_be_visible()

    label_filter = page.get_by_role("search", name="Filter interactions")
    by_label = label_filter.get_by_label("Filter by label", exact=True)
    by_label.fill("follow-up")
    label_filter.get_by_role("button", name="Filter", exact=True).click()
    expect(ankle).to_have_count(0)
    expect(bronchitis).to_be_visible()

    by_label.fill("injury")
    label_filter.get_by_role("button", name="Filter", exact=True).click()
    expect(bronchitis).to_have_count(0)
    expect(ankle).to_be_visible()

    label_filter.get_by_role("button", name="Clear", exact=True).click()
    expect(bronchitis).to_be_visible()
    expect(ankle).to_be_visible()
    expect(by_label).to_have_value("")


@pytest.mark.parametrize(
    ("field", "value"), [("Health status (1 to 10)", "11"), ("Health number", "")], ids=["status-11", "no-number"]
)
def test_an_invalid_interaction_is_refused_next_to_its_field_and_nothing_typed_is_lost(
    page: Page, api: Api, console: ConsoleLog, field: str, value: str
) -> None:
    # The refusal is the API's 422, which the browser logs as a failed request.
    console.allow(FAILED_REQUEST, "/interactions")
    patient = api.patient("Philippa", "Marchetti")
    visit(page, f"/ui/patients/{patient['id']}/interactions/new")
    typed = {
        "Ailment": "Migraine",
        "Symptoms (one per line)": "headache\nnausea",
        "Labels (comma-separated)": "headache, follow-up",
        "Remarks": "Light sensitivity since Monday.",
        "Heart rate (/min)": "72",
    }
    fill_fields(page, typed)
    page.get_by_label(field, exact=True).fill(value)

    page.get_by_role("button", name="Save interaction", exact=True).click()

    expect(page.get_by_role("alert").filter(has_text="The interaction was not saved:")).to_be_visible()
    invalid = page.get_by_label(field, exact=True)
    expect(invalid).to_have_attribute("aria-invalid", "true")
    expect(invalid).to_have_accessible_description(re.compile(r"\S"))
    described_by = (invalid.get_attribute("aria-describedby") or "").split()
    assert any(page.locator(f"id={ident}").is_visible() for ident in described_by), "the field's message is not shown"
    expect_values(page, typed | {field: value})
    assert page.get_by_role("status").filter(has_text="Interaction recorded.").count() == 0
    assert api.get(f"/patients/{patient['id']}/interactions")["total"] == 0


# --- e: summary --------------------------------------------------------------------------


def _summary_request(audience: str | None = None, length: str | None = None) -> Callable[[Response], bool]:
    def matches(response: Response) -> bool:
        if "/summary" not in urlparse(response.url).path or response.request.resource_type not in ("fetch", "xhr"):
            return False
        query = query_of(response)
        return (audience is None or query.get("audience") == [audience]) and (
            length is None or query.get("length") == [length]
        )

    return matches


def test_the_summary_is_rewritten_for_its_audience_and_its_facts_link_to_their_sources(page: Page, api: Api) -> None:
    patient = api.patient("Rosalind", "Fairweather")
    api.interaction(
        patient["insurance_no"],
        "2025-03-01T10:30:00-08:00",
        ailment="Acute bronchitis",
        ailment_code="J20.9",
        metrics={"heart_rate": 96, "temperature_c": 38.1},
        health_status=6,
    )
    summary_path = f"/patients/{patient['id']}/summary"
    clinician = api.get(summary_path, audience="clinician")
    family = api.get(summary_path, audience="family")
    assert clinician["narrative"] != family["narrative"]

    visit(page, f"/ui{summary_path}")
    expect(h1(page, "Summary of Rosalind Fairweather")).to_be_visible()
    expect(h2(page, "Narrative")).to_be_visible()
    expect(page.get_by_role("group", name="Audience")).to_be_visible()
    expect(page.get_by_role("group", name="Length")).to_be_visible()
    clinician_radio = page.get_by_role("radio", name="Clinician", exact=True)
    family_radio = page.get_by_role("radio", name="Family", exact=True)
    if family_radio.is_checked():
        clinician_radio.check()
        ready(page)
    expect(page.get_by_text(clinician["narrative"])).to_be_visible()
    expect(page.get_by_text("Written by: offline")).to_be_visible()

    with page.expect_response(_summary_request(audience="family")) as answer:
        family_radio.check()
    assert answer.value.ok
    expect(page.get_by_text(family["narrative"])).to_be_visible()
    expect(page.get_by_text(clinician["narrative"])).to_have_count(0)
    ready(page)

    clinician_radio.check()
    expect(page.get_by_text(clinician["narrative"])).to_be_visible()
    expect(page.get_by_text(family["narrative"])).to_have_count(0)
    ready(page)

    with page.expect_response(_summary_request(length="brief")) as answer:
        page.get_by_role("radio", name="Brief", exact=True).check()
    assert answer.value.ok
    ready(page)

    expect(h2(page, "Key facts")).to_be_visible()
    for kind, facts in clinician["key_facts"].items():
        kind_heading = page.get_by_role("heading", level=3, name=kind.capitalize(), exact=True)
        expect(kind_heading).to_have_count(1 if facts else 0)
        for fact in facts:
            links = page.get_by_role("link", name=fact["text"], exact=True)
            expect(links.first).to_be_visible()
            assert all(fact["source"]["id"] in href for href in hrefs(links)), (fact, hrefs(links))
    assert clinician["key_facts"]["diagnoses"] and clinician["key_facts"]["observations"]
    expect(h2(page, "Warnings")).to_have_count(0)


# --- f: synthetic data -------------------------------------------------------------------


def test_generated_immunization_records_are_loaded_and_their_patients_found(
    page: Page, api: Api, decoy: dict[str, Any]
) -> None:
    patients_before = api.get("/patients", size=1)["total"]
    visit(page, "/ui/generate")
    expect(h1(page, "Generate synthetic data")).to_be_visible()
    expect(h2(page, "Load immunization records")).to_be_visible()
    records = page.get_by_role("spinbutton", name="Records", exact=True)
    expect(records).to_have_value("20")
    records.fill("20")

    with page.expect_response(lambda r: urlparse(r.url).path == "/api/generate/immunizations") as answer:
        page.get_by_role("button", name="Generate and load", exact=True).click()

    expect(page.get_by_role("status").filter(has_text="Loaded 20 of 20 records.")).to_be_visible(timeout=120_000)
    assert answer.value.ok
    assert answer.value.request.method == "POST"
    assert api.get("/patients", size=1)["total"] == patients_before + 20
    progress = page.get_by_role("progressbar", name="Loading progress")
    expect(progress).to_have_count(1)
    value, maximum = progress.evaluate("bar => [bar.value, bar.max]")
    assert value == maximum, (value, maximum)
    expect(page.get_by_role("heading", level=3, name="Patients loaded", exact=True)).to_be_visible()
    loaded: dict[str, str] = {}
    for link in page.get_by_role("main").get_by_role("link").all():
        path = urlparse(link.get_attribute("href") or "").path
        if path.startswith("/ui/patients/"):
            stored = api.get(path.removeprefix("/ui"))
            loaded[stored["id"]] = f"{stored['given_name']} {stored['family_name']}"
            expect(link).to_have_accessible_name(loaded[stored["id"]])
    assert len(loaded) == 20, loaded

    patient_id, name = next(iter(loaded.items()))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients", exact=True).click()
    expect(h1(page, "Patients")).to_be_visible()
    ready(page)
    search(page, name)
    links = patient_link(page, name)
    expect(links.first).to_be_visible()
    assert f"/ui/patients/{patient_id}" in hrefs(links), (name, hrefs(links))


def test_synthetic_data_downloads_as_a_csv_file_with_its_header(page: Page) -> None:
    visit(page, "/ui/generate")
    expect(h2(page, "Download synthetic data")).to_be_visible()

    file_format, table = page.get_by_label("Format", exact=True), page.get_by_label("CSV table", exact=True)
    assert options(file_format) == ["FHIR transaction Bundle", "NDJSON", "CSV", "X12 834 enrolment", "X12 837P claims"]
    assert options(table) == ["patients", "encounters", "claim_lines"]
    expect(page.get_by_role("spinbutton", name="Patients", exact=True)).to_have_value("100")

    file_format.select_option(label="CSV")
    table.select_option(label="patients")
    page.get_by_role("spinbutton", name="Patients", exact=True).fill("5")
    page.get_by_label("Seed", exact=True).fill("7")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download", exact=True).click()

    download = downloading.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    lines = Path(download.path()).read_text().splitlines()
    assert lines[0] == header("patients").decode().rstrip("\r\n")
    assert len(lines) == 1 + 5
