// Building the page without ever parsing HTML: every piece of data becomes a text node or
// a property, so nothing a user typed can turn into markup or script.
import { t } from "./i18n.js";

const PROPS = new Set(["value", "checked", "disabled", "selected", "hidden", "required",
  "multiple", "readOnly", "maxLength", "minLength", "htmlFor", "tabIndex", "type", "name",
  "id", "placeholder", "autocomplete", "rows", "accept", "min", "max", "pattern"]);
const FORBIDDEN = new Set(["innerHTML", "outerHTML", "style", "srcdoc"]);

/** h("a", {href: "#/x", class: "link", onClick: fn}, "text", child, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (FORBIDDEN.has(k)) throw new Error(`h(): ${k} is not allowed`);
    if (k === "class") el.className = Array.isArray(v) ? v.filter(Boolean).join(" ") : v;
    else if (k === "text") el.textContent = String(v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (/^on[A-Z]/.test(k)) el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "href") el.setAttribute("href", safeUrl(v));
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Icons as inline SVG paths (24x24, stroked in the text colour): emoji need an emoji font,
// which many desks (and the test browser) do not have, and then show as a box.
const ICONS = {
  upload: ["M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4", "M17 8l-5-5-5 5", "M12 3v12"],
  chevron: ["M6 9l6 6 6-6"],
  download: ["M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4", "M7 10l5 5 5-5", "M12 15V3"],
  calendar: ["M8 2v4", "M16 2v4", "M3 10h18", "M5 4h14a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"],
  bell: ["M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9", "M10.3 21a1.94 1.94 0 0 0 3.4 0"],
  settings: ["M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
    "M19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 1 1-4 0v-.09a1.65 1.65 0 0 0-1-1.51 1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06a1.65 1.65 0 0 0 .33-1.82 1.65 1.65 0 0 0-1.51-1H3a2 2 0 1 1 0-4h.09a1.65 1.65 0 0 0 1.51-1 1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 2.83-2.83l.06.06a1.65 1.65 0 0 0 1.82.33H9a1.65 1.65 0 0 0 1-1.51V3a2 2 0 1 1 4 0v.09a1.65 1.65 0 0 0 1 1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06a1.65 1.65 0 0 0-.33 1.82V9a1.65 1.65 0 0 0 1.51 1H21a2 2 0 1 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1z"],
};

/** An inline SVG icon by name, decorative (the link or button around it carries the label). */
export function icon(name, size = 18) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: size, height: size, fill: "none",
    stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round",
    "aria-hidden": "true", focusable: "false", class: `icon icon-${name}` })) svg.setAttribute(k, String(v));
  for (const d of ICONS[name]) {
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

/** Only in-app hash links and http(s) URLs become links. */
export function safeUrl(url) {
  const s = String(url);
  if (s.startsWith("#")) return s;
  try {
    const u = new URL(s, location.href);
    if (u.protocol === "http:" || u.protocol === "https:") return u.href;
  } catch (e) { /* fall through */ }
  return "#";
}

let seq = 0;
export function uid(prefix = "f") { seq += 1; return `${prefix}-${seq}`; }

/**
 * A labelled form field: <div class="field"><label>…</label>control<p class="field-error">
 * `name` ties the field to the API's validation errors (details.fields[name]).
 */
export function field(labelText, control, { name, required, hint, wide } = {}) {
  if (!control.id) control.id = uid();
  const err = h("p", { class: "field-error", id: uid("err"), hidden: true });
  const hintEl = hint ? h("p", { class: "field-hint", id: uid("hint"), text: hint }) : null;
  control.setAttribute("aria-describedby", [hintEl && hintEl.id, err.id].filter(Boolean).join(" "));
  const lab = h("label", { htmlFor: control.id }, labelText,
    required ? h("span", { class: "req", "aria-hidden": "true", text: " *" }) : null);
  const box = h("div", { class: ["field", wide && "field-wide"], dataset: name ? { field: name } : {} },
    lab, control, hintEl, err);
  return box;
}

export function select(options, { value, name, id, placeholder, required } = {}) {
  const el = h("select", { name, id, required });
  if (placeholder !== undefined) el.append(h("option", { value: "", text: placeholder }));
  for (const [v, text] of options) el.append(h("option", { value: v, text }));
  if (value !== undefined && value !== null) el.value = value;
  return el;
}

/** A message box for errors or notices; role=alert for errors so screen readers say it. */
export function messageBox(kind = "error") {
  return h("div", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status", hidden: true });
}

export function showMessage(box, text) {
  box.textContent = text || "";
  box.hidden = !text;
}

/**
 * The field a message for `name` belongs to: the one named exactly, else the nearest one
 * named by a prefix ("hours.mon.value.0.0" lands on the "hours.mon" field).
 */
function fieldFor(form, name) {
  const parts = name.split(".");
  for (let n = parts.length; n > 0; n -= 1) {
    const f = form.querySelector(`[data-field="${CSS.escape(parts.slice(0, n).join("."))}"]`);
    if (f) return f;
  }
  return null;
}

// a field's own message line (fields may hold fields: a calendar's hours hold its weekdays)
const errorOf = (f) => f.querySelector(":scope > .field-error") || f.querySelector(".field-error");

/** Puts an ApiError on a form: the API's own message on top, field messages under fields. */
export function showErrors(form, box, err) {
  clearErrors(form, box);
  const fields = flattenFields(err && err.details && err.details.fields);
  const placed = new Map();
  const unplaced = [];
  for (const [name, msgs] of Object.entries(fields)) {
    const f = fieldFor(form, name);
    if (!f) { unplaced.push(msgs.join(" ")); continue; }
    placed.set(f, [...(placed.get(f) || []), ...msgs]);
  }
  for (const [f, msgs] of placed) {
    const p = errorOf(f);
    p.textContent = msgs.join(" ");
    p.hidden = false;
    f.classList.add("has-error");
    const c = f.querySelector("input, select, textarea");
    if (c) c.setAttribute("aria-invalid", "true");
  }
  const main = (err && err.message) || t("error.network");
  showMessage(box, [main, ...unplaced].join(" "));
  const first = form.querySelector(".has-error input, .has-error select, .has-error textarea");
  if (first && placed.size) first.focus();
}

export function clearErrors(form, box) {
  if (box) showMessage(box, "");
  form.querySelectorAll(".has-error").forEach((f) => {
    f.classList.remove("has-error");
    const p = errorOf(f);
    p.hidden = true;
    p.textContent = "";
    const c = f.querySelector("[aria-invalid]");
    if (c) c.removeAttribute("aria-invalid");
  });
}

function flattenFields(fields, prefix = "", out = {}) {
  if (!fields || typeof fields !== "object") return out;
  for (const [k, v] of Object.entries(fields)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v)) out[name] = v.map(String);
    else if (v && typeof v === "object") flattenFields(v, name, out);
    else out[name] = [String(v)];
  }
  return out;
}

