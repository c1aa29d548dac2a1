// Reports (#/reports?group_by=…&target=…&created_from=…&created_to=…&from=…&to=…), for staff
// (the API scopes what each role sees): the SLA compliance report (GET /reports/sla) grouped
// by priority, ticket type, provider, engineer or period, and the time engineers logged
// (GET /reports/engineer-time) over a period. The filters live in the address, so a report
// can be reloaded and linked.
import { h, field, select, messageBox, showErrors, clearErrors, busy } from "../dom.js";
import { t, label } from "../i18n.js";
import * as api from "../api.js";
import { localDay } from "../date-fields.js";
import { queryEnum } from "../model.js";
import { dataTable } from "./webhooks.js";
import { instant, businessTime } from "./sla-admin.js";
import { reportCharts } from "./dashboard.js";
import { exportButtons } from "./exports.js";

const REPORT = "/api/v1/reports/sla";
const td = (key, ...c) => h("td", { dataset: { label: t(key) } }, ...c);
const num = (key, v, extra) => h("td", { class: "num", dataset: { label: t(key), col: extra }, text: v === null || v === undefined ? t("common.none") : String(v) });
const dayText = localDay;

/** The names of providers and engineers, where this user may read them (else the ids). */
export async function names(groupBy) {
  if (groupBy === "provider") {
    const list = await api.get("/providers").then((d) => d.items).catch(() => []);
    return Object.fromEntries(list.map((x) => [x.id, x.name]));
  }
  if (groupBy === "engineer") {
    const list = await api.get("/engineers", { page_size: 100 }).then((d) => d.items).catch(() => []);
    return Object.fromEntries(list.map((x) => [x.id, x.name]));
  }
  return {};
}

function groupText(groupBy, group, known) {
  if (group === null || group === undefined || group === "") return t("reports.no_group");
  if (groupBy === "type") return label("type", group);
  return known[group] || group;
}

export async function reportsView(root, ctx) {
  const doc = await api.schema();
  if (!ctx.current()) return;
  const q = ctx.query;
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("reports.title") }),
    ctx.user.role === "admin" ? h("a", { href: "#/admin/sla", class: "btn btn-ghost", text: t("nav.sla_admin") }) : null));
  root.append(...reportCharts(ctx), slaSection(ctx, doc, q), timeSection(ctx, q));
}

/** The current filters with `changes` over them, for navigate(). */
function withQuery(q, changes) {
  const out = Object.fromEntries(q.entries());
  return { ...out, ...changes };
}

function slaSection(ctx, doc, q) {
  const groups = queryEnum(doc, REPORT, "group_by");
  const targets = queryEnum(doc, REPORT, "target");
  const groupBy = select(groups.map((g) => [g, t(`reports.by.${g}`)]), { name: "group_by", value: q.get("group_by") || "priority" });
  const target = select(targets.map((x) => [x, t(`sla.target.${x}`)]), { name: "target", placeholder: t("common.any"), value: q.get("target") || "" });
  const from = h("input", { type: "date", name: "created_from", value: q.get("created_from") || "" });
  const to = h("input", { type: "date", name: "created_to", value: q.get("created_to") || "" });
  const box = messageBox("error");
  const show = h("button", { type: "submit", class: "btn btn-primary", id: "sla-report-run", text: t("reports.show") });
  const out = h("div", { id: "sla-report" }, h("p", { class: "muted loading", text: t("common.loading") }));
  const form = h("form", { class: "filters card report-filters", id: "sla-report-form", novalidate: true },
    field(t("reports.group_by"), groupBy, { name: "group_by" }),
    field(t("sla.col.target"), target, { name: "target" }),
    field(t("reports.created_from"), from, { name: "created_from" }),
    field(t("reports.created_to"), to, { name: "created_to" }),
    h("div", { class: "filters-buttons" }, show, exportButtons("sla", () => ({ target: target.value,
      created_from: instant(from.value), created_to: to.value ? instant(nextDay(to.value)) : undefined }))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate("/reports", withQuery(q, { group_by: groupBy.value, target: target.value,
      created_from: from.value, created_to: to.value }));
  });

  (async () => {
    const by = groupBy.value;
    let report;
    let known;
    try {
      [report, known] = await Promise.all([api.get("/reports/sla", {
        group_by: by, target: target.value || undefined,
        created_from: instant(from.value), created_to: to.value ? instant(nextDay(to.value)) : undefined,
      }), names(by)]);
    } catch (err) {
      showErrors(form, box, err);
      out.replaceChildren();
      return;
    }
    if (!ctx.current()) return;
    clearErrors(form, box);
    const cols = ["reports.group", "sla.col.target", "reports.clocks", "reports.met", "reports.breached",
      "reports.open", "reports.compliance", "reports.mean"];
    out.replaceChildren(
      h("p", { class: "muted small", text: t("reports.tz", { tz: report.tz }) }),
      report.rows.length ? dataTable("sla-report-table", cols, report.rows.map((r) => h("tr", {
        dataset: { group: r.group === null ? "" : r.group, target: r.target },
        class: r.compliance !== null && r.compliance < 1 ? "report-miss" : null,
      },
      td("reports.group", h("strong", { text: groupText(by, r.group, known) })),
      td("sla.col.target", t(`sla.target.${r.target}`)),
      num("reports.clocks", r.clocks, "clocks"),
      num("reports.met", r.met_in_time, "met_in_time"),
      num("reports.breached", r.breached, "breached"),
      num("reports.open", r.open, "open"),
      num("reports.compliance", r.compliance === null ? null : `${(r.compliance * 100).toFixed(1)}%`, "compliance"),
      h("td", { class: "num", dataset: { label: t("reports.mean"), col: "mean" }, text: businessTime(r.mean_business_minutes_to_meet) }))))
        : h("div", { class: "card empty" }, h("p", { text: t("reports.none") })));
  })();
  return h("section", { class: "report-section" }, h("h2", { class: "section-title", text: t("reports.sla_title") }),
    h("p", { class: "muted", text: t("reports.sla_intro") }), form, box, out);
}

