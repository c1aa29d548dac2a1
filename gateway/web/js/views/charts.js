// Charts for the dashboard (#/dashboard) and the reports page (#/reports): volume per
// period, the backlog by status x priority, the SLA compliance trend, the satisfaction trend
// and engineers' workload. Chart.js is vendored (/web/vendor/chartjs/, docs/dependencies.md)
// and loaded from this origin on first use, so the pages work offline. Every chart has a
// text summary (its canvas's label) and its numbers as a table beside it, for screen
// readers and for anyone who prefers numbers; the API scopes what each role sees.
import { h } from "../dom.js";
import { t, label } from "../i18n.js";
import * as api from "../api.js";

const LIB = "/web/vendor/chartjs/chart.umd.js";
export const COLORS = ["#2459d6", "#1d7a46", "#c33228", "#b7791f", "#7b3fc4", "#0f8a8a", "#5f6b7d"];
const PRIORITY_COLORS = { P1: "#c33228", P2: "#dd8a1f", P3: "#2459d6", P4: "#8a94a6" };
const STATUS_COLORS = { assigned: "#2459d6", in_progress: "#1d7a46", suspended: "#b7791f", needs_info: "#7b3fc4" };
const live = new Set();
let loading = null;

/** Chart.js, loaded once from this origin (window.Chart from its UMD build). */
export function chartLib() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = LIB;
      script.onload = () => {
        const Chart = window.Chart;
        Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
        Chart.defaults.color = "#1b2230";
        resolve(Chart);
      };
      script.onerror = () => { loading = null; reject(new Error(t("charts.lib_failed"))); };
      document.head.append(script);
    });
  }
  return loading;
}

/** A day, ISO week or month of the API as a table (or, `short`, an axis) shows it. */
export function periodText(period, short = false) {
  const week = /^(\d{4})-W(\d{2})$/.exec(period || "");
  if (week) return t(short ? "charts.week_short" : "charts.week", { y: week[1], w: Number(week[2]) });
  if (/^\d{4}-\d{2}-\d{2}$/.test(period || "")) return period.slice(5);
  return period;
}

const pct = (v) => (v === null || v === undefined ? t("common.none") : `${(v * 100).toFixed(1)}%`);
const fixed = (v, n = 2) => (v === null || v === undefined ? t("common.none") : Number(v).toFixed(n));

/** Memoised GETs for one page render: cards sharing a figure ask the API once. */
export function loader() {
  const seen = new Map();
  return (path, query) => {
    const key = path + JSON.stringify(query || {});
    if (!seen.has(key)) seen.set(key, api.get(path, query));
    return seen.get(key);
  };
}

/**
 * A card with a title, a chart and its data table. `fill(card)` resolves to
 * {config, summary, head, rows} (or null for "no data"); errors show in the card.
 */
export function chartCard(id, titleKey, fill, { tall = false, intro } = {}) {
  const canvas = h("canvas", { role: "img", "aria-label": t(titleKey) });
  const box = h("div", { class: ["chart-box", tall && "chart-tall"] }, canvas);
  const status = h("p", { class: "muted loading", text: t("common.loading") });
  const data = h("details", { class: "chart-data" }, h("summary", { text: t("charts.show_table") }));
  const card = h("section", { class: "card chart-card", id, "aria-busy": "true" },
    h("h2", { class: "chart-title", text: t(titleKey) }),
    intro ? h("p", { class: "muted small", text: intro }) : null, status, box, data);
  (async () => {
    let result;
    let Chart;
    try {
      [result, Chart] = await Promise.all([fill(card), chartLib()]);
    } catch (err) {
      status.className = "chart-error";
      status.setAttribute("role", "alert");
      status.textContent = err.message || String(err);
      box.hidden = true;
      card.removeAttribute("aria-busy");
      return;
    }
    card.removeAttribute("aria-busy");
    if (!result) {
      status.className = "muted chart-empty";
      status.textContent = t("charts.no_data");
      box.hidden = true;
      data.hidden = true;
      return;
    }
    status.className = "chart-summary small";
    status.textContent = result.summary;
    canvas.setAttribute("aria-label", `${t(titleKey)}: ${result.summary}`);
    if (result.height) box.classList.add(`chart-h${result.height}`);
    data.append(h("div", { class: "table-wrap" }, h("table", { class: "chart-table" },
      h("thead", {}, h("tr", {}, result.head.map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", {}, result.rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0
        ? h("th", { scope: "row", text: c }) : h("td", { class: "num", text: c })))))))));
    for (const old of live) if (!old.canvas.isConnected) { old.destroy(); live.delete(old); }
    live.add(new Chart(canvas, result.config));
  })();
  return card;
}

function options(extra = {}) {
  return { responsive: true, maintainAspectRatio: false, animation: false,
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
    ...extra };
}

const line = (name, data, color, extra = {}) => ({ label: name, data, borderColor: color,
  backgroundColor: color, tension: 0.25, pointRadius: 3, spanGaps: true, ...extra });

// ---- the five charts --------------------------------------------------------------------

