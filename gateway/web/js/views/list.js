// The ticket queue: filters, sortable columns and paging, all kept in the URL
// (#/tickets?status=new&sort=-updated_at&page=2) so back/forward and reload keep the view.
// Issue 14's tools live in their own modules: more filters and chips (list-filters.js), the
// column chooser (list-columns.js), saved views (list-views.js), bulk actions (list-bulk.js).
import { h, select, field, messageBox, showMessage } from "../dom.js";
import { t, label } from "../i18n.js";
import * as api from "../api.js";
import { queryEnum, canCreate } from "../model.js";
import { FILTERS, MORE, loadChoices, moreFilters, activeChips } from "./list-filters.js";
import { COLUMNS, columnLabel, loadSettings, columnChooser } from "./list-columns.js";
import { loadViews, viewBar, viewState } from "./list-views.js";
import { bulkTools } from "./list-bulk.js";
import { splitTags } from "./tags.js";

const SORTS = ["-created_at", "created_at", "-updated_at", "updated_at", "priority", "-priority",
  "-number", "number", "sla_due_at", "-sla_due_at"];
const PAGE_SIZES = ["10", "20", "50", "100"];

function localMidnightIso(date, plusDays = 0) {
  const [y, m, d] = date.split("-").map(Number);
  if (!y || !m || !d) return undefined;
  return new Date(y, m - 1, d + plusDays).toISOString();
}

