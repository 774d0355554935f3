// One patient: who they are, and what is recorded about them.

import { getJson } from "./api.js";
import { append, capitalized, dateTime, facts, fullName, h, table } from "./dom.js";
import { showUnopened } from "./forms.js";

const LIST = { size: 100 };

export async function patientPage(page) {
  const id = page.params.patient;
  const base = `/patients/${encodeURIComponent(id)}`;
  let patient;
  try {
    patient = await getJson(base);
  } catch (error) {
    showUnopened(page, "Patient not found", "The patient could not be opened.", error);
    return;
  }
  const name = fullName(patient);
  page.title(name);
  const ui = `/ui/patients/${encodeURIComponent(id)}`;
  const [immunizations, allergies, notes] = await Promise.allSettled([
    getJson(`${base}/immunizations`, LIST),
    getJson(`${base}/allergies`, LIST),
    getJson(`${base}/notes`, LIST),
  ]);
  const interactions = h("div");

  append(page.main, 
    h("h1", { tabindex: "-1" }, name),
    facts([
      ["Birth date", patient.birth_date],
      ["Gender", capitalized(patient.gender)],
      ["Health number", patient.insurance_no],
      ["Province", patient.province],
      ["MRN", patient.mrn],
      ["Phone", patient.phone],
      ["Email", patient.email],
      ["Address", address(patient.address)],
    ]),
    h(
      "p",
      { class: "actions" },
      h("a", { href: `${ui}/notes/new` }, "Add a note"),
      h("a", { href: `${ui}/interactions/new` }, "Record an interaction"),
      h("a", { href: `${ui}/summary` }, "Summary"),
    ),
    section("Immunizations", immunizations, (found) =>
      table(
        "Immunizations",
        ["Date", "Vaccine", "Status", "Dose", "Lot"],
        found.items.map((item) => ({
          id: `immunization-${item.id}`,
          cells: [dateTime(item.occurred), item.vaccine, item.status, item.dose_number, item.lot_number],
        })),
        "No immunizations recorded.",
      ),
    ),
    section("Allergies", allergies, (found) =>
      table(
        "Allergies",
        ["Substance", "Criticality", "Status", "Reactions"],
        found.items.map((item) => ({
          id: `allergy-${item.id}`,
          cells: [item.substance, item.criticality, item.clinical_status, item.reactions.join(", ")],
        })),
        "No allergies recorded.",
      ),
    ),
    h("section", { "aria-labelledby": "interactions-heading" }, h("h2", { id: "interactions-heading" }, "Interactions"), interactions),
    section("Notes", notes, (found) =>
      table(
        "Notes",
        ["Date", "Type", "Author", "Note"],
        found.items.map((note) => ({
          cells: [
            dateTime(note.taken_at),
            capitalized(note.note_type),
            note.author,
            h(
              "a",
              { href: `${ui}/notes/${encodeURIComponent(note.id)}` },
              `Open note of ${dateTime(note.taken_at)}`,
            ),
          ],
        })),
        "No notes yet.",
      ),
    ),
  );
  await interactionList(interactions, `${base}/interactions`, page);
  page.ready();
}

function section(title, settled, render) {
  const id = `${title.toLowerCase()}-heading`;
  const body =
    settled.status === "fulfilled"
      ? render(settled.value)
      : h("p", { class: "message error", role: "alert" }, `The ${title.toLowerCase()} could not be listed. ${settled.reason.plain}`);
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), body);
}

function address(value) {
  if (!value) return null;
  return [...(value.line || []), value.city, value.province, value.postal_code].filter(Boolean).join(", ");
}

// The interactions, filtered by a label on the server.
async function interactionList(container, path, page) {
  const label = h("input", { type: "text", id: "interaction-label", autocomplete: "off" });
  const list = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { role: "search", "aria-label": "Filter interactions", class: "toolbar" },
    h("div", { class: "field" }, h("label", { for: label.id }, "Filter by label"), label),
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", class: "secondary", onclick: () => { label.value = ""; load(); } }, "Clear"),
  );
  container.append(form, list);

  async function load() {
    page.loading();
    const filter = label.value.trim().toLowerCase();
    try {
      const found = await getJson(path, { ...LIST, label: filter });
      list.replaceChildren(
        table(
          "Interactions",
          ["Date", "Ailment", "Labels", "Health status"],
          found.items.map((item) => ({
            id: `interaction-${item.id}`,
            cells: [
              dateTime(item.interaction_date),
              [item.ailment, item.ailment_code && ` (${item.ailment_code})`].filter(Boolean).join(""),
              item.labels.map((text) => h("span", { class: "tag" }, text)),
              item.health_status ? `${item.health_status} of 10` : "",
            ],
          })),
          filter ? `No interaction has the label “${filter}”.` : "No interactions recorded.",
        ),
      );
    } catch (error) {
      list.replaceChildren(h("p", { class: "message error", role: "alert" }, `The interactions could not be listed. ${error.plain}`));
    }
    page.ready();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  await load();
}
