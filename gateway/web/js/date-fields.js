// Date fields in the page's language, whatever the browser's. Chromium draws <input type=date>
// in the operating system's locale ("mm/dd/yyyy" on an English system even when the page is
// in Chinese) and a page cannot change that. So every date input is turned, in place, into a
// text input for yyyy-mm-dd - the format the Chinese pages show dates in, and unambiguous in
// English - with the placeholder "年-月-日" / "yyyy-mm-dd" and a button that opens the
// browser's own calendar. Done in place (same element, same .value string), by watching the
// page, so the views keep creating plain <input type=date> and reading .value.
import { h, icon } from "./dom.js";
import { t } from "./i18n.js";

const ISO = /^\d{4}-\d{2}-\d{2}$/;

/** "2026/1/5", "2026.1.5", "20260105", "2026年1月5日" -> "2026-01-05"; else the text as typed. */
export function normalizeDate(text) {
  const s = text.trim();
  const m = s.match(/^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/) || s.match(/^(\d{4})(\d{2})(\d{2})$/);
  if (!m) return s;
  const [y, mo, d] = [m[1], m[2].padStart(2, "0"), m[3].padStart(2, "0")];
  const date = new Date(`${y}-${mo}-${d}T00:00:00`);
  return Number.isNaN(date.getTime()) || date.getDate() !== Number(d) ? s : `${y}-${mo}-${d}`;
}

function check(input) {
  const v = input.value.trim();
  const bad = v !== "" && !ISO.test(v);
  input.setCustomValidity(bad ? t("date.invalid") : "");
  if (bad) input.setAttribute("aria-invalid", "true");
  else if (!input.closest(".has-error")) input.removeAttribute("aria-invalid");
  input.title = bad ? t("date.invalid") : "";
}

export function upgrade(input) {
  if (input.dataset.dateText) return;
  const { min, max, required } = input;
  input.type = "text";
  input.dataset.dateText = "1";
  input.classList.add("date-text");
  input.inputMode = "numeric";
  input.autocomplete = "off";
  input.maxLength = 10;
  input.placeholder = t("date.placeholder");
  input.setAttribute("pattern", "\\d{4}-\\d{2}-\\d{2}");
  const native = h("input", { type: "date", class: "date-native", tabIndex: -1, "aria-hidden": "true", min, max });
  const button = h("button", { type: "button", class: "date-pick", title: t("date.pick"),
    "aria-label": t("date.pick") }, icon("calendar", 16));
  button.addEventListener("click", () => {
    native.value = ISO.test(input.value) ? input.value : "";
    try { native.showPicker(); } catch (e) { native.focus(); native.click(); }
  });
  native.addEventListener("change", () => {
    input.value = native.value;
    check(input);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    input.focus();
  });
  input.addEventListener("change", () => { input.value = normalizeDate(input.value); check(input); });
  input.addEventListener("blur", () => check(input));
  const wrap = h("span", { class: "date-field" });
  input.replaceWith(wrap);
  wrap.append(input, button, native);
  input.required = required;
}

function scan(node) {
  if (node.nodeType !== 1) return;
  if (node.matches("input[type=date]:not(.date-native)")) upgrade(node);
  node.querySelectorAll("input[type=date]:not(.date-native)").forEach(upgrade);
}

new MutationObserver((records) => {
  for (const r of records) r.addedNodes.forEach(scan);
}).observe(document.body, { childList: true, subtree: true });
