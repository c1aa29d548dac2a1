// Date and time fields in the page's language, whatever the browser's. Chromium draws
// <input type=date|datetime-local|time> in the operating system's locale ("mm/dd/yyyy",
// "--:-- --" with AM/PM on an English system even when the page is in Chinese) and a page
// cannot change that. So each is turned, in place, into a text input for yyyy-mm-dd,
// yyyy-mm-dd hh:mm or hh:mm - the format the Chinese pages show dates in, unambiguous in
// English - with the placeholder "年-月-日" / "yyyy-mm-dd" and (dates) a button that opens the
// browser's own calendar. Done in place (same element, same .value string), by watching the
// page, so the views keep creating plain date inputs and reading .value.
import { h, icon } from "./dom.js";
import { t } from "./i18n.js";

const ISO = /^\d{4}-\d{2}-\d{2}$/;
const pad2 = (n) => String(n).padStart(2, "0");

// per input type: the text's pattern, its i18n keys, whether a calendar button helps
const KINDS = {
  date: { re: ISO, ph: "date.placeholder", bad: "date.invalid", pick: true, max: 10 },
  "datetime-local": { re: /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/, ph: "datetime.placeholder",
    bad: "datetime.invalid", pick: true, max: 19 },
  time: { re: /^\d{2}:\d{2}(:\d{2})?$/, ph: "time.placeholder", bad: "time.invalid", pick: false, max: 8 },
};
const SELECTOR = Object.keys(KINDS).map((k) => `input[type=${k}]:not(.date-native)`).join(", ");

function datePart(y, mo, d) {
  const [m2, d2] = [pad2(mo), pad2(d)];
  const date = new Date(`${y}-${m2}-${d2}T00:00:00`);
  return Number.isNaN(date.getTime()) || date.getDate() !== Number(d) ? null : `${y}-${m2}-${d2}`;
}

function timePart(hh, mm, ss) {
  if (Number(hh) > 23 || Number(mm) > 59 || (ss !== undefined && Number(ss) > 59)) return null;
  return `${pad2(hh)}:${mm}${ss !== undefined ? `:${ss}` : ""}`;
}

/** "2026/1/5", "2026.1.5", "20260105", "2026年1月5日" -> "2026-01-05"; else the text as typed. */
/** The calendar day of `d` where the browser is (YYYY-MM-DD): the day a person picks in a
 * date field. (`toISOString` gives the UTC day: east of UTC, yesterday's until 08:00.) */
export function localDay(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function normalizeDate(text) {
  const s = text.trim();
  const m = s.match(/^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/) || s.match(/^(\d{4})(\d{2})(\d{2})$/);
  return (m && datePart(m[1], m[2], m[3])) || s;
}

/** "7:30" -> "07:30", "0730" -> "07:30"; else the text as typed. */
export function normalizeTime(text) {
  const s = text.trim();
  const m = s.match(/^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$/) || s.match(/^(\d{2})(\d{2})$/);
  return (m && timePart(m[1], m[2], m[3])) || s;
}

function normalize(kind, text) {
  if (kind === "date") return normalizeDate(text);
  if (kind === "time") return normalizeTime(text);
  const m = text.trim().match(/^(.+?)[ T]+(\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)$/);
  if (!m) return text.trim();
  const d = normalizeDate(m[1]);
  const tm = normalizeTime(m[2]);
  return ISO.test(d) && KINDS.time.re.test(tm) ? `${d} ${tm}` : text.trim();
}

function check(input, kind) {
  const v = input.value.trim();
  const bad = v !== "" && !KINDS[kind].re.test(v);
  input.setCustomValidity(bad ? t(KINDS[kind].bad) : "");
  if (bad) input.setAttribute("aria-invalid", "true");
  else if (!input.closest(".has-error")) input.removeAttribute("aria-invalid");
  input.title = bad ? t(KINDS[kind].bad) : "";
}

const VALUE = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value");

/** A date-time field shows "2026-12-07 14:05" but its .value stays "2026-12-07T14:05", as the
 * views (and the API's ISO timestamps built from it) expect of a datetime-local input. */
function keepIsoValue(input) {
  Object.defineProperty(input, "value", {
    configurable: true,
    get() { return VALUE.get.call(this).trim().replace(/^(\d{4}-\d{2}-\d{2}) +/, "$1T"); },
    set(v) { VALUE.set.call(this, String(v ?? "").replace(/^(\d{4}-\d{2}-\d{2})T/, "$1 ")); },
  });
}

export function upgrade(input) {
  const kind = input.type;
  if (input.dataset.dateText || !KINDS[kind]) return;
  const spec = KINDS[kind];
  const { min, max, required, step } = input;
  const shown = input.value;
  input.type = "text";
  input.dataset.dateText = kind;
  input.classList.add("date-text");
  input.autocomplete = "off";
  input.maxLength = spec.max;
  input.placeholder = t(spec.ph);
  if (kind === "datetime-local") { keepIsoValue(input); input.value = shown; }
  input.addEventListener("change", () => { input.value = normalize(kind, input.value); check(input, kind); });
  input.addEventListener("blur", () => check(input, kind));
  if (!spec.pick) { input.inputMode = "numeric"; return; }
  const native = h("input", { type: kind, class: "date-native", tabIndex: -1, "aria-hidden": "true", min, max, step });
  const button = h("button", { type: "button", class: "date-pick", title: t("date.pick"),
    "aria-label": t("date.pick") }, icon("calendar", 16));
  button.addEventListener("click", () => {
    native.value = spec.re.test(input.value) ? input.value : "";
    try { native.showPicker(); } catch (e) { native.focus(); native.click(); }
  });
  native.addEventListener("change", () => {
    input.value = native.value;
    check(input, kind);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.focus();
  });
  const wrap = h("span", { class: "date-field" });
  input.replaceWith(wrap);
  wrap.append(input, button, native);
  input.required = required;
}

function scan(node) {
  if (node.nodeType !== 1) return;
  if (node.matches(SELECTOR)) upgrade(node);
  node.querySelectorAll(SELECTOR).forEach(upgrade);
}

new MutationObserver((records) => {
  for (const r of records) r.addedNodes.forEach(scan);
}).observe(document.body, { childList: true, subtree: true });
