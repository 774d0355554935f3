// What a failed save shows: a sentence for the whole form, and each field's message next
// to it. Nothing the user typed is touched.

import { append, fill, h } from "./dom.js";

export function messageArea() {
  return h("div", { class: "message", tabindex: "-1" });
}

export function clearErrors(form, area) {
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  for (const error of form.querySelectorAll(".field-error")) error.textContent = "";
  area.className = "message";
  area.removeAttribute("role");
  area.replaceChildren();
}

// `controls` maps the API's field names to the controls that hold them.
export function showFailure(area, sentence, error, controls = {}) {
  const unplaced = [];
  for (const { field, message } of error.fieldErrors || []) {
    const control = controls[field] || controls[field.split(".")[0]];
    const slot = control && document.getElementById(`${control.id}-error`);
    if (slot) {
      control.setAttribute("aria-invalid", "true");
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    } else {
      unplaced.push(field ? `${field}: ${message}` : message);
    }
  }
  area.className = "message error";
  area.setAttribute("role", "alert");
  const fields = (error.fieldErrors || []).length;
  const summary = fields && fields > unplaced.length ? " The fields that need attention say why." : "";
  fill(
    area,
    `${sentence} ${error.plain}${summary}`,
    unplaced.length ? h("ul", {}, unplaced.map((text) => h("li", {}, text))) : null,
  );
  area.focus();
}

export function showSuccess(area, ...content) {
  area.className = "message ok";
  area.setAttribute("role", "status");
  fill(area, content);
}

// A page whose record could not be read: its heading, why in plain words, and `after`.
export function showUnopened(page, heading, sentence, error, ...after) {
  const failure = messageArea();
  page.title(heading);
  append(page.main, h("h1", { tabindex: "-1" }, heading), failure, after);
  showFailure(failure, sentence, error);
  page.ready();
}
