// The satisfaction report on #/reports (#/reports?s_group=…&s_gran=…&s_from=…&s_to=…):
// customers' product and service stars (GET /reports/satisfaction), averages and the 1-5
// distributions by period, product line, provider or engineer, as a chart and a table.
import { h, field, select, messageBox, showErrors, clearErrors } from "../dom.js";
import { t } from "../i18n.js";
import * as api from "../api.js";
import { localDay } from "../date-fields.js";
import { chartCard, periodText, COLORS } from "./charts.js";
import { names } from "./reports.js";

const GROUPS = ["period", "product_line", "provider", "engineer"];
const GRANULARITIES = ["day", "week", "month"];
const dayText = localDay;
const avg = (v) => (v === null || v === undefined ? t("common.none") : v.toFixed(2));
const dist = (list) => list.join(" / ");

export function satisfactionSection(ctx) {
  const q = ctx.query;
  const today = new Date();
  const groupBy = select(GROUPS.map((g) => [g, t(`sat.by.${g}`)]), { name: "group_by", value: q.get("s_group") || "period" });
  const gran = select(GRANULARITIES.map((g) => [g, t(`reports.by.${g}`)]), { name: "granularity", value: q.get("s_gran") || "week" });
  const from = h("input", { type: "date", name: "from", value: q.get("s_from") || dayText(new Date(today.getTime() - 84 * 86400000)) });
  const to = h("input", { type: "date", name: "to", value: q.get("s_to") || dayText(today) });
  const box = messageBox("error");
  const form = h("form", { class: "filters card report-filters", id: "satisfaction-form", novalidate: true },
    field(t("reports.group_by"), groupBy, { name: "group_by" }),
    field(t("sat.granularity"), gran, { name: "granularity" }),
    field(t("reports.from"), from, { name: "from" }),
    field(t("reports.to"), to, { name: "to" }),
    h("div", { class: "filters-buttons" }, h("button", { type: "submit", class: "btn btn-primary", id: "satisfaction-run", text: t("reports.show") })));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const keep = Object.fromEntries(q.entries());
    ctx.navigate("/reports", { ...keep, s_group: groupBy.value, s_gran: gran.value, s_from: from.value, s_to: to.value });
  });
  const by = groupBy.value;
  const load = Promise.all([
    api.get("/reports/satisfaction", { group_by: by, granularity: gran.value,
      from: from.value || undefined, to: to.value || undefined }),
    by === "provider" ? names("provider") : Promise.resolve({}),
  ]).then(([report, known]) => { clearErrors(form, box); return [report, known]; },
    (err) => { showErrors(form, box, err); throw err; });
  const card = chartCard("chart-satisfaction-report", "sat.chart_title", async () => {
    const [r, known] = await load;
    if (!r.totals.ratings) return null;
    const groupText = (g, row) => {
      if (g === null || g === undefined || g === "") return t("reports.no_group");
      if (by === "period") return periodText(g, true);
      if (by === "engineer") return row.name || g.slice(0, 8);
      return known[g] || g;
    };
    const rows = by === "period" ? r.rows : r.rows.filter((x) => x.ratings);
    const datasets = [
      { label: t("charts.product_score"), data: rows.map((x) => x.product_average), backgroundColor: COLORS[0], borderColor: COLORS[0], maxBarThickness: 40 },
      { label: t("charts.service_score"), data: rows.map((x) => x.service_average), backgroundColor: COLORS[1], borderColor: COLORS[1], maxBarThickness: 40 },
    ];
    const type = by === "period" ? "line" : "bar";
    if (type === "line") datasets.forEach((d) => Object.assign(d, { spanGaps: true, tension: 0.25, pointRadius: 3 }));
    return {
      summary: t("charts.satisfaction_summary", { n: r.totals.ratings,
        product: avg(r.totals.product_average), service: avg(r.totals.service_average) }),
      config: { type, data: { labels: rows.map((x) => groupText(x.group, x)), datasets },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
          scales: { y: { min: by === "period" ? 1 : 0, max: 5, ticks: { stepSize: 1 } } } } },
      head: [t("reports.group"), t("charts.ratings"), t("charts.product_score"), t("sat.product_dist"),
        t("charts.service_score"), t("sat.service_dist")],
      rows: [...rows, { ...r.totals, group: "__total" }].map((x) => [
        x.group === "__total" ? t("reports.total") : groupText(x.group, x), x.ratings,
        avg(x.product_average), dist(x.product_distribution), avg(x.service_average), dist(x.service_distribution)]),
    };
  }, { intro: t("sat.dist_hint") });
  // the table is the report here: open by default
  card.querySelector("details").open = true;
  return h("section", { class: "report-section", id: "satisfaction-section" },
    h("h2", { class: "section-title", text: t("sat.title") }),
    h("p", { class: "muted", text: t("sat.intro") }), form, box, card);
}
