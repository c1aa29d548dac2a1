// Exports (#/exports): the signed-in user's export jobs with their progress, a download link
// when done, delete; it refreshes itself while a job is queued or running. Also the "Export
// CSV / Excel" buttons the ticket list and the reports page show (exportButtons), which queue
// an export of what the page shows (the API re-checks the filters as the user).
import { h, messageBox, showMessage, badge } from "../dom.js";
import { t, getLang, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { dataTable } from "./webhooks.js";

const ACTIVE = ["queued", "running"];
const LIST_FIELDS = ["status", "type", "priority"]; // one value on the page, a list in the API

/** The page's filters as an export's: empty values dropped, list fields as lists, no paging. */
function exportFilters(query) {
  const out = {};
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === "" || ["page", "page_size", "sort"].includes(k)) continue;
    out[k] = LIST_FIELDS.includes(k) && !Array.isArray(v) ? [v] : v;
  }
  return out;
}

/** "Export CSV" and "Export Excel" buttons; `filters()` gives the page's current query. */
export function exportButtons(kind, filters, id = `export-${kind}`, columns = null) {
  const box = messageBox("error");
  const start = async (format, button) => {
    button.disabled = true;
    try {
      await api.post("/exports", { kind, format, lang: getLang(), filters: exportFilters(filters()),
        columns: columns ? columns() : undefined });
      location.hash = "#/exports";
    } catch (err) {
      showMessage(box, err.message);
    } finally {
      button.disabled = false;
    }
  };
  const button = (format, key) => {
    const b = h("button", { type: "button", class: "btn btn-ghost btn-small", dataset: { format }, text: t(key) });
    b.addEventListener("click", () => start(format, b));
    return b;
  };
  return h("div", { class: "export-actions", id },
    button("csv", "exports.csv"), button("xlsx", "exports.xlsx"), box);
}

function progress(job) {
  if (job.status === "done") return t("exports.rows_done", { done: job.rows_done.toLocaleString() });
  const total = job.rows_total;
  const bar = h("progress", { max: String(total || 1), value: String(Math.min(job.rows_done, total || 0)),
    "aria-label": t("exports.col.progress") });
  return h("div", { class: "export-progress" }, bar,
    h("span", { class: "muted small", text: total === null || total === undefined
      ? t("exports.rows_done", { done: job.rows_done.toLocaleString() })
      : t("exports.rows", { done: job.rows_done.toLocaleString(), total: total.toLocaleString() }) }));
}

export async function exportsView(root, ctx) {
  const box = messageBox("error");
  const out = h("div", { id: "exports" }, h("p", { class: "muted loading", text: t("common.loading") }));
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("exports.title") })),
    h("p", { class: "muted", text: t("exports.intro") }), box, out);

  const td = (key, ...c) => h("td", { dataset: { label: t(key) } }, ...c);
  const row = (job) => {
    const actions = [];
    if (job.status === "done") {
      actions.push(h("button", { type: "button", class: "btn btn-primary btn-small export-download", text: t("exports.download"),
        onClick: async () => {
          try {
            const link = await api.get(`/exports/${encodeURIComponent(job.id)}/download`);
            location.href = link.url;
          } catch (err) { showMessage(box, err.message); }
        } }));
    }
    actions.push(h("button", { type: "button", class: "btn btn-ghost btn-small export-delete", text: t("exports.delete"),
      onClick: async () => {
        try {
          await api.request("DELETE", `/exports/${encodeURIComponent(job.id)}`);
          await load();
        } catch (err) { showMessage(box, err.message); }
      } }));
    const error = job.error ? h("p", { class: "small error-text", text: job.error[getLang()] || job.error.en }) : null;
    return h("tr", { class: "export-row", dataset: { id: job.id, status: job.status } },
      td("exports.col.file", h("div", {}, h("strong", { class: "export-file", text: job.file_name }),
        job.expires_at && job.status === "done" ? h("div", { class: "muted small", text: t("exports.expires", { at: fmtTime(job.expires_at) }) }) : null)),
      td("exports.col.kind", `${t(`exports.kind.${job.kind}`)} · ${job.format.toUpperCase()}`),
      td("exports.col.created", h("time", { datetime: job.created_at, text: fmtTime(job.created_at) })),
      td("exports.col.status", badge("export", job.status, t(`exports.status.${job.status}`)), error),
      td("exports.col.progress", progress(job)),
      td("exports.col.actions", h("div", { class: "row-actions" }, actions)));
  };

  let timer = null;
  async function load() {
    clearTimeout(timer);
    let data;
    try {
      data = await api.get("/exports");
    } catch (err) {
      showMessage(box, err.message);
      return;
    }
    if (!ctx.current()) return;
    out.replaceChildren(data.items.length
      ? dataTable("export-table", ["exports.col.file", "exports.col.kind", "exports.col.created",
        "exports.col.status", "exports.col.progress", "exports.col.actions"], data.items.map(row))
      : h("div", { class: "card empty" }, h("p", { text: t("exports.none") })));
    if (data.items.some((j) => ACTIVE.includes(j.status))) timer = setTimeout(() => ctx.current() && load(), 1500);
  }
  await load();
}
