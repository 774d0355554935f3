// A note as stored (its text, SOAP sections, vitals and original file), and the form that adds one.

import { download, getJson, request } from "./api.js";
import { append, capitalized, choices, dateTime, facts, field, h, localNow, options, withOffset } from "./dom.js";
import { clearErrors, messageArea, showFailure, showSuccess, showUnopened } from "./forms.js";

const NOTE_TYPES = ["progress", "admission", "consult", "discharge", "nursing", "history-and-physical", "other"];
const VITALS = [
  ["heart_rate", "Heart rate", "/min"],
  ["respiratory_rate", "Respiratory rate", "/min"],
  ["bp_systolic", "Blood pressure, systolic", "mm Hg"],
  ["bp_diastolic", "Blood pressure, diastolic", "mm Hg"],
  ["temperature_c", "Temperature", "°C"],
  ["spo2", "Oxygen saturation", "%"],
  ["weight_kg", "Weight", "kg"],
  ["height_cm", "Height", "cm"],
];
const TEXT_SOURCES = { typed: "typed", pdf: "read from the PDF", ocr: "read from the image (OCR)", none: "none" };

export async function notePage(page) {
  const { patient, note: noteId } = page.params;
  const path = `/patients/${encodeURIComponent(patient)}/notes/${encodeURIComponent(noteId)}`;
  let note;
  try {
    note = await getJson(path);
  } catch (error) {
    showUnopened(page, "Note not found", "The note could not be opened.", error, backToPatient(patient));
    return;
  }
  const heading = `${capitalized(note.note_type)} note`;
  page.title(heading);
  const sections = Object.entries(note.sections || {}).filter(([, text]) => text);
  const vitals = VITALS.filter(([name]) => note.vitals[name] !== null && note.vitals[name] !== undefined);
  const downloadButton = h("button", { type: "button", class: "secondary" }, "Download original");
  const downloadFailure = messageArea();
  downloadButton.addEventListener("click", async () => {
    try {
      await download(await request(`${path}/content`), note.file_name || `note-${note.id}`);
    } catch (error) {
      showFailure(downloadFailure, "The original could not be downloaded.", error);
    }
  });

  append(page.main, 
    h("h1", { tabindex: "-1" }, heading),
    facts([
      ["Taken at", dateTime(note.taken_at)],
      ["Author", note.author],
      ["File", note.file_name ? `${note.file_name} (${note.content_type}, ${note.size} bytes)` : note.content_type],
      ["Text", TEXT_SOURCES[note.text_source]],
    ]),
    h("p", { class: "actions" }, downloadButton, backToPatient(patient)),
    downloadFailure,
    h("h2", {}, "Text"),
    note.text
      ? h("div", { class: "text" }, note.text)
      : h("p", { class: "empty" }, note.text_unavailable || "No text could be read from this note."),
    sections.length
      ? [h("h2", {}, "SOAP sections"), facts(sections.map(([name, text]) => [capitalized(name), text]))]
      : null,
    vitals.length
      ? [h("h2", {}, "Vitals"), facts(vitals.map(([name, label, unit]) => [label, `${note.vitals[name]} ${unit}`]))]
      : null,
    note.vitals_skipped.length
      ? [
          h("h3", {}, "Values not kept as vitals"),
          h("ul", { class: "plain" }, note.vitals_skipped.map((item) => h("li", {}, `${item.name} ${item.value}: ${item.reason}`))),
        ]
      : null,
  );
  page.ready();
}

export async function newNotePage(page) {
  const patient = page.params.patient;
  page.title("Add a note");
  const text = h("textarea", { id: "note-text", rows: "10" });
  const file = h("input", { type: "file", id: "note-file", accept: ".txt,text/plain,application/pdf,image/png,image/jpeg" });
  const takenAt = h("input", { type: "datetime-local", id: "note-taken-at", value: localNow(), required: true });
  const author = h("input", { type: "text", id: "note-author", autocomplete: "name" });
  const noteType = h(
    "select",
    { id: "note-type" },
    options([["", "Let the gateway classify it"], ...NOTE_TYPES.map((type) => [type, capitalized(type)])], ""),
  );
  const typedField = field("Note text", text);
  const fileField = field("File (text, PDF, PNG or JPEG)", file, "The original is kept; its text is read from it.");
  const area = messageArea();
  const save = h("button", { type: "submit" }, "Save note");
  const source = choices(
    "Note from",
    "note-source",
    [
      ["typed", "Typed text"],
      ["file", "A file"],
    ],
    "typed",
    () => showSource(),
  );
  const form = h(
    "form",
    { class: "stacked", novalidate: true },
    source,
    typedField,
    fileField,
    field("Taken at", takenAt),
    field("Author", author),
    field("Note type", noteType, "Left to the gateway, the type is read from the text."),
    h("div", {}, save),
  );

  function fromFile() {
    return form.querySelector('input[name="note-source"]:checked').value === "file";
  }
  function showSource() {
    typedField.hidden = fromFile();
    fileField.hidden = !fromFile();
  }
  showSource();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, area);
    const metadata = { taken_at: withOffset(takenAt.value), author: author.value.trim(), note_type: noteType.value };
    const controls = { taken_at: takenAt, author, note_type: noteType, content: text, file };
    save.disabled = true;
    try {
      let response;
      if (fromFile()) {
        const body = new FormData();
        if (file.files[0]) body.append("file", file.files[0]);
        for (const [name, value] of Object.entries(metadata)) if (value) body.append(name, value);
        response = await request(`/patients/${encodeURIComponent(patient)}/notes`, { method: "POST", form: body });
      } else {
        const json = { content: text.value };
        for (const [name, value] of Object.entries(metadata)) if (value) json[name] = value;
        response = await request(`/patients/${encodeURIComponent(patient)}/notes`, { method: "POST", json });
      }
      const saved = await response.json();
      showSuccess(
        area,
        `Saved as a ${saved.note_type} note.`,
        noteType.value ? "" : " (The gateway classified it.)",
        " ",
        h("a", { href: `/ui/patients/${encodeURIComponent(patient)}/notes/${encodeURIComponent(saved.id)}` }, "Open the note"),
      );
    } catch (error) {
      showFailure(area, "The note was not saved.", error, controls);
    } finally {
      save.disabled = false;
    }
  });

  append(page.main, h("h1", { tabindex: "-1" }, "Add a note"), area, form, backToPatient(patient));
  page.ready();
}

function backToPatient(patient) {
  return h("a", { href: `/ui/patients/${encodeURIComponent(patient)}` }, "Back to the patient");
}
