"""Full-page screenshots of every page of the web console (`make screenshots`), at desktop
(1280x800) and phone (390x844) widths, written to docs/screenshots/<page>-<desktop|phone>.png.

The gateway is served on a free loopback port on a fresh embedded SQLite store in a
temporary folder, and given demo data through its public API only: the patient of the
sample notes (generators/data/soap_notes.json) with her notes of a hospital stay and a few
clinic visits, and synthetic patients with their immunization records (the console's own
loader, `POST /api/generate/immunizations`). Each page is shot once it has loaded its data
(`main[data-ready=true]`).

The browser is Debian's Chromium (`apt-get install chromium`), launched by Playwright as the
console's browser tests launch it (tests/ui/browser.py); no browser is downloaded. Without
it the script stops, saying so.
"""

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generators.demo import sample_notes  # noqa: E402
from tests.ui.browser import (  # noqa: E402
    VIEWPORTS,
    Api,
    Browser,
    console_pages,
    find_chromium,
    open_browser,
    record_errors,
    served_gateway,
)

OUTPUT = REPO / "docs" / "screenshots"
SYNTHETIC_PATIENTS = 24
SYNTHETIC_SEED = 2025
VISITS = [
    {
        "interaction_date": "2025-02-14T10:30:00-08:00",
        "ailment": "Community-acquired pneumonia, resolving",
        "ailment_code": "J18.9",
        "symptoms": ["mild cough", "fatigue"],
        "metrics": {"heart_rate": 84, "temperature_c": 37.2, "spo2": 96},
        "health_status": 6,
        "next_steps": ["Finish amoxicillin", "Chest X-ray in 6 weeks"],
        "labels": ["follow-up", "respiratory"],
        "remarks": "Walking 20 minutes a day.",
    },
    {
        "interaction_date": "2025-03-20T09:00:00-07:00",
        "ailment": "Type 2 diabetes mellitus",
        "ailment_code": "E11.9",
        "metrics": {"heart_rate": 76, "bp_systolic": 132, "bp_diastolic": 80, "weight_kg": 81.4},
        "health_status": 8,
        "next_steps": ["HbA1c in 3 months"],
        "labels": ["chronic-care"],
    },
    {
        "interaction_date": "2025-04-02T15:45:00-07:00",
        "ailment": "Seasonal allergic rhinitis",
        "ailment_code": "J30.2",
        "symptoms": ["sneezing", "itchy eyes"],
        "health_status": 8,
        "labels": ["allergy"],
    },
]


def load_demo_data(api: Api) -> tuple[str, str]:
    """Demo data through the public API; the sample patient's id and her first note's id."""
    sample = sample_notes()
    person = dict(sample["patient"])
    patient = api.patient(person.pop("given_name"), person.pop("family_name"), **person)
    note_ids = [
        api.note(patient["id"], note["content"], note["taken_at"], author=note.get("author"))["id"]
        for note in sample["notes"]
    ]
    for visit in VISITS:
        api.interaction(patient["insurance_no"], **visit)
    body = {"count": SYNTHETIC_PATIENTS, "province": "BC", "seed": SYNTHETIC_SEED}
    with api.http.stream("POST", "/api/generate/immunizations", json=body) as answer:
        answer.raise_for_status()
        lines = [json.loads(line) for line in answer.iter_lines() if line.strip()]
    if not lines or not lines[-1].get("done"):
        raise SystemExit(f"loading synthetic patients failed: {lines[-1] if lines else 'no answer'}")
    return patient["id"], note_ids[0]


def shoot(browser: Browser, root: str, pages: dict[str, str]) -> list[str]:
    """Every page at every width; the errors the browser logged on the way."""
    errors: list[str] = []
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for width_name, viewport in VIEWPORTS.items():
        context = browser.new_context(base_url=root, viewport=viewport)
        context.set_default_timeout(30_000)
        for page_name, path in pages.items():
            page = context.new_page()
            record_errors(page, errors)
            page.goto(path)
            page.wait_for_selector("main[data-ready=true]")
            target = OUTPUT / f"{page_name}-{width_name}.png"
            page.screenshot(path=str(target), full_page=True)
            print(f"{target.relative_to(REPO)}")
            page.close()
        context.close()
    return errors


def main() -> int:
    chromium = find_chromium()
    if chromium is None:
        print("Chromium is not installed: no screenshots (apt-get install chromium).", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder, served_gateway(Path(folder) / "fhir.db") as root:
        api = Api(root)
        try:
            patient_id, note_id = load_demo_data(api)
        finally:
            api.close()
        with open_browser(chromium) as browser:
            errors = shoot(browser, root, console_pages(patient_id, note_id))
    if errors:
        print("The browser reported errors:", *errors, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