// the "to" date is inclusive on the page, the API's bound exclusive
function nextDay(value) {
  const d = new Date(`${value}T00:00`);
  if (Number.isNaN(d.getTime())) return value;
  d.setDate(d.getDate() + 1);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function timeSection(ctx, q) {
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 30 * 86400000);
  const from = h("input", { type: "date", name: "from", value: q.get("from") || dayText(monthAgo) });
  const to = h("input", { type: "date", name: "to", value: q.get("to") || dayText(today) });
  const box = messageBox("error");
  const show = h("button", { type: "submit", class: "btn btn-primary", id: "time-report-run", text: t("reports.show") });
  const out = h("div", { id: "time-report" }, h("p", { class: "muted loading", text: t("common.loading") }));
  const form = h("form", { class: "filters card report-filters", id: "time-report-form", novalidate: true },
    field(t("reports.from"), from, { name: "from" }),
    field(t("reports.to"), to, { name: "to" }),
    h("div", { class: "filters-buttons" }, show, exportButtons("engineer_time", () => ({
      from: instant(from.value), to: to.value ? instant(nextDay(to.value)) : undefined }))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(show, true);
    ctx.navigate("/reports", withQuery(q, { from: from.value, to: to.value }));
  });
  (async () => {
    let report;
    try {
      report = await api.get("/reports/engineer-time", { from: instant(from.value) || "",
        to: to.value ? instant(nextDay(to.value)) : "" });
    } catch (err) {
      showErrors(form, box, err);
      out.replaceChildren();
      return;
    }
    if (!ctx.current()) return;
    const hours = (s) => t("reports.hours", { n: (s / 3600).toFixed(1) });
    const cols = ["reports.engineer", "reports.tickets", "reports.entries", "reports.on_site", "reports.time"];
    out.replaceChildren(report.engineers.length ? dataTable("time-report-table", cols, [
      ...report.engineers.map((e) => h("tr", { dataset: { engineerId: e.engineer_id } },
        td("reports.engineer", h("strong", { text: e.engineer_name || e.engineer_id })),
        num("reports.tickets", e.tickets), num("reports.entries", e.entries),
        num("reports.on_site", e.on_site_entries), num("reports.time", hours(e.seconds)))),
      h("tr", { class: "report-total" }, td("reports.engineer", h("strong", { text: t("reports.total") })),
        num("reports.tickets", report.totals.tickets), num("reports.entries", report.totals.entries),
        num("reports.on_site", report.totals.on_site_entries), num("reports.time", hours(report.totals.seconds)))])
      : h("div", { class: "card empty" }, h("p", { text: t("reports.no_time") })));
  })();
  return h("section", { class: "report-section" }, h("h2", { class: "section-title", text: t("reports.time_title") }),
    h("p", { class: "muted", text: t("reports.time_intro") }), form, box, out);
}
