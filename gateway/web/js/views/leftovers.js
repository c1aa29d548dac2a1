// Leftover items (遗留问题, report template: 遗留问题清单、解决计划及责任人，定期更新进度，直至问题
// 彻底解决): the repeatable rows of the resolve / close form, the card on the ticket page
// (items with their progress, updates, done / cancel) and the list page #/leftovers
// (filters kept in the URL, overdue rows marked).
import { h, field, select, messageBox, showMessage, badge, onSubmit } from "../dom.js";
import { t, label, fmtDate, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { isStaff, isDesk } from "../model.js";
import { dataTable } from "./webhooks.js";
import { td } from "./notify-admin.js";

const enc = encodeURIComponent;
const MAX_ITEMS = 20;
const STATUSES = ["open", "done", "cancelled"];
const ADD_STATUSES = new Set(["resolved", "closed"]);
const pad2 = (n) => String(n).padStart(2, "0");

/** Today as YYYY-MM-DD in local time (the min of a due date). */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

let ownerList = null;
/** The accounts the current user may name as owners (cached for the page's life). */
function owners() {
  if (!ownerList) {
    ownerList = api.get("/leftovers/owners").then((d) => d.items || [])
      .catch((e) => { ownerList = null; throw e; });
  }
  return ownerList;
}

function ownerSelect(name, value) {
  const el = select([], { name, placeholder: t("lo.owner_pick"), required: true });
  owners().then((items) => {
    items.forEach((o) => el.append(h("option", { value: o.id,
      text: `${o.name} · ${label("role", o.role)}${o.company_name ? ` · ${o.company_name}` : ""}` })));
    if (value) el.value = value;
  }).catch(() => {});
  return el;
}

// ---- the rows of the resolve / close form -----------------------------------------------------

function itemRow(section) {
  const description = h("textarea", { rows: 2, maxLength: 5000, required: true, dataset: { part: "description" } });
  const plan = h("textarea", { rows: 2, maxLength: 5000, required: true, dataset: { part: "plan" } });
  const owner = ownerSelect(null);
  owner.dataset.part = "owner_id";
  const due = h("input", { type: "date", min: today(), required: true, dataset: { part: "due_date" } });
  const title = h("h4", { class: "leftover-row-title" });
  const row = h("fieldset", { class: "leftover-row" },
    h("div", { class: "leftover-row-head" }, title,
      h("button", { type: "button", class: "btn btn-small btn-ghost", dataset: { act: "remove-item" },
        text: t("lo.remove"), onClick: () => { row.remove(); section.renumber(); } })),
    field(t("lo.description"), description, { name: "description", required: true, wide: true }),
    field(t("lo.plan"), plan, { name: "plan", required: true, wide: true }),
    h("div", { class: "form-row" },
      field(t("lo.owner"), owner, { name: "owner_id", required: true }),
      field(t("lo.due_date"), due, { name: "due_date", required: true })));
  row.value = () => ({ description: description.value.trim(), plan: plan.value.trim(),
    owner_id: owner.value || null, due_date: due.value || null });
  row.setIndex = (i, prefix) => {
    title.textContent = t("lo.item_n", { n: i + 1 });
    // the API names a refused part "<prefix>.<i>.<part>": errors land under it
    row.querySelectorAll("[data-field]").forEach((f) => {
      const part = f.querySelector("[data-part]").dataset.part;
      f.dataset.field = `${prefix}.${i}.${part}`;
    });
  };
  return row;
}

/** The "leftover items" section: 0..20 repeatable rows; items() reads them for the body. */
export function leftoverSection(prefix = "leftover_items") {
  const rows = h("div", { class: "leftover-rows" });
  const add = h("button", { type: "button", class: "btn btn-small", id: "add-leftover", text: `+ ${t("lo.add_row")}` });
  const section = {
    node: h("div", { class: "leftover-section", dataset: { field: prefix } },
      h("h3", { text: t("lo.section") }),
      h("p", { class: "field-hint", text: t("lo.section_hint") }),
      rows, add, h("p", { class: "field-error", hidden: true })),
    renumber() {
      const all = [...rows.children];
      all.forEach((r, i) => r.setIndex(i, prefix));
      add.disabled = all.length >= MAX_ITEMS;
    },
    items: () => [...rows.children].map((r) => r.value()),
  };
  add.addEventListener("click", () => {
    const row = itemRow(section);
    rows.append(row);
    section.renumber();
    row.querySelector("textarea").focus();
  });
  return section;
}

/** `base` (the resolve form's fields, or null for the desk's close) plus leftover rows. */
export function withLeftovers(base) {
  const section = leftoverSection();
  if (!base) {
    const reason = h("input", { type: "text", name: "reason", maxLength: 2000 });
    base = { nodes: [field(t("detail.reason"), reason, { name: "reason" })], focus: reason,
      body: () => (reason.value.trim() ? { reason: reason.value.trim() } : {}) };
  }
  return { nodes: [...base.nodes, section.node], focus: base.focus, body: () => {
    const out = base.body();
    const items = section.items();
    if (items.length) out.leftover_items = items;
    return out;
  } };
}

// ---- the ticket page ----------------------------------------------------------------------------

function progressBar(percent) {
  // a native <progress>: no inline style (the page's CSP refuses style attributes)
  const p = Math.max(0, Math.min(100, Number(percent) || 0));
  return h("span", { class: "lo-progress" },
    h("progress", { max: "100", value: String(p), "aria-label": `${p}%` }),
    h("span", { class: "lo-progress-text", text: `${p}%` }));
}

function statusBadge(it) {
  return it.overdue ? badge("lo", "overdue", t("lo.overdue_days", { n: it.days_overdue }))
    : badge("lo", it.status, label("lo.status", it.status));
}

function history(it) {
  const rows = (it.updates || []).map((u) => h("li", { class: ["lo-update", u.internal && "lo-update-internal"] },
    h("div", { class: "muted small" }, fmtTime(u.at), " · ", u.actor_name || label("role", u.actor_role), " · ",
      label("lo.kind", u.kind), u.percent !== null && u.percent !== undefined ? ` · ${u.percent}%` : "",
      u.internal ? [" ", h("span", { class: "badge badge-internal", text: t("common.internal") })] : null),
    u.changes && u.changes.due_date ? h("div", { class: "small", text: t("lo.due_moved", { from: fmtDate(u.changes.due_date[0], false), to: fmtDate(u.changes.due_date[1], false) }) }) : null,
    u.note ? h("div", { class: "prewrap", text: u.note }) : null));
  return rows.length ? h("details", { class: "lo-history" },
    h("summary", { text: t("lo.history", { n: rows.length }) }), h("ol", {}, rows)) : null;
}

function updateForm(it, done) {
  const box = messageBox("error");
  const note = h("textarea", { name: "note", rows: 2, maxLength: 5000 });
  const percent = h("input", { type: "number", name: "percent", min: "0", max: "100", step: "5", value: String(it.percent ?? 0) });
  const due = h("input", { type: "date", name: "due_date", min: today(), value: it.due_date || "" });
  const internal = h("input", { type: "checkbox", name: "internal" });
  const save = h("button", { type: "submit", class: "btn btn-primary btn-small", text: t("lo.save_progress") });
  const form = h("form", { class: "lo-form", novalidate: true }, box,
    field(t("lo.note"), note, { name: "note", wide: true }),
    h("div", { class: "form-row" },
      field(t("lo.percent"), percent, { name: "percent" }),
      field(t("lo.due_date"), due, { name: "due_date" })),
    h("label", { class: "check" }, internal, " ", t("lo.internal")),
    h("div", { class: "form-actions" }, save));
  onSubmit(form, box, save, async () => {
    const body = { internal: internal.checked };
    if (note.value.trim()) body.note = note.value.trim();
    if (percent.value !== "" && Number(percent.value) !== it.percent) body.percent = Number(percent.value);
    if (due.value && due.value !== it.due_date) body.due_date = due.value;
    await api.post(`/leftovers/${enc(it.id)}/updates`, body);
    await done(t("lo.updated"));
  });
  return form;
}

function finishForm(it, done) {
  const box = messageBox("error");
  const note = h("input", { type: "text", name: "note", maxLength: 5000 });
  const form = h("form", { class: "lo-form", novalidate: true }, box,
    field(t("lo.finish_note"), note, { name: "note", wide: true, hint: t("lo.finish_hint") }));
  const act = (kind) => h("button", { type: "button", class: ["btn btn-small", kind === "done" ? "btn-primary" : "btn-danger-ghost"],
    dataset: { act: kind }, text: t(kind === "done" ? "lo.mark_done" : "lo.cancel_item"),
    onClick: async (e) => {
      showMessage(box, "");
      e.currentTarget.disabled = true;
      try {
        await api.post(`/leftovers/${enc(it.id)}/${kind}`, note.value.trim() ? { note: note.value.trim() } : {});
        await done(t(kind === "done" ? "lo.marked_done" : "lo.cancelled"));
      } catch (err) {
        e.currentTarget.disabled = false;
        showMessage(box, err.message);
      }
    } });
  form.append(h("div", { class: "form-actions" }, act("cancel"), act("done")));
  return form;
}

function itemView(it, env) {
  const slot = h("div", { class: "lo-slot" });
  // one form open at a time under the item; its button again closes it
  const toggle = (make) => () => {
    const closing = slot.dataset.open === make.name;
    if (closing) slot.replaceChildren(); else slot.replaceChildren(make(it, env.reload));
    slot.dataset.open = closing ? "" : make.name;
  };
  const staff = isStaff(env.user) && it.status === "open";
  return h("li", { class: ["leftover", it.overdue && "leftover-overdue", `leftover-${it.status}`], dataset: { itemId: it.id, status: it.status } },
    h("div", { class: "leftover-top" },
      h("span", { class: "leftover-seq mono", text: `#${it.seq}` }),
      h("span", { class: "leftover-desc prewrap", text: it.description }),
      statusBadge(it)),
    h("dl", { class: "facts leftover-facts" },
      h("dt", { text: t("lo.plan") }), h("dd", { class: "prewrap", text: it.plan }),
      h("dt", { text: t("lo.owner") }), h("dd", { text: it.owner_name || it.owner_id }),
      h("dt", { text: t("lo.due_date") }), h("dd", {}, h("time", { datetime: it.due_date, class: it.overdue && "late", text: fmtDate(it.due_date, false) })),
      h("dt", { text: t("lo.progress") }), h("dd", {}, progressBar(it.percent)),
      it.reason ? [h("dt", { text: t(it.status === "cancelled" ? "lo.cancel_reason" : "lo.done_note") }), h("dd", { class: "prewrap", text: it.reason })] : null),
    history(it),
    staff ? h("div", { class: "leftover-actions" },
      h("button", { type: "button", class: "btn btn-small", dataset: { act: "progress" }, text: t("lo.update"), onClick: toggle(updateForm) }),
      h("button", { type: "button", class: "btn btn-small", dataset: { act: "finish" }, text: t("lo.finish"), onClick: toggle(finishForm) })) : null,
    slot);
}

function addForm(tk, env) {
  const box = messageBox("error");
  const section = leftoverSection("items");
  const save = h("button", { type: "submit", class: "btn btn-primary", text: t("lo.add_save") });
  const form = h("form", { class: "lo-add-form", id: "leftover-add-form", novalidate: true }, box, section.node,
    h("div", { class: "form-actions" }, save));
  onSubmit(form, box, save, async () => {
    await api.post(`/tickets/${enc(tk.id)}/leftovers`, { items: section.items() });
    await env.reload(t("lo.added"));
  });
  form.querySelector("#add-leftover").click();
  return form;
}

/** The ticket page's card: null when there are no items and the reader may add none. */
export function leftoverCard(tk, env) {
  const items = tk.leftover_items || [];
  const user = env.user;
  const canAdd = ADD_STATUSES.has(tk.status) && (isDesk(user) || (user.role === "engineer" && tk.handler_id === user.id)
    || (user.role === "provider_admin" && tk.provider_id && tk.provider_id === user.company_id));
  if (!items.length && !canAdd) return null;
  const slot = h("div", {});
  const open = items.filter((i) => i.status === "open").length;
  return h("section", { class: "card leftover-card", id: "leftovers" },
    h("h2", {}, t("lo.section"), h("span", { class: "count", text: String(items.length) })),
    items.length ? h("p", { class: "muted small", text: t("lo.summary", { open, total: items.length }) }) : null,
    items.length ? h("ol", { class: "leftover-list" }, items.map((it) => itemView(it, env))) : null,
    canAdd ? h("button", { type: "button", class: "btn btn-small", id: "leftover-add", text: `+ ${t("lo.add_later")}`,
      onClick: () => { if (slot.firstElementChild) slot.replaceChildren(); else slot.replaceChildren(addForm(tk, env)); } }) : null,
    slot);
}

// ---- the list page #/leftovers ------------------------------------------------------------------

export async function leftoversView(root, ctx) {
  const q = ctx.query;
  const staff = isStaff(ctx.user);
  const state = {
    status: STATUSES.includes(q.get("status")) ? q.get("status") : (q.has("status") ? "" : "open"),
    overdue: q.get("overdue") === "true" ? "true" : "",
    owner: staff && q.get("owner") === "me" ? "me" : "",
    due_from: q.get("due_from") || "", due_to: q.get("due_to") || "",
    page: Math.max(1, parseInt(q.get("page"), 10) || 1),
  };
  const go = (changes) => ctx.navigate("/leftovers", { ...state, ...changes });
  const c = {
    status: select(STATUSES.map((s) => [s, label("lo.status", s)]), { name: "status", value: state.status, placeholder: t("common.any") }),
    overdue: h("input", { type: "checkbox", name: "overdue", checked: state.overdue === "true" }),
    owner: staff ? h("input", { type: "checkbox", name: "owner", checked: state.owner === "me" }) : null,
    due_from: h("input", { type: "date", name: "due_from", value: state.due_from }),
    due_to: h("input", { type: "date", name: "due_to", value: state.due_to }),
  };
  const filters = h("form", { class: "filters card", id: "leftover-filters", role: "search" },
    field(t("lo.status_filter"), c.status, { name: "status" }),
    field(t("lo.due_from"), c.due_from, { name: "due_from" }),
    field(t("lo.due_to"), c.due_to, { name: "due_to" }),
    h("div", { class: "lo-checks" },
      h("label", { class: "check" }, c.overdue, " ", t("lo.only_overdue")),
      c.owner ? h("label", { class: "check" }, c.owner, " ", t("lo.only_mine")) : null),
    h("div", { class: "filters-buttons" },
      h("button", { type: "submit", class: "btn btn-primary", text: t("list.apply") }),
      h("button", { type: "button", class: "btn btn-ghost", text: t("common.reset"), onClick: () => ctx.navigate("/leftovers") })));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    go({ page: 1, status: c.status.value, overdue: c.overdue.checked ? "true" : "",
      owner: c.owner && c.owner.checked ? "me" : "", due_from: c.due_from.value, due_to: c.due_to.value });
  });
  const box = messageBox("error");
  const slot = h("div", {}, h("p", { class: "muted loading", text: t("common.loading") }));
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("lo.title") })),
    h("p", { class: "muted", text: t(staff ? "lo.intro_staff" : "lo.intro_customer") }), filters, box, slot);

  const query = { page: state.page, page_size: 50 };
  for (const k of ["status", "overdue", "owner", "due_from", "due_to"]) if (state[k]) query[k] = state[k];
  let page;
  try { page = await api.get("/leftovers", query); } catch (err) { showMessage(box, err.message); slot.replaceChildren(); return; }
  if (!ctx.current()) return;
  if (!page.items.length) {
    slot.replaceChildren(h("div", { class: "card empty" }, h("p", { text: t("lo.none") })));
    return;
  }
  const rows = page.items.map((it) => h("tr", { class: it.overdue && "late-row", dataset: { itemId: it.id, status: it.status } },
    td("lo.ticket", h("a", { href: `#/tickets/${enc(it.ticket_id)}`, class: "mono ticket-link", text: it.ticket_number }),
      h("div", { class: "muted small lo-ticket-title", text: it.ticket_title || "" })),
    h("td", { class: "c-title", dataset: { label: t("lo.item") } },
      h("span", { class: "mono muted", text: `#${it.seq} ` }), h("span", { class: "lo-desc", text: it.description })),
    td("lo.owner", it.owner_name || it.owner_id),
    staff ? td("lo.company", it.company_name || t("common.none")) : null,
    td("lo.due_date", h("time", { datetime: it.due_date, class: it.overdue && "late", text: fmtDate(it.due_date, false) })),
    td("lo.status_filter", statusBadge(it)),
    td("lo.progress", progressBar(it.percent))));
  const keys = ["lo.ticket", "lo.item", "lo.owner", staff ? "lo.company" : null, "lo.due_date", "lo.status_filter", "lo.progress"].filter(Boolean);
  const pages = Math.max(1, Math.ceil(page.total / page.page_size));
  slot.replaceChildren(...[
    h("p", { class: "muted small", id: "leftover-total", text: t("lo.total", { n: page.total }) }),
    dataTable("leftover-table", keys, rows),
    pages > 1 ? h("div", { class: "pager" },
      h("button", { type: "button", class: "btn btn-small", disabled: state.page <= 1, text: t("lo.prev"), onClick: () => go({ page: state.page - 1 }) }),
      h("span", { class: "muted", text: `${state.page} / ${pages}` }),
      h("button", { type: "button", class: "btn btn-small", disabled: state.page >= pages, text: t("lo.next"), onClick: () => go({ page: state.page + 1 }) })) : null,
  ].filter(Boolean));
}
