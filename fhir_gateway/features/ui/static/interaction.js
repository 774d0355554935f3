// Recording an interaction: the API's own checks answer, each next to its field.

import { getJson, request } from "./api.js";
import { append, field, fullName, h, localNow, withOffset } from "./dom.js";
import { clearErrors, messageArea, showFailure, showSuccess } from "./forms.js";

export async function interactionPage(page) {
  const patientId = page.params.patient;
  page.title("Record an interaction");
  let patient = null;
  if (patientId) {
    try {
      patient = await getJson(`/patients/${encodeURIComponent(patientId)}`);
    } catch {
      // The form still works with a health number typed in; the patient's page says what failed.
    }
  }

  const input = (id, attributes = {}) => h("input", { type: "text", id, autocomplete: "off", ...attributes });
  const number = (id, min, max, step) => h("input", { type: "number", id, min, max, step, inputmode: "decimal" });
  const controls = {
    insurance_no: input("interaction-insurance-no", { value: patient?.insurance_no || "", inputmode: "numeric" }),
    interaction_date: h("input", { type: "datetime-local", id: "interaction-date", value: localNow() }),
    ailment: input("interaction-ailment"),
    ailment_code: input("interaction-ailment-code"),
    symptoms: h("textarea", { id: "interaction-symptoms", rows: "3" }),
    next_steps: h("textarea", { id: "interaction-next-steps", rows: "3" }),
    labels: input("interaction-labels"),
    remarks: h("textarea", { id: "interaction-remarks", rows: "3" }),
    health_status: number("interaction-health-status", "1", "10", "1"),
    heart_rate: number("interaction-heart-rate", "20", "250", "1"),
    temperature_c: number("interaction-temperature", "30", "45", "0.1"),
  };
  const area = messageArea();
  const save = h("button", { type: "submit" }, "Save interaction");
  const form = h(
    "form",
    { class: "stacked", novalidate: true },
    field("Health number", controls.insurance_no, "The patient's provincial health number."),
    field("Date and time", controls.interaction_date),
    field("Ailment", controls.ailment),
    field("Ailment code (ICD-10-CM)", controls.ailment_code, "For example J30.1."),
    field("Symptoms (one per line)", controls.symptoms),
    field("Health status (1 to 10)", controls.health_status, "1 is the worst, 10 the best."),
    field("Heart rate (/min)", controls.heart_rate),
    field("Temperature (°C)", controls.temperature_c),
    field("Next steps (one per line)", controls.next_steps),
    field("Labels (comma-separated)", controls.labels, "Words to find it by later, such as follow-up."),
    field("Remarks", controls.remarks),
    h("div", {}, save),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, area);
    save.disabled = true;
    try {
      const response = await request("/interactions", { method: "POST", json: body(controls) });
      const saved = await response.json();
      showSuccess(
        area,
        "Interaction recorded. ",
        h("a", { href: `/ui/patients/${encodeURIComponent(saved.patient_id)}` }, "Back to the patient"),
      );
    } catch (error) {
      // The metrics come back as metrics.heart_rate: their controls answer to that name too.
      const named = { ...controls, "metrics.heart_rate": controls.heart_rate, "metrics.temperature_c": controls.temperature_c };
      showFailure(area, "The interaction was not saved:", error, named);
    } finally {
      save.disabled = false;
    }
  });

  append(page.main, 
    h("h1", { tabindex: "-1" }, "Record an interaction"),
    patient ? h("p", {}, `For ${fullName(patient)}.`) : null,
    area,
    form,
  );
  page.ready();
}

// What the form says, as the API takes it: empty fields are left out, lists split.
function body(controls) {
  const text = (name) => controls[name].value.trim();
  const lines = (name) => text(name).split("\n").map((line) => line.trim()).filter(Boolean);
  const json = { insurance_no: text("insurance_no"), interaction_date: withOffset(controls.interaction_date.value) };
  for (const name of ["ailment", "ailment_code", "remarks"]) if (text(name)) json[name] = text(name);
  for (const name of ["symptoms", "next_steps"]) if (lines(name).length) json[name] = lines(name);
  const labels = text("labels").split(",").map((label) => label.trim().toLowerCase()).filter(Boolean);
  if (labels.length) json.labels = labels;
  // A number control whose text is no number has an empty value: its text is sent instead,
  // so that the API refuses it by the field's name rather than the form dropping it unsaid.
  const numberOf = (name) => {
    const control = controls[name];
    if (control.validity.badInput) return "not a number";
    return control.value === "" ? null : Number(control.value);
  };
  if (numberOf("health_status") !== null) json.health_status = numberOf("health_status");
  const metrics = {};
  for (const name of ["heart_rate", "temperature_c"]) if (numberOf(name) !== null) metrics[name] = numberOf(name);
  if (Object.keys(metrics).length) json.metrics = metrics;
  return json;
}
