// The ticket list's filters beyond the first row: product line, product, customer company,
// device SN, handler, number, SLA breached and (staff) tags - in a "more filters" fold so the
// form does not become a wall - and the active filters as removable chips.
// Every filter is one the API's list takes (GET /tickets); selects are fed by the catalog,
// companies and engineers APIs where the user may read them.
import { h, select, field } from "../dom.js";
import { t, label, fmtDate } from "../i18n.js";
import * as api from "../api.js";
import { isStaff, isDesk } from "../model.js";
import { splitTags } from "./tags.js";

export const BASIC = ["keyword", "status", "type", "priority", "created_from", "created_to"];
export const MORE = ["product_line", "product", "company_id", "submitter_id", "device_sn", "handler_id",
  "number", "sla_due_before", "sla_breached", "tag", "tag_mode"];
export const FILTERS = [...BASIC, ...MORE];
const LABELS = {
  keyword: "list.keyword", status: "list.status", type: "list.type", priority: "list.priority",
  created_from: "list.created_from", created_to: "list.created_to", product_line: "lv.product_line",
  product: "lv.product", company_id: "lv.company", device_sn: "lv.device_sn", handler_id: "lv.handler",
  number: "lv.number", sla_breached: "lv.sla_breached", submitter_id: "lv.submitter",
  sla_due_before: "lv.sla_due_before", tag: "lv.tags", tag_mode: "lv.tag_mode",
};
export const filterLabel = (key) => t(LABELS[key] || key);

/** Choices for the selects: products and their lines (everyone), companies (the desk),
 *  engineers (the desk and provider admins), the company's people (a customer company's
 *  admin: whose tickets); each empty when the API refuses. */
export async function loadChoices(user) {
  const none = () => [];
  const [products, companies, engineers, users] = await Promise.all([
    api.productList().catch(none),
    isDesk(user) ? api.get("/admin/companies", { kind: "customer" }).then((d) => d.items).catch(none) : [],
    isDesk(user) || (user && user.role === "provider_admin")
      ? api.get("/engineers", { page_size: 200 }).then((d) => d.items).catch(none) : [],
    user && user.role === "customer_admin"
      ? api.get("/admin/users", { status: "active", page_size: 100 }).then((d) => d.items).catch(none) : [],
  ]);
  const lines = [...new Set(products.map((p) => p.product_line))].sort();
  return { products, lines, companies, engineers, users };
}

const engineerId = (e) => e.user_id || e.id;

/** The fold's controls, keyed by filter name, and the fold itself. */
export function moreFilters(state, choices, user) {
  const staff = isStaff(user);
  const c = {
    product_line: select(choices.lines.map((l) => [l, l]), { name: "product_line", value: state.product_line, placeholder: t("common.any") }),
    product: select(choices.products.map((p) => [p.code, p.name]), { name: "product", value: state.product, placeholder: t("common.any") }),
    company_id: choices.companies.length
      ? select(choices.companies.map((co) => [co.id, co.name]), { name: "company_id", value: state.company_id, placeholder: t("common.any") })
      : null,
    submitter_id: choices.users.length
      ? select(choices.users.map((u) => [u.id, u.name || u.id]), { name: "submitter_id", value: state.submitter_id, placeholder: t("common.any") })
      : null,
    device_sn: h("input", { type: "text", name: "device_sn", value: state.device_sn, maxLength: 64 }),
    handler_id: choices.engineers.length
      ? select(choices.engineers.map((e) => [engineerId(e), e.name || engineerId(e)]), { name: "handler_id", value: state.handler_id, placeholder: t("common.any") })
      : null,
    number: h("input", { type: "text", name: "number", value: state.number, maxLength: 32, placeholder: "TS2026…" }),
    sla_due_before: h("input", { type: "date", name: "sla_due_before", value: state.sla_due_before }),
    sla_breached: select([["true", t("lv.yes")], ["false", t("lv.no")]], { name: "sla_breached", value: state.sla_breached, placeholder: t("common.any") }),
    tag: staff ? h("input", { type: "text", name: "tag", value: state.tag, maxLength: 200, placeholder: t("lv.tags_ph") }) : null,
    tag_mode: staff ? select([["any", t("lv.tag_mode.any")], ["all", t("lv.tag_mode.all")]], { name: "tag_mode", value: state.tag_mode || "any" }) : null,
  };
  const open = MORE.some((k) => k !== "tag_mode" && state[k]);
  const fold = h("div", { class: "more-filters", id: "more-filters", hidden: !open },
    MORE.filter((k) => c[k]).map((k) => field(filterLabel(k), c[k], { name: k })));
  const toggle = h("button", { type: "button", class: "btn btn-ghost", id: "more-filters-toggle",
    "aria-controls": "more-filters", "aria-expanded": String(open), text: t(open ? "lv.fewer_filters" : "lv.more_filters") });
  toggle.addEventListener("click", () => {
    fold.hidden = !fold.hidden;
    toggle.setAttribute("aria-expanded", String(!fold.hidden));
    toggle.textContent = t(fold.hidden ? "lv.more_filters" : "lv.fewer_filters");
  });
  return { controls: c, fold, toggle };
}

/** The text a chip shows for one active filter. */
function chipValue(key, value, choices) {
  if (key === "status") return value.split(",").map((v) => label("status", v)).join(", ");
  if (key === "type") return value.split(",").map((v) => label("type", v)).join(", ");
  if (key === "product") return (choices.products.find((p) => p.code === value) || {}).name || value;
  if (key === "company_id") return (choices.companies.find((co) => co.id === value) || {}).name || value;
  if (key === "handler_id") return (choices.engineers.find((e) => engineerId(e) === value) || {}).name || value;
  if (key === "sla_breached") return t(value === "true" ? "lv.yes" : "lv.no");
  if (key === "submitter_id") return (choices.users.find((u) => u.id === value) || {}).name || value;
  if (key === "created_from" || key === "created_to" || key === "sla_due_before") return fmtDate(value, false);
  if (key === "tag") return splitTags(value).join(", ");
  return value;
}

/** The active filters as chips; × removes one (and goes to page 1). */
export function activeChips(state, choices, go) {
  const active = FILTERS.filter((k) => k !== "tag_mode" && state[k]);
  if (!active.length) return null;
  const clear = {};
  for (const k of FILTERS) clear[k] = "";
  return h("div", { class: "filter-chips", id: "filter-chips", "aria-label": t("lv.active") },
    active.map((k) => h("span", { class: "chip chip-filter", dataset: { filter: k } },
      h("span", { class: "chip-name", text: `${filterLabel(k)}: ` }),
      h("span", { text: chipValue(k, state[k], choices) }),
      h("button", { type: "button", class: "chip-x", "aria-label": t("lv.remove_filter", { name: filterLabel(k) }),
        text: "×", onClick: () => go({ [k]: "", ...(k === "tag" ? { tag_mode: "" } : {}), page: 1, view: "" }) }))),
    h("button", { type: "button", class: "btn btn-ghost btn-small", id: "clear-filters", text: t("lv.clear_all"),
      onClick: () => go({ ...clear, page: 1, view: "" }) }));
}

