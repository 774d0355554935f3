// The console's entry point: which page a path is, links that stay in the page, and the key.

import { apiKey, getJson, setApiKey } from "./api.js";
import { h } from "./dom.js";
import { generatePage } from "./generate.js";
import { interactionPage } from "./interaction.js";
import { newNotePage, notePage } from "./note.js";
import { patientPage } from "./patient.js";
import { patientsPage } from "./patients.js";
import { resourcePage } from "./resource.js";
import { summaryPage } from "./summary.js";

// Path patterns, most specific first; each page draws itself into <main>.
const ROUTES = [
  [/^\/ui\/?$/, patientsPage],
  [/^\/ui\/generate\/?$/, generatePage],
  [/^\/ui\/interactions\/new\/?$/, interactionPage],
  [/^\/ui\/patients\/(?<patient>[^/]+)\/notes\/new\/?$/, newNotePage],
  [/^\/ui\/patients\/(?<patient>[^/]+)\/notes\/(?<note>[^/]+)\/?$/, notePage],
  [/^\/ui\/patients\/(?<patient>[^/]+)\/interactions\/new\/?$/, interactionPage],
  [/^\/ui\/patients\/(?<patient>[^/]+)\/summary\/?$/, summaryPage],
  [/^\/ui\/patients\/(?<patient>[^/]+)\/?$/, patientPage],
  [/^\/ui\/fhir\/(?<type>[A-Za-z]+)\/(?<id>[^/]+)\/?$/, resourcePage],
];

const main = document.getElementById("main");

// What a page gets: where to draw, the path's parts, and `ready()` to call once its data is shown.
function context(params) {
  return {
    main,
    params,
    query: new URLSearchParams(location.search),
    title(text) {
      document.title = `${text} · FHIR Gateway console`;
    },
    loading() {
      delete main.dataset.ready;
    },
    ready() {
      main.dataset.ready = "true";
    },
  };
}

async function show({ focus = false } = {}) {
  delete main.dataset.ready;
  const path = location.pathname;
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(path);
    if (match) {
      const params = Object.fromEntries(
        Object.entries(match.groups || {}).map(([name, value]) => [name, decodeURIComponent(value)]),
      );
      main.replaceChildren();
      await page(context(params));
      if (focus) (main.querySelector("h1") || main).focus();
      if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
      return;
    }
  }
  const page = context({});
  page.title("Page not found");
  main.replaceChildren(
    h("h1", { tabindex: "-1" }, "Page not found"),
    h("p", {}, "The console has no page at this address. ", h("a", { href: "/ui" }, "Go to the patients.")),
  );
  page.ready();
}

export function navigate(href) {
  history.pushState(null, "", href);
  show({ focus: true });
}

// Links inside the console change the page without reloading it; others behave as links do.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/ui")) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
});
window.addEventListener("popstate", () => show({ focus: true }));

// The key field: a key is tried at once, so a wrong one is said before any page fails.
const keyForm = document.getElementById("key-form");
const keyInput = document.getElementById("api-key");
const keyState = document.getElementById("key-state");

async function describeAccess() {
  try {
    await getJson("/patients", { size: 1 });
    keyState.textContent = apiKey() ? "Key accepted." : "No key needed (local development).";
  } catch (error) {
    keyState.textContent = error.status === 401 ? (apiKey() ? "That key was refused." : "A key is needed.") : "";
  }
}

keyInput.value = apiKey();
keyForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  await describeAccess();
  show();
});

describeAccess();
show();
