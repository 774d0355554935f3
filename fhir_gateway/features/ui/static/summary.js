// The patient summary: who reads it and how long it is are switches; every key fact links
// to the record it was taken from, and what the grounding check found is shown, not hidden.

import { getJson } from "./api.js";
import { append, choices, dateTime, facts, fill, h } from "./dom.js";
import { messageArea, showFailure } from "./forms.js";

const AUDIENCES = [
  ["clinician", "Clinician"],
  ["family", "Family"],
];
const LENGTHS = [
  ["brief", "Brief"],
  ["standard", "Standard"],
  ["detailed", "Detailed"],
];
const KINDS = [
  ["diagnoses", "Diagnoses"],
  ["medications", "Medications"],
  ["allergies", "Allergies"],
  ["immunizations", "Immunizations"],
  ["observations", "Observations"],
];
// Where the console shows each kind of source; the rest open as FHIR resources.
const FHIR_TYPES = { observation: "Observation", condition: "Condition", medication: "MedicationRequest" };

export async function summaryPage(page) {
  const patient = page.params.patient;
  const ui = `/ui/patients/${encodeURIComponent(patient)}`;
  const chosen = {
    audience: valueOf(page.query.get("audience"), AUDIENCES, "clinician"),
    length: valueOf(page.query.get("length"), LENGTHS, "standard"),
  };
  const heading = h("h1", { tabindex: "-1" }, "Summary");
  const content = h("div", { "aria-live": "polite" });
  const failure = messageArea();
  const change = (event) => {
    chosen[event.target.name] = event.target.value;
    load();
  };
  append(page.main, 
    heading,
    h(
      "div",
      { class: "toolbar" },
      choices("Audience", "audience", AUDIENCES, chosen.audience, change),
      choices("Length", "length", LENGTHS, chosen.length, change),
    ),
    failure,
    content,
    h("p", {}, h("a", { href: ui }, "Back to the patient")),
  );

  async function load() {
    page.loading();
    history.replaceState(null, "", `${ui}/summary?${new URLSearchParams(chosen)}`);
    try {
      const summary = await getJson(`/patients/${encodeURIComponent(patient)}/summary`, chosen);
      failure.className = "message";
      failure.replaceChildren();
      const name = summary.heading.name || "the patient";
      heading.textContent = `Summary of ${name}`;
      page.title(`Summary of ${name}`);
      fill(content, render(summary, ui));
    } catch (error) {
      content.replaceChildren();
      page.title("Summary");
      showFailure(failure, "The summary could not be made.", error);
    }
    page.ready();
  }
  await load();
}

// The address's choice when it is one of `allowed`, else the API's default.
function valueOf(value, allowed, fallback) {
  return allowed.some(([known]) => known === value) ? value : fallback;
}

function render(summary, ui) {
  const generator = summary.generator;
  const written = generator.kind === "openai" ? `openai (${generator.model || "model not named"})` : generator.kind;
  const kinds = KINDS.filter(([kind]) => summary.key_facts[kind]?.length);
  return [
    facts([
      ["Age", summary.heading.age !== null ? `${summary.heading.age} years` : null],
      ["Birth date", summary.heading.birth_date],
      ["Gender", summary.heading.gender],
      ["MRN", summary.heading.mrn],
    ]),
    summary.warnings.length
      ? [
          h("h2", {}, "Warnings"),
          h("p", {}, "The grounding check found statements it could not trace to the record:"),
          h("ul", { class: "plain" }, summary.warnings.map((warning) => h("li", {}, warning))),
        ]
      : null,
    h("h2", {}, "Narrative"),
    summary.narrative.split(/\n{2,}/).map((paragraph) => h("p", {}, paragraph)),
    h("p", { class: "hint" }, `Written by: ${written}. Made ${dateTime(summary.generated_at)}.`),
    h("h2", {}, "Key facts"),
    kinds.length
      ? kinds.map(([kind, title]) => [
          h("h3", {}, title),
          h(
            "ul",
            { class: "plain" },
            summary.key_facts[kind].map((fact) =>
              h("li", {}, h("a", { href: sourceLink(fact.source, ui) }, fact.text), fact.date && !fact.text.includes(fact.date.slice(0, 10)) ? ` (${fact.date.slice(0, 10)})` : ""),
            ),
          ),
        ])
      : h("p", { class: "empty" }, "Nothing is recorded yet that a summary could state."),
  ];
}

function sourceLink(source, ui) {
  const id = encodeURIComponent(source.id);
  if (source.type === "note") return `${ui}/notes/${id}`;
  if (FHIR_TYPES[source.type]) return `/ui/fhir/${FHIR_TYPES[source.type]}/${id}`;
  return `${ui}#${source.type}-${id}`;
}