export function volumeCard(get, query = {}) {
  return chartCard("chart-volume", "charts.volume", async () => {
    const r = await get("/reports/volume", query);
    const labels = r.rows.map((x) => periodText(x.period, true));
    return {
      summary: t("charts.volume_summary", { created: r.totals.created, resolved: r.totals.resolved }),
      config: { type: "line", data: { labels, datasets: [
        line(t("charts.created"), r.rows.map((x) => x.created), COLORS[0]),
        line(t("charts.resolved"), r.rows.map((x) => x.resolved), COLORS[1]),
      ] }, options: options({ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }) },
      head: [t("charts.period"), t("charts.created"), t("charts.resolved")],
      rows: r.rows.map((x) => [periodText(x.period), x.created, x.resolved]),
    };
  });
}

export function backlogCard(get) {
  return chartCard("chart-backlog", "charts.backlog", async () => {
    const r = await get("/reports/backlog");
    const cell = (s, p) => (r.rows.find((x) => x.status === s && x.priority === p) || {}).count || 0;
    const statuses = r.statuses.filter((s) => r.priorities.some((p) => cell(s, p)));
    if (!r.total) return null;
    return {
      summary: t("charts.backlog_summary", { n: r.total }),
      config: { type: "bar", data: { labels: statuses.map((s) => label("status", s)),
        datasets: r.priorities.map((p) => ({ label: p, data: statuses.map((s) => cell(s, p)),
          backgroundColor: PRIORITY_COLORS[p] || COLORS[6], maxBarThickness: 56 })) },
      options: options({ scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }) },
      head: [t("charts.status"), ...r.priorities, t("charts.total")],
      rows: statuses.map((s) => [label("status", s), ...r.priorities.map((p) => cell(s, p)),
        r.priorities.reduce((n, p) => n + cell(s, p), 0)]),
    };
  });
}

export function slaTrendCard(get, query = {}) {
  return chartCard("chart-sla-trend", "charts.sla_trend", async () => {
    const r = await get("/reports/sla-trend", query);
    if (!r.rows.length) return null;
    const periods = [...new Set(r.rows.map((x) => x.group))].sort();
    const targets = [...new Set(r.rows.map((x) => x.target))];
    const at = (p, tg) => r.rows.find((x) => x.group === p && x.target === tg);
    const met = r.rows.reduce((n, x) => n + x.met_in_time, 0);
    const breached = r.rows.reduce((n, x) => n + x.breached, 0);
    return {
      summary: t("charts.sla_summary", { rate: met + breached ? pct(met / (met + breached)) : t("common.none"), breached }),
      config: { type: "line", data: { labels: periods.map((p) => periodText(p, true)), datasets: targets.map((tg, i) => line(
        t(`sla.target.${tg}`), periods.map((p) => { const x = at(p, tg); return x && x.compliance !== null ? +(x.compliance * 100).toFixed(1) : null; }),
        COLORS[i % COLORS.length])) },
      options: options({ scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } } }) },
      head: [t("charts.period"), t("sla.col.target"), t("reports.met"), t("reports.breached"), t("reports.compliance")],
      rows: r.rows.map((x) => [periodText(x.group), t(`sla.target.${x.target}`), x.met_in_time, x.breached, pct(x.compliance)]),
    };
  });
}

export function satisfactionTrendCard(get, query = { group_by: "period", granularity: "week" }) {
  return chartCard("chart-satisfaction", "charts.satisfaction_trend", async () => {
    const r = await get("/reports/satisfaction", query);
    if (!r.totals.ratings) return null;
    return {
      summary: t("charts.satisfaction_summary", { n: r.totals.ratings,
        product: fixed(r.totals.product_average), service: fixed(r.totals.service_average) }),
      config: { type: "line", data: { labels: r.rows.map((x) => periodText(x.group, true)), datasets: [
        line(t("charts.product_score"), r.rows.map((x) => x.product_average), COLORS[0]),
        line(t("charts.service_score"), r.rows.map((x) => x.service_average), COLORS[1]),
      ] }, options: options({ scales: { y: { min: 1, max: 5, ticks: { stepSize: 1 } } } }) },
      head: [t("charts.period"), t("charts.ratings"), t("charts.product_score"), t("charts.service_score")],
      rows: r.rows.map((x) => [periodText(x.group), x.ratings, fixed(x.product_average), fixed(x.service_average)]),
    };
  });
}

export function workloadCard(get, query = {}) {
  return chartCard("chart-workload", "charts.workload", async () => {
    const r = await get("/reports/workload", query);
    if (!r.rows.length) return null;
    const rows = r.rows.slice(0, 15);
    const name = (x) => x.engineer_name || x.engineer_id.slice(0, 8);
    return {
      height: Math.min(5, Math.max(1, Math.ceil(rows.length / 3))),
      summary: t("charts.workload_summary", { n: r.rows.length,
        open: r.rows.reduce((n, x) => n + x.open, 0),
        hours: r.rows.reduce((n, x) => n + (x.hours || 0), 0).toFixed(1) }),
      config: { type: "bar", data: { labels: rows.map(name), datasets: r.statuses.map((s) => ({
        label: label("status", s), data: rows.map((x) => x.by_status[s] || 0),
        backgroundColor: STATUS_COLORS[s] || COLORS[6], maxBarThickness: 28 })) },
      options: options({ indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } } }) },
      head: [t("reports.engineer"), t("charts.open_tickets"), ...r.statuses.map((s) => label("status", s)), t("charts.hours")],
      rows: r.rows.map((x) => [name(x), x.open, ...r.statuses.map((s) => x.by_status[s] || 0),
        x.hours === null || x.hours === undefined ? t("common.none") : x.hours.toFixed(1)]),
    };
  }, { tall: true });
}
