// The HTTP API v1, as the pages call it: the session token from sessionStorage as a Bearer token, JSON in
// and out, and every refusal as an ApiError carrying the RFC 9457 problem document.
const TOKEN = "cf.token";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN, value);
  else sessionStorage.removeItem(TOKEN);
}

// Returns {data, headers}; throws ApiError for any answer that is not 2xx.
export async function request(path, { method = "GET", body, headers = {}, as = "json" } = {}) {
  const sent = { Accept: as === "json" ? "application/json" : "*/*", ...headers };
  const secret = token();
  if (secret) sent.Authorization = `Bearer ${secret}`;
  let payload;
  if (body !== undefined) {
    sent["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers: sent, body: payload, credentials: "same-origin" });
  if (!response.ok) {
    let problem;
    try {
      problem = await response.json();
    } catch {
      problem = { title: response.statusText, status: response.status };
    }
    // An expired or revoked session: the page goes back to the login form (main.js listens).
    if (response.status === 401 && secret) window.dispatchEvent(new CustomEvent("cf:unauthenticated"));
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204) return { data: null, headers: response.headers };
  const data = as === "blob" ? await response.blob() : await response.json();
  return { data, headers: response.headers };
}

export async function api(path, options) {
  return (await request(path, options)).data;
}

// A key for Idempotency-Key: random, and available on plain http too (crypto.randomUUID needs https).
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
