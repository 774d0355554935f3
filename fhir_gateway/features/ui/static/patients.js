// Patients: a search that answers as you type, sorting and paging, all kept in the address
// (?q=…&sort=…&page=…) so that a result can be linked to and Back returns to it.

import { getJson } from "./api.js";
import { append, fullName, h, options, table } from "./dom.js";
import { messageArea, showFailure } from "./forms.js";

const PAGE_SIZE = 20;
const TYPING_PAUSE_MS = 250;
const SORTS = [
  ["", "Best match"],
  ["family_name,given_name", "Family name, A to Z"],
  ["-family_name,-given_name", "Family name, Z to A"],
  ["birth_date,family_name", "Birth date, oldest first"],
  ["-birth_date,family_name", "Birth date, newest first"],
];

export async function patientsPage(page) {
  page.title("Patients");
  const state = {
    q: page.query.get("q") || "",
    sort: page.query.get("sort") || "",
    page: Math.max(1, Number.parseInt(page.query.get("page") || "1", 10) || 1),
  };

  const search = h("input", {
    type: "search",
    id: "patient-search",
    value: state.q,
    autocomplete: "off",
    "aria-describedby": "patient-search-hint",
  });
  const sort = h("select", { id: "patient-sort" }, options(SORTS, state.sort));
  const status = h("p", { role: "status", class: "hint" });
  const failure = messageArea();
  const results = h("div");
  const previous = h("button", { type: "button", class: "secondary" }, "Previous page");
  const next = h("button", { type: "button", class: "secondary" }, "Next page");
  const position = h("span");

  append(page.main, 
    h("h1", { tabindex: "-1" }, "Patients"),
    h(
      "div",
      { class: "toolbar" },
      h(
        "div",
        { class: "field search" },
        h("label", { for: search.id }, "Search patients by name"),
        search,
        h("p", { class: "hint", id: "patient-search-hint" }, "Part of a name is enough; small typos are forgiven."),
      ),
      h("div", { class: "field" }, h("label", { for: sort.id }, "Sort by"), sort),
    ),
    status,
    failure,
    results,
    h("nav", { "aria-label": "Pages", class: "pager" }, previous, position, next),
  );

  let latest = 0;
  async function load() {
    const asked = ++latest;
    page.loading();
    const url = new URLSearchParams();
    if (state.q) url.set("q", state.q);
    if (state.sort) url.set("sort", state.sort);
    if (state.page > 1) url.set("page", String(state.page));
    history.replaceState(null, "", `/ui${url.size ? `?${url}` : ""}`);
    // Without a search, "best match" means the list's own order (by name).
    const sortBy = state.sort || (state.q ? "" : "family_name,given_name");
    try {
      const found = await getJson("/patients", { q: state.q, sort: sortBy, page: state.page, size: PAGE_SIZE });
      if (asked !== latest) return; // a later search is already on its way
      failure.replaceChildren();
      failure.className = "message";
      showResults(found);
    } catch (error) {
      if (asked !== latest) return;
      results.replaceChildren();
      status.textContent = "";
      showFailure(failure, "The patients could not be listed.", error);
      failure.blur();
    }
    page.ready();
  }

  function showResults(found) {
    const pages = Math.max(1, Math.ceil(found.total / found.size));
    const counted = `${found.total} ${found.total === 1 ? "patient" : "patients"}`;
    status.textContent = found.total
      ? state.q
        ? `${counted} match “${state.q}”.`
        : `${counted}.`
      : state.q
        ? `No patient matches “${state.q}”.`
        : "No patients yet: generate some from the Generate data page.";
    results.replaceChildren(
      table(
        "Patients",
        ["Name", "Birth date", "Gender", "Health number"],
        found.items.map((patient) => ({
          cells: [
            h("a", { href: `/ui/patients/${encodeURIComponent(patient.id)}` }, fullName(patient)),
            patient.birth_date,
            patient.gender,
            patient.insurance_no,
          ],
        })),
        "",
      ),
    );
    position.textContent = `Page ${found.page} of ${pages}`;
    previous.disabled = found.page <= 1;
    next.disabled = found.page >= pages;
  }

  let pause;
  search.addEventListener("input", () => {
    clearTimeout(pause);
    pause = setTimeout(() => {
      state.q = search.value.trim();
      state.page = 1;
      load();
    }, TYPING_PAUSE_MS);
  });
  search.closest("div").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      clearTimeout(pause);
      state.q = search.value.trim();
      state.page = 1;
      load();
    }
  });
  sort.addEventListener("change", () => {
    state.sort = sort.value;
    state.page = 1;
    load();
  });
  previous.addEventListener("click", () => {
    state.page -= 1;
    load();
  });
  next.addEventListener("click", () => {
    state.page += 1;
    load();
  });
  await load();
}

