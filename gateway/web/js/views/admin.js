// Administrators: approve or reject registrations (binding a company and a role), and
// find users to unlock accounts locked by wrong passwords.
import { h, field, select, tabbed, messageBox, showMessage, showErrors, clearErrors, busy, badge } from "../dom.js";
import { t, label, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { bodySchema, ROLE_COMPANY_KIND } from "../model.js";

export async function adminView(root, ctx) {
  const { tab, tabs, body } = tabbed("/admin/users", [["pending", "admin.pending"], ["users", "admin.users"]], ctx.query);
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("admin.title") })), tabs, body);
  const [doc, companies] = await Promise.all([api.schema(), api.get("/admin/companies").then((d) => d.items)]);
  if (!ctx.current()) return;
  if (tab === "pending") await pending(body, ctx, doc, companies);
  else await users(body, ctx, companies);
}

async function pending(body, ctx, doc, companies) {
  const roles = (bodySchema(doc, "/api/v1/admin/users/{user_id}/approve").properties.role || {}).enum || Object.keys(ROLE_COMPANY_KIND);
  const page = await api.get("/admin/users", { status: "pending", page_size: 100 });
  if (!ctx.current()) return;
  if (!page.items.length) {
    body.replaceChildren(h("div", { class: "card empty" }, h("p", { text: t("admin.no_pending") })));
    return;
  }
  body.replaceChildren(h("div", { class: "pending-list" }, page.items.map((u) => pendingCard(u, roles, companies, ctx))));
}

function pendingCard(u, roles, companies, ctx) {
  const box = messageBox("error");
  const role = select(roles.map((r) => [r, label("role", r)]), { name: "role", value: "customer" });
  const company = h("select", { name: "company_id" });
  const note = h("input", { type: "text", name: "note", maxLength: 1000 });
  const claimed = (u.company_name_claimed || "").trim().toLowerCase();
  function fillCompanies() {
    const kind = ROLE_COMPANY_KIND[role.value];
    const fits = companies.filter((c) => c.kind === kind && c.active !== false);
    const previous = company.value;
    company.replaceChildren(
      h("option", { value: "", text: kind === "vendor" ? t("admin.company_none") : t("admin.company_pick") }),
      ...fits.map((c) => h("option", { value: c.id, text: c.name })));
    const match = fits.find((c) => c.id === previous) || fits.find((c) => c.name.trim().toLowerCase() === claimed);
    company.value = match ? match.id : "";
  }
  role.addEventListener("change", fillCompanies);
  fillCompanies();
  const approve = h("button", { type: "submit", class: "btn btn-primary", text: t("admin.approve") });
  const reject = h("button", { type: "button", class: "btn btn-danger-ghost", text: t("admin.reject") });
  const form = h("form", { class: "card pending-card", dataset: { userId: u.id }, novalidate: true },
    h("div", { class: "pending-who" },
      h("h2", { class: "h3", text: u.name }),
      h("dl", { class: "facts facts-inline" },
        [[t("admin.phone"), u.phone], [t("admin.email"), u.email], [t("admin.position"), u.position],
          [t("admin.claimed_company"), u.company_name_claimed], [t("admin.registered_at"), fmtTime(u.created_at)]]
          .filter(([, v]) => v).map(([k, v]) => h("div", {}, h("dt", { text: k }), h("dd", { text: v }))))),
    box,
    h("div", { class: "grid grid-3" },
      field(t("admin.role"), role, { name: "role", required: true }),
      field(t("admin.company"), company, { name: "company_id" }),
      field(t("admin.note"), note, { name: "note" })),
    h("div", { class: "form-actions" }, reject, approve));
  async function act(kind, button) {
    clearErrors(form, box);
    const payload = kind === "approve"
      ? { role: role.value, company_id: company.value || null, note: note.value.trim() || null }
      : { note: note.value.trim() || null };
    busy(button, true);
    try {
      await api.post(`/admin/users/${encodeURIComponent(u.id)}/${kind}`, payload);
      ctx.flash(t(kind === "approve" ? "admin.approved" : "admin.rejected", { name: u.name }));
      form.remove();
    } catch (err) {
      busy(button, false);
      showErrors(form, box, err);
    }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); act("approve", approve); });
  reject.addEventListener("click", () => act("reject", reject));
  return form;
}