export function busy(button, on, busyText) {
  if (on) {
    button.dataset.label = button.textContent;
    if (busyText) button.textContent = busyText;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  } else {
    if (button.dataset.label !== undefined) button.textContent = button.dataset.label;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

export function badge(kind, value, text) {
  return h("span", { class: `badge badge-${kind} ${kind}-${String(value).replace(/[^a-z0-9_-]/gi, "")}`, text });
}

/**
 * Tabs over a page (`#${base}?tab=<name>`): [[name, i18n key], ...]; the first is the default.
 * Returns {tab, tabs, body}: the chosen tab's name, the tab bar, and its (loading) panel.
 */
export function tabbed(base, list, query) {
  const tab = list.some(([name]) => name === query.get("tab")) ? query.get("tab") : list[0][0];
  const tabs = h("nav", { class: "tabs", role: "tablist" }, list.map(([name, key]) => h("a", {
    href: `#${base}?tab=${name}`, role: "tab", id: `tab-${name}`,
    class: ["tab", tab === name && "active"], "aria-selected": tab === name ? "true" : "false", text: t(key),
  })));
  const body = h("div", { class: "tab-body", role: "tabpanel", "aria-labelledby": `tab-${tab}` },
    h("p", { class: "muted loading", text: t("common.loading") }));
  return { tab, tabs, body };
}

/** Submits `form` with `send()` (`button` busy meanwhile); refusals land under their fields. */
export function onSubmit(form, box, button, send) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    busy(button, true);
    try { await send(); } catch (err) { showErrors(form, box, err); } finally { if (button.isConnected) busy(button, false); }
  });
}