export async function listView(root, ctx) {
  const q = ctx.query;
  const state = {
    ...Object.fromEntries(FILTERS.map((k) => [k, q.get(k) || ""])), view: q.get("view") || "",
    sort: SORTS.includes(q.get("sort")) ? q.get("sort") : "-created_at",
    page: Math.max(1, parseInt(q.get("page"), 10) || 1),
    page_size: PAGE_SIZES.includes(q.get("page_size")) ? q.get("page_size") : "20",
  };
  const go = (changes) => ctx.navigate("/tickets", { ...state, ...changes });

  const [doc, choices, settings, views] = await Promise.all([api.schema(), loadChoices(ctx.user),
    loadSettings(), loadViews()]);
  const view = views.find((v) => v.id === state.view);
  // a view's own columns win over the user's (those the user may still see)
  const columns = (view && view.columns ? view.columns.filter((c) => settings.available.includes(c)) : null)
    || settings.columns;
  const STATUS = queryEnum(doc, "/api/v1/tickets", "status");
  const TYPES = queryEnum(doc, "/api/v1/tickets", "type");
  const PRIOS = queryEnum(doc, "/api/v1/tickets", "priority");

  // ---- filters
  const c = {
    keyword: h("input", { type: "search", name: "keyword", value: state.keyword, placeholder: t("list.keyword_ph"), maxLength: 200 }),
    status: select(STATUS.map((s) => [s, label("status", s)]), { name: "status", value: state.status, placeholder: t("common.any") }),
    type: select(TYPES.map((s) => [s, label("type", s)]), { name: "type", value: state.type, placeholder: t("common.any") }),
    priority: select(PRIOS.map((s) => [s, s]), { name: "priority", value: state.priority, placeholder: t("common.any") }),
    created_from: h("input", { type: "date", name: "created_from", value: state.created_from }),
    created_to: h("input", { type: "date", name: "created_to", value: state.created_to }),
    sort: select(SORTS.map((s) => [s, t(`sort.${s}`)]), { name: "sort", value: state.sort }),
  };
  const more = moreFilters(state, choices, ctx.user);
  Object.assign(c, more.controls);
  const filters = h("form", { class: "filters card", id: "filters", role: "search" },
    field(t("list.keyword"), c.keyword, { name: "keyword" }),
    field(t("list.status"), c.status, { name: "status" }),
    field(t("list.type"), c.type, { name: "type" }),
    field(t("list.priority"), c.priority, { name: "priority" }),
    field(t("list.created_from"), c.created_from, { name: "created_from" }),
    field(t("list.created_to"), c.created_to, { name: "created_to" }),
    field(t("list.sort"), c.sort, { name: "sort" }),
    h("div", { class: "filters-buttons" },
      h("button", { type: "submit", class: "btn btn-primary", text: t("list.apply") }),
      h("button", { type: "button", class: "btn btn-ghost", text: t("common.reset"),
        onClick: () => ctx.navigate("/tickets", { page_size: state.page_size }) }),
      more.toggle),
    more.fold);
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const next = { page: 1, view: "" };
    for (const k of [...FILTERS, "sort"]) next[k] = c[k] ? c[k].value.trim() : state[k];
    if (!next.tag) next.tag_mode = "";
    go(next);
  });
  c.sort.addEventListener("change", () => go({ sort: c.sort.value, page: 1 }));

  const box = messageBox("error");
  const results = h("div", { class: "results", "aria-live": "polite" },
    h("p", { class: "muted loading", text: t("common.loading") }));
  const chooser = columnChooser(settings, () => { ctx.flash(t("lv.columns_saved")); go({}); });
  const views_ = viewBar(views, state.view, { ...state, columns }, ctx.user,
    (v) => ctx.navigate("/tickets", v ? { ...viewState(v), view: v.id, page_size: state.page_size }
      : { page_size: state.page_size }), ctx.flash);
  const bulk = bulkTools(ctx.user, choices, () => go({}));
  root.append(
    h("div", { class: "page-head" },
      h("h1", { text: t("list.title") }),
      h("div", { class: "page-head-actions" }, chooser.button,
        canCreate(ctx.user) ? h("a", { href: "#/tickets/new", class: "btn btn-primary", text: `+ ${t("nav.new")}` }) : null)),
    views_.bar, views_.form, chooser.panel, filters, activeChips(state, choices, go), box,
    bulk.enabled ? bulk.bar : null, bulk.enabled ? bulk.results : null, results);

  // ---- data
  const query = {
    ...Object.fromEntries(MORE.map((k) => [k, state[k] || undefined])),
    tag: state.tag ? splitTags(state.tag) : undefined,
    tag_mode: state.tag ? state.tag_mode || undefined : undefined,
    // "due by" a day: before the end of that day, like created_to
    sla_due_before: state.sla_due_before ? localMidnightIso(state.sla_due_before, 1) : undefined,
    keyword: state.keyword || undefined,
    status: state.status || undefined,
    type: state.type || undefined,
    priority: state.priority || undefined,
    created_from: state.created_from ? localMidnightIso(state.created_from) : undefined,
    created_to: state.created_to ? localMidnightIso(state.created_to, 1) : undefined,
    sort: state.sort, page: state.page, page_size: state.page_size,
  };
  let page;
  try {
    page = await api.get("/tickets", query);
  } catch (err) {
    results.replaceChildren();
    showMessage(box, err.message);
    return;
  }
  if (!ctx.current()) return;
  const productName = Object.fromEntries(choices.products.map((p) => [p.code, p.name]));

  if (!page.items.length) {
    results.replaceChildren(h("div", { class: "card empty" }, h("p", { text: t("list.empty") })));
    return;
  }

  // ---- the table (cards on a phone)
  const sortHeader = (key, column) => {
    const active = state.sort.replace("-", "") === key;
    const desc = state.sort.startsWith("-");
    // priority "ascending" is P1 first, which people call "highest first"
    const next = active ? (desc ? key : `-${key}`) : (key === "priority" ? key : `-${key}`);
    return h("th", { scope: "col", "aria-sort": active ? (desc ? "descending" : "ascending") : null },
      h("button", { type: "button", class: ["th-sort", active && "active"], "aria-label": t("list.sort_by", { column: t(column) }),
        onClick: () => go({ sort: next, page: 1 }) },
      t(column), h("span", { class: "sort-mark", "aria-hidden": "true", text: active ? (desc ? " ▼" : " ▲") : "" })));
  };
  const thead = h("thead", {}, h("tr", {},
    bulk.enabled ? bulk.headCell() : null,
    columns.map((key) => (COLUMNS[key][1] ? sortHeader(COLUMNS[key][1], COLUMNS[key][0])
      : h("th", { scope: "col", class: `c-${key}`, text: columnLabel(key) })))));
  const env = { productName, href: (tk) => `#/tickets/${encodeURIComponent(tk.id)}` };
  const tbody = h("tbody", {}, page.items.map((tk) => {
    const href = env.href(tk);
    const row = h("tr", { class: "ticket-row", dataset: { number: tk.number } },
      bulk.enabled ? bulk.rowCell(tk) : null,
      columns.map((key) => h("td", { dataset: { label: columnLabel(key) }, class: `c-${key}` },
        COLUMNS[key][2](tk, env))));
    row.addEventListener("click", (e) => {
      if (e.target.closest("a, button, input, label, .c-select")) return;
      location.hash = href;
    });
    return row;
  }));

  const pages = Math.max(1, Math.ceil(page.total / page.page_size));
  const pager = h("nav", { class: "pager", "aria-label": t("list.page", { page: page.page, pages }) },
    h("button", { type: "button", class: "btn", id: "prev-page", disabled: page.page <= 1, text: `‹ ${t("list.prev")}`,
      onClick: () => go({ page: page.page - 1 }) }),
    h("span", { class: "pager-info", id: "page-info" },
      t("list.page", { page: page.page, pages }), " · ",
      // past a threshold intake estimates the total instead of counting every match
      t(page.total_exact === false ? "list.total_about" : "list.total", { total: page.total })),
    h("button", { type: "button", class: "btn", id: "next-page", disabled: page.page >= pages, text: `${t("list.next")} ›`,
      onClick: () => go({ page: page.page + 1 }) }),
    h("label", { class: "pager-size" }, t("list.page_size"), " ",
      select(PAGE_SIZES.map((s) => [s, s]), { name: "page_size", value: state.page_size }),
    ));
  pager.querySelector("select").addEventListener("change", (e) => go({ page_size: e.target.value, page: 1 }));

  results.replaceChildren(
    h("div", { class: "table-wrap card" }, h("table", { class: "tickets", id: "ticket-table" }, thead, tbody)),
    pager);
}
