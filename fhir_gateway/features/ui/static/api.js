// The public API, as any client calls it: the console has no access of its own. A key typed
// into the header's field is sent as a Bearer token and kept for this tab only.

const KEY = "fhir-gateway-api-key";

export function apiKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

// A refused or failed request, with the API's problem details and a sentence for people.
export class ApiError extends Error {
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.fieldErrors = (problem.errors || []).map((error) => ({
      field: fieldName(error.loc || []),
      message: error.msg,
    }));
  }

  get plain() {
    const detail = this.problem.detail ? ` (${this.problem.detail})` : "";
    switch (this.status) {
      case 0:
        return "The gateway could not be reached. Check that it is running and try again.";
      case 401:
        return "The gateway needs an API key: type yours into the API key field at the top of the page.";
      case 403:
        return `Your API key does not allow this${detail}.`;
      case 404:
      case 410:
        return "It is not there: it may have been deleted, or the link is wrong.";
      case 413:
        return "That is too large for the gateway to take.";
      case 429:
        return "Too many requests at once: wait a moment, then try again.";
      case 502:
      case 503:
      case 504:
        return `The FHIR server is not answering properly right now; try again in a moment${detail}.`;
      default:
        return this.problem.detail || this.problem.title || `The gateway answered with an error (${this.status}).`;
    }
  }
}

// ["body", "metrics", "heart_rate"] -> "metrics.heart_rate"
function fieldName(loc) {
  const path = loc[0] === "body" || loc[0] === "query" ? loc.slice(1) : loc;
  return path.filter((part) => typeof part === "string").join(".");
}

export async function request(path, { method = "GET", query, json, form } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    for (const item of [value].flat()) {
      if (item !== null && item !== undefined && item !== "") url.searchParams.append(name, item);
    }
  }
  const headers = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body });
  } catch {
    throw new ApiError(0);
  }
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      // Not problem details (a proxy's page, say): the status speaks for itself.
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function getJson(path, query) {
  return (await request(path, { query })).json();
}

// The file name a download's Content-Disposition gives, or `fallback`.
export function fileName(response, fallback) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/.exec(disposition);
  return match ? match[1] : fallback;
}

// Hands a response's bytes to the browser as a download.
export async function download(response, fallback) {
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = fileName(response, fallback);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}
