// Every string the UI shows, in Chinese and English, one module per area under strings/
// (a new page adds its own module and one line below). Enum values the API returns
// (status, type, role...) are looked up as "<group>.<value>" and shown raw when unknown,
// so a status added on the server still renders.

import core from "./strings/core.js";
import tickets from "./strings/tickets.js";
import work from "./strings/work.js";
import kb from "./strings/kb.js";
import sla from "./strings/sla.js";
import notify from "./strings/notify.js";
import admin from "./strings/admin.js";
import reports from "./strings/reports.js";
import recovery from "./strings/recovery.js";
import listview from "./strings/listview.js";
import leftovers from "./strings/leftovers.js";
import dashboard from "./strings/dashboard.js";
import exportsStrings from "./strings/exports.js";
import merge from "./strings/merge.js";
import polish from "./strings/polish.js";

const MODULES = [core, tickets, work, kb, sla, notify, admin, reports, recovery, listview, leftovers, dashboard, exportsStrings, merge, polish];

export const DICT = { zh: {}, en: {} };
for (const m of MODULES) {
  for (const lang of ["zh", "en"]) {
    for (const [key, value] of Object.entries(m[lang])) {
      // two modules claiming one key is a mistake worth seeing in the console
      if (key in DICT[lang]) console.error("i18n: duplicate key", key);
      DICT[lang][key] = value;
    }
  }
}

export const LANGS = [["zh", "中文"], ["en", "English"]];
const STORE_KEY = "gongdan.lang";
const listeners = new Set();

function initialLang() {
  let saved = null;
  try { saved = localStorage.getItem(STORE_KEY); } catch (e) { /* storage blocked */ }
  if (saved === "zh" || saved === "en") return saved;
  const prefs = navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language || "en"];
  for (const p of prefs) {
    const tag = String(p).toLowerCase();
    if (tag.startsWith("zh")) return "zh";
    if (tag.startsWith("en")) return "en";
  }
  return "en";
}

let lang = initialLang();
document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";

export function getLang() { return lang; }

export function setLang(next) {
  if ((next !== "zh" && next !== "en") || next === lang) return;
  lang = next;
  try { localStorage.setItem(STORE_KEY, next); } catch (e) { /* storage blocked */ }
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  listeners.forEach((fn) => fn(next));
}

export function onLangChange(fn) { listeners.add(fn); }

export function has(key) { return key in DICT[lang] || key in DICT.en; }

/** The string for key in the current language, with {name} placeholders filled in. */
export function t(key, params) {
  let s = DICT[lang][key];
  if (s === undefined) s = DICT.en[key];
  if (s === undefined) s = key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/** An API enum value for people: "status.needs_info" -> "待补充信息"; unknown -> the value. */
export function label(group, value) {
  if (value === null || value === undefined || value === "") return t("common.none");
  const key = `${group}.${value}`;
  return has(key) ? t(key) : String(value);
}

const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad2 = (n) => String(n).padStart(2, "0");

/** The one date format of the client, in local time: zh "2026-12-06 14:05", en "6 Dec 2026 14:05"
 *  (day and month never confused). `withTime` false drops the time. */
export function fmtDate(value, withTime = true) {
  if (!value) return t("common.none");
  const d = value instanceof Date ? value : new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00` : value);
  if (Number.isNaN(d.getTime())) return String(value);
  const day = lang === "zh" ? `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`
    : `${d.getDate()} ${MONTHS_EN[d.getMonth()]} ${d.getFullYear()}`;
  return withTime ? `${day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}` : day;
}

/** ISO timestamp from the API -> local date and time for people. */
export function fmtTime(iso) {
  return fmtDate(iso, true);
}

export function fmtSize(n) {
  if (n === null || n === undefined) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
