// The dashboard (#/dashboard): the home page of the desk and of provider admins (other staff
// may open it too). Key figures of the last 30 days and the charts of views/charts.js, each
// scoped by the API to what the user may see. Also the charts block of #/reports.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { loader, volumeCard, backlogCard, slaTrendCard, satisfactionTrendCard, workloadCard } from "./charts.js";
import { satisfactionSection } from "./satisfaction.js";

// whose home page the dashboard is (app.js); engineers and customers keep the ticket list
export const DASHBOARD_HOME_ROLES = ["agent", "admin", "provider_admin"];

function kpi(id, key, promise, pick, link) {
  const value = h("strong", { class: "kpi-value", text: "…" });
  const el = h(link ? "a" : "div", { class: "card kpi", id, href: link || null },
    h("span", { class: "kpi-label", text: t(key) }), value);
  promise.then((r) => { value.textContent = pick(r); },
    () => { value.textContent = t("common.none"); });
  return el;
}

export async function dashboardView(root, ctx) {
  const get = loader();
  const volume = get("/reports/volume", { granularity: "day" });
  const backlog = get("/reports/backlog");
  const sat = get("/reports/satisfaction", { group_by: "period", granularity: "week" });
  const avg = (v) => (v === null || v === undefined ? t("common.none") : v.toFixed(2));
  root.append(
    h("div", { class: "page-head" }, h("h1", { text: t("dash.title") }),
      h("a", { href: "#/reports", class: "btn btn-ghost", text: t("dash.all_reports") })),
    h("p", { class: "muted", text: t(ctx.user.role === "provider_admin" ? "dash.intro_provider" : "dash.intro") }),
    h("div", { class: "kpis", id: "dashboard-kpis" },
      kpi("kpi-backlog", "dash.kpi_backlog", backlog, (r) => String(r.total), "#/tickets"),
      kpi("kpi-created", "dash.kpi_created", volume, (r) => String(r.totals.created)),
      kpi("kpi-resolved", "dash.kpi_resolved", volume, (r) => String(r.totals.resolved)),
      kpi("kpi-service", "dash.kpi_service", sat, (r) => avg(r.totals.service_average))),
    h("div", { class: "chart-grid", id: "dashboard-charts" },
      volumeCard(get, { granularity: "day" }),
      backlogCard(get),
      slaTrendCard(get, { granularity: "week" }),
      satisfactionTrendCard(get, { group_by: "period", granularity: "week" }),
      workloadCard(get)));
}

/** The charts on #/reports, above its tables: weekly trends and the satisfaction report. */
export function reportCharts(ctx) {
  const get = loader();
  return [
    h("div", { class: "chart-grid", id: "report-charts" },
      volumeCard(get, { granularity: "week" }),
      backlogCard(get),
      slaTrendCard(get, { granularity: "week" }),
      workloadCard(get)),
    satisfactionSection(ctx),
  ];
}
