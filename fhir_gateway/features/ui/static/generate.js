// Synthetic data: immunization records made and stored with progress as each batch lands,
// and the clinical generator's formats as downloads.

import { download, request } from "./api.js";
import { append, field, h, options } from "./dom.js";
import { clearErrors, messageArea, showFailure, showSuccess } from "./forms.js";

const PROVINCES = [
  ["BC", "British Columbia (BC)"],
  ["ON", "Ontario (ON)"],
];
const FORMATS = [
  ["fhir", "FHIR transaction Bundle"],
  ["ndjson", "NDJSON"],
  ["csv", "CSV"],
  ["x12-834", "X12 834 enrolment"],
  ["x12-837", "X12 837P claims"],
];
const TABLES = [
  ["patients", "patients"],
  ["encounters", "encounters"],
  ["claim_lines", "claim_lines"],
];

export async function generatePage(page) {
  page.title("Generate synthetic data");
  append(page.main, 
    h("h1", { tabindex: "-1" }, "Generate synthetic data"),
    h("p", {}, "Every record is made up: the names, the numbers and the care. The same seed makes the same records."),
    loadSection(),
    downloadSection(),
  );
  page.ready();
}

// A seed as the API takes it: digits are a number; anything else is sent as typed, for the API to refuse by name.
function seedOf(control) {
  const text = control.value.trim();
  if (!text) return undefined;
  return /^\d+$/.test(text) ? Number(text) : text;
}

function loadSection() {
  const province = h("select", { id: "load-province" }, options(PROVINCES, "BC"));
  const count = h("input", { type: "number", id: "load-count", min: "1", max: "1000", value: "20" });
  const seed = h("input", { type: "text", id: "load-seed", inputmode: "numeric", autocomplete: "off" });
  const progress = h("progress", { id: "load-progress", max: "1", value: "0" });
  const status = h("p", { role: "status" });
  const area = messageArea();
  const loaded = h("div");
  const start = h("button", { type: "submit" }, "Generate and load");
  const form = h(
    "form",
    { class: "stacked", novalidate: true },
    field("Province", province),
    field("Records", count, "1 to 1000; more is the command line's work (python -m generators immunizations)."),
    field("Seed (optional)", seed, "A whole number; empty for a random one."),
    h("div", {}, start),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, area);
    status.textContent = "";
    loaded.replaceChildren();
    const body = { count: count.value === "" ? null : Number(count.value), province: province.value };
    if (seedOf(seed) !== undefined) body.seed = seedOf(seed);
    start.disabled = true;
    const links = h("ul", { class: "plain" });
    try {
      const response = await request("/api/generate/immunizations", { method: "POST", json: body });
      progress.max = body.count;
      progress.value = 0;
      loaded.append(h("h3", {}, "Patients loaded"), links);
      let last = null;
      for await (const line of jsonLines(response)) {
        if (line.error) {
          showFailure(area, "Loading stopped:", { plain: line.error, fieldErrors: [] });
          break;
        }
        if (line.done) {
          showSuccess(area, `Stored ${line.loaded} records with seed ${line.seed}; loading that seed again changes nothing.`);
          break;
        }
        last = line;
        progress.value = line.loaded;
        status.textContent = `Loaded ${line.loaded} of ${line.count} records.`;
        links.append(
          ...line.patients.map((patient) =>
            h("li", {}, h("a", { href: `/ui/patients/${encodeURIComponent(patient.id)}` }, patient.name)),
          ),
        );
      }
      if (last === null) loaded.replaceChildren();
    } catch (error) {
      showFailure(area, "The records were not loaded.", error, { count, province, seed });
    } finally {
      start.disabled = false;
    }
  });

  return h(
    "section",
    { "aria-labelledby": "load-heading" },
    h("h2", { id: "load-heading" }, "Load immunization records"),
    h("p", {}, "Patients with their immunizations (and, in BC, an allergy), stored in the FHIR server in batches."),
    form,
    h("div", { class: "field" }, h("label", { for: progress.id }, "Loading progress"), progress),
    status,
    area,
    loaded,
  );
}

// The objects of an NDJSON answer, as each line arrives.
async function* jsonLines(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    const lines = buffered.split("\n");
    buffered = lines.pop();
    for (const line of lines) if (line.trim()) yield JSON.parse(line);
  }
  if (buffered.trim()) yield JSON.parse(buffered);
}

function downloadSection() {
  const format = h("select", { id: "download-format" }, options(FORMATS, "ndjson"));
  const table = h("select", { id: "download-table" }, options(TABLES, "patients"));
  const count = h("input", { type: "number", id: "download-count", min: "1", max: "10000", value: "100" });
  const province = h("select", { id: "download-province" }, options(PROVINCES, "BC"));
  const seed = h("input", { type: "text", id: "download-seed", inputmode: "numeric", autocomplete: "off" });
  const area = messageArea();
  const start = h("button", { type: "submit" }, "Download");
  const tableField = field("CSV table", table);
  const form = h(
    "form",
    { class: "stacked", novalidate: true },
    field("Format", format),
    tableField,
    field("Patients", count, "1 to 10000 patients' records; more is the command line's work (python -m generators clinical)."),
    field("Province", province),
    field("Seed", seed, "A whole number; empty for a random one."),
    h("div", {}, start),
  );
  const showTable = () => {
    tableField.hidden = format.value !== "csv";
  };
  format.addEventListener("change", showTable);
  showTable();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, area);
    const generateOptions = { province: province.value };
    if (format.value === "csv") generateOptions.table = table.value;
    const body = { count: count.value === "" ? null : Number(count.value), options: generateOptions };
    if (seedOf(seed) !== undefined) body.seed = seedOf(seed);
    start.disabled = true;
    try {
      const response = await request(`/api/generate/${format.value}`, { method: "POST", json: body });
      await download(response, `synthetic.${format.value}`);
      showSuccess(area, `Downloaded, made with seed ${response.headers.get("X-Generator-Seed")}.`);
    } catch (error) {
      showFailure(area, "Nothing was downloaded.", error, { count, seed, "options.province": province, "options.table": table });
    } finally {
      start.disabled = false;
    }
  });

  return h(
    "section",
    { "aria-labelledby": "download-heading" },
    h("h2", { id: "download-heading" }, "Download synthetic data"),
    h("p", {}, "Clinical records (diagnoses, visits, labs, prescriptions, claims) in the format a system takes."),
    area,
    form,
  );
}
