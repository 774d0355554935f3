// Building pages: elements from plain data, never from HTML strings, so what the API
// answers is always shown as text.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...present(children));
  return element;
}

// Appends `children` to an element, nested lists flattened and gaps skipped, as `h` does.
export function append(element, ...children) {
  element.append(...present(children));
}

// Replaces an element's children with `children`, nested lists flattened and gaps skipped, as `h` does.
export function fill(element, ...children) {
  element.replaceChildren(...present(children));
}

function present(children) {
  return children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false);
}

let uniqueIds = 0;
export function uniqueId(prefix) {
  uniqueIds += 1;
  return `${prefix}-${uniqueIds}`;
}

// A labelled control with a place for its error, which the control names as its description.
export function field(label, control, hint) {
  control.id ||= uniqueId("field");
  const error = h("p", { class: "field-error", id: `${control.id}-error` });
  const described = [error.id];
  let hintElement = null;
  if (hint) {
    hintElement = h("p", { class: "hint", id: `${control.id}-hint` }, hint);
    described.unshift(hintElement.id);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintElement, error);
}

// Radio buttons in a fieldset named by its legend.
export function choices(legend, name, options, checked, onchange) {
  return h(
    "fieldset",
    { class: "field choices" },
    h("legend", {}, legend),
    options.map(([value, label]) => {
      const id = uniqueId(name);
      return h(
        "span",
        {},
        h("input", { type: "radio", id, name, value, checked: value === checked, onchange }),
        " ",
        h("label", { for: id }, label),
      );
    }),
  );
}

export function options(pairs, selected) {
  return pairs.map(([value, label]) => h("option", { value, selected: value === selected }, label));
}

// A definition list of the pairs whose value is known.
export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, value]) => value !== null && value !== undefined && value !== "").map(([term, value]) => [
      h("dt", {}, term),
      h("dd", {}, value),
    ]),
  );
}

// A table that turns into one card per row on a phone (each cell labelled by its column).
export function table(caption, columns, rows, empty) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    { class: "cards" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, column)))),
    h(
      "tbody",
      {},
      rows.map(({ cells, id }) =>
        h("tr", { id }, cells.map((cell, index) => h("td", { "data-label": columns[index] }, cell ?? ""))),
      ),
    ),
  );
}

// "2026-11-30T09:15:00-08:00" as "2026-11-30 09:15": the time as it was recorded, where it was.
export function dateTime(value) {
  if (!value) return "";
  return value.length > 10 ? `${value.slice(0, 10)} ${value.slice(11, 16)}` : value;
}

// The value a datetime-local control starts with: now, on this computer's clock.
export function localNow() {
  const now = new Date();
  now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
  return now.toISOString().slice(0, 16);
}

// A datetime-local value with this computer's offset: the API refuses a time without one.
export function withOffset(local) {
  if (!local) return "";
  const offset = -new Date(local).getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0");
  const minutes = String(Math.abs(offset) % 60).padStart(2, "0");
  const seconds = local.length === 16 ? ":00" : "";
  return `${local}${seconds}${sign}${hours}:${minutes}`;
}

export function capitalized(text) {
  return text ? text[0].toUpperCase() + text.slice(1).replaceAll("-", " ") : "";
}

export function fullName(patient) {
  return [patient.given_name, patient.family_name].filter(Boolean).join(" ") || "Unnamed patient";
}
