// A FHIR resource as the FHIR API answers it: where a summary's fact came from, when the
// console has no page of its own for that kind of record.

import { getJson } from "./api.js";
import { append, h } from "./dom.js";
import { messageArea, showFailure } from "./forms.js";

export async function resourcePage(page) {
  const { type, id } = page.params;
  const heading = `${type} ${id}`;
  page.title(heading);
  append(page.main, h("h1", { tabindex: "-1" }, heading));
  try {
    const resource = await getJson(`/fhir/${type}/${encodeURIComponent(id)}`);
    append(page.main, 
      h("p", {}, "As the FHIR API answers it (", h("code", {}, `GET /fhir/${type}/${id}`), "):"),
      h("pre", { class: "json" }, JSON.stringify(resource, null, 2)),
    );
  } catch (error) {
    const failure = messageArea();
    append(page.main, failure);
    showFailure(failure, "The resource could not be read.", error);
  }
  page.ready();
}
