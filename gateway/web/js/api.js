// The JSON API under /api/v1: tokens in sessionStorage, Accept-Language from the UI,
// one transparent refresh when the access token has expired, one error type.
import { getLang, t } from "./i18n.js";

const BASE = "/api/v1";
const KEY = "gongdan.session";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

// ---- the session ------------------------------------------------------------------

function load() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch (e) { return null; }
}

let session = load();

function save(next) {
  session = next;
  if (next) sessionStorage.setItem(KEY, JSON.stringify(next));
  else sessionStorage.removeItem(KEY);
}

export function signedIn() { return Boolean(session && session.access_token); }
export function currentUser() { return session ? session.user : null; }
/** For EventSource, which cannot send an Authorization header (views/inbox.js). */
export function accessToken() { return session ? session.access_token : null; }

function keep(pair) {
  save({ access_token: pair.access_token, refresh_token: pair.refresh_token,
    user: pair.user || (session && session.user) || null });
}

// ---- requests ---------------------------------------------------------------------

function url(path, query) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v === null || v === undefined || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => qs.append(k, x));
    else qs.append(k, String(v));
  }
  const s = qs.toString();
  return BASE + path + (s ? `?${s}` : "");
}

async function send(method, path, opts) {
  const headers = { Accept: "application/json", "Accept-Language": getLang(), ...(opts.headers || {}) };
  let body;
  if (opts.form) body = opts.form; // the browser sets the multipart boundary
  else if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  if (opts.auth !== false && session && session.access_token) {
    headers.Authorization = `Bearer ${session.access_token}`;
  }
  if (opts.onProgress || opts.signal) return sendXhr(method, url(path, opts.query), headers, body, opts);
  let res;
  try {
    res = await fetch(url(path, opts.query), { method, headers, body, credentials: "omit" });
  } catch (e) {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (res.status === 204) return { res, data: null };
  const type = res.headers.get("Content-Type") || "";
  let data = null;
  if (type.includes("json")) {
    try { data = await res.json(); } catch (e) { data = null; }
  }
  if (!res.ok) throw apiError(res.status, data);
  return { res, data };
}

function apiError(status, data) {
  const e = data && data.error;
  return e && e.message
    ? new ApiError(status, e.code, e.message, e.details)
    : new ApiError(status, "http_error", t("error.http", { status }));
}

/**
 * The same request by XMLHttpRequest, for uploads: fetch() reports no upload progress.
 * opts.onProgress(loaded, total) as the body goes out; opts.signal (an AbortSignal) cancels.
 */
function sendXhr(method, target, headers, body, opts) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, target);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    if (opts.onProgress) {
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) opts.onProgress(e.loaded, e.total);
      });
    }
    xhr.addEventListener("load", () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch (e) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ res: null, data });
      else reject(apiError(xhr.status, data));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", t("error.network"))));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "aborted", t("upload.cancelled"))));
    if (opts.signal) {
      if (opts.signal.aborted) { reject(new ApiError(0, "aborted", t("upload.cancelled"))); return; }
      opts.signal.addEventListener("abort", () => xhr.abort());
    }
    xhr.send(body === undefined ? null : body);
  });
}

let refreshing = null;

/** Refresh tokens work once, so concurrent 401s share one refresh. */
function refreshOnce() {
  if (!refreshing) {
    const token = session && session.refresh_token;
    refreshing = (async () => {
      if (!token) throw new ApiError(401, "refresh_invalid", t("error.signed_out"));
      const { data } = await send("POST", "/auth/refresh", { body: { refresh_token: token }, auth: false });
      keep(data);
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

function signedOut(err) {
  save(null);
  window.dispatchEvent(new CustomEvent("gongdan:signedout", { detail: { message: err.message } }));
}

/** request("GET", "/tickets", {query}) / {body} / {form}; resolves to the JSON (or null). */
export async function request(method, path, opts = {}) {
  try {
    return (await send(method, path, opts)).data;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || opts.auth === false) throw err;
    if (err.code === "token_expired" && !opts.retried) {
      try {
        await refreshOnce();
      } catch (refreshErr) {
        signedOut(refreshErr instanceof ApiError ? refreshErr : err);
        throw refreshErr;
      }
      return request(method, path, { ...opts, retried: true });
    }
    signedOut(err);
    throw err;
  }
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body, opts = {}) => request("POST", path, { ...opts, body });

export async function login(loginName, password) {
  const data = await request("POST", "/auth/login", { body: { login: loginName, password }, auth: false });
  keep(data);
  return data.user;
}

export async function logout() {
  try {
    if (signedIn()) await send("POST", "/auth/logout", {});
  } catch (e) {
    /* the session ends here either way */
  } finally {
    save(null);
  }
}

/**
 * One file to a ticket (kind: a closing report's kind; opts.internal, opts.onProgress,
 * opts.signal) or, with uploadTo, to any upload endpoint (a knowledge-base article's files).
 */
export function upload(ticketId, file, kind, opts = {}) {
  const query = { kind, internal: opts.internal ? "1" : undefined };
  return uploadTo(`/tickets/${encodeURIComponent(ticketId)}/attachments`, file, { ...opts, query });
}

export function uploadTo(path, file, opts = {}) {
  const form = new FormData();
  form.append("file", file, file.name);
  return request("POST", path, { form, query: opts.query,
    onProgress: opts.onProgress, signal: opts.signal });
}

let openapi = null;

/** The OpenAPI document: the form's choices and limits come from the server's schemas. */
export function schema() {
  if (!openapi) {
    openapi = send("GET", "/openapi.json", { auth: false }).then((r) => r.data)
      .catch((e) => { openapi = null; throw e; });
  }
  return openapi;
}

let products = null;
export function productList() {
  if (!products) {
    products = get("/products").then((d) => d.items)
      .catch((e) => { products = null; throw e; });
  }
  return products;
}

export function forgetCaches() { products = null; }