async function users(body, ctx, companies) {
  const q = ctx.query;
  const state = { tab: "users", q: q.get("q") || "", status: q.get("status") || "", page: Math.max(1, parseInt(q.get("page"), 10) || 1) };
  const companyName = Object.fromEntries(companies.map((c) => [c.id, c.name]));
  const search = h("input", { type: "search", name: "q", value: state.q, placeholder: t("admin.search"), maxLength: 100 });
  const status = select(["pending", "active", "rejected", "disabled"].map((s) => [s, label("userstatus", s)]),
    { name: "status", value: state.status, placeholder: t("common.any") });
  const form = h("form", { class: "filters card", role: "search" },
    field(t("common.search"), search, { name: "q" }),
    field(t("admin.status"), status, { name: "status" }),
    h("div", { class: "filters-buttons" }, h("button", { type: "submit", class: "btn btn-primary", text: t("common.search") })));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate("/admin/users", { ...state, q: search.value.trim(), status: status.value, page: 1 });
  });
  const box = messageBox("error");
  const out = h("div", { class: "results" });
  body.replaceChildren(form, box, out);
  let page;
  try {
    page = await api.get("/admin/users", { q: state.q || undefined, status: state.status || undefined, page: state.page, page_size: 20 });
  } catch (err) {
    showMessage(box, err.message);
    return;
  }
  if (!ctx.current()) return;
  if (!page.items.length) {
    out.replaceChildren(h("div", { class: "card empty" }, h("p", { text: t("admin.no_users") })));
    return;
  }
  const now = Date.now();
  const td = (key, ...c) => h("td", { dataset: { label: t(key) } }, ...c);
  const rows = page.items.map((u) => {
    const locked = u.locked_until && new Date(u.locked_until).getTime() > now;
    const cell = td("admin.status", badge("ustatus", u.status, label("userstatus", u.status)));
    if (locked) {
      const unlock = h("button", { type: "button", class: "btn btn-small", text: t("admin.unlock"), dataset: { unlock: u.id } });
      unlock.addEventListener("click", async () => {
        busy(unlock, true);
        try {
          await api.post(`/admin/users/${encodeURIComponent(u.id)}/unlock`);
          ctx.flash(t("admin.unlocked", { name: u.name }));
          ctx.navigate("/admin/users", state);
        } catch (err) {
          busy(unlock, false);
          showMessage(box, err.message);
        }
      });
      cell.append(" ", badge("ustatus", "locked", t("admin.locked_until", { until: fmtTime(u.locked_until) })), " ", unlock);
    }
    return h("tr", { dataset: { userId: u.id } },
      td("admin.name", u.name || ""),
      td("admin.phone", u.phone || ""),
      td("admin.email", u.email || ""),
      td("admin.role", label("role", u.role)),
      td("admin.company", u.company_id ? companyName[u.company_id] || ""
        : u.company_name_claimed ? h("span", { class: "muted", text: t("admin.as_typed", { name: u.company_name_claimed }) }) : ""),
      cell);
  });
  const pages = Math.max(1, Math.ceil(page.total / page.page_size));
  out.replaceChildren(
    h("div", { class: "table-wrap card" }, h("table", { class: "users", id: "user-table" },
      h("thead", {}, h("tr", {}, ["admin.name", "admin.phone", "admin.email", "admin.role", "admin.company", "admin.status"]
        .map((k) => h("th", { scope: "col", text: t(k) })))),
      h("tbody", {}, rows))),
    h("nav", { class: "pager" },
      h("button", { type: "button", class: "btn", disabled: page.page <= 1, text: `‹ ${t("list.prev")}`,
        onClick: () => ctx.navigate("/admin/users", { ...state, page: page.page - 1 }) }),
      h("span", { class: "pager-info", text: `${t("list.page", { page: page.page, pages })} · ${t("admin.total", { total: page.total })}` }),
      h("button", { type: "button", class: "btn", disabled: page.page >= pages, text: `${t("list.next")} ›`,
        onClick: () => ctx.navigate("/admin/users", { ...state, page: page.page + 1 }) })));
}
