// The dispatch side of the desk: offers of tickets to providers (#/offers: a provider admin
// accepts or declines their provider's, the desk reads them all), follow-up visits after
// closing P1/P2 tickets (#/follow-ups, the desk: due first, overdue marked, done with a
// note) and the routing rules for support tickets (#/admin/routing-rules, administrators:
// what a rule matches and the provider or engineer it routes to; the API's refusals land
// under the field they name).
import { h, field, select, messageBox, showMessage, badge, onSubmit } from "../dom.js";
import { t, label, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { bodySchema } from "../model.js";
import { dataTable, actButton } from "./webhooks.js";
import { editButton, td } from "./notify-admin.js";

const enc = encodeURIComponent;
const DANGER = "btn btn-small btn-danger-ghost";
const ticketLink = (id, number) => h("a", { href: `#/tickets/${enc(id)}`, class: "mono ticket-link", text: number || id });
const timeEl = (iso, late) => h("time", { datetime: iso || "", class: late && "late", text: fmtTime(iso) });
const isPast = (iso) => Boolean(iso) && new Date(iso).getTime() < Date.now();
const empty = (key) => h("div", { class: "card empty" }, h("p", { text: t(key) }));
const cancelButton = (close) => h("button", { type: "button", class: "btn btn-ghost", text: t("common.cancel"), onClick: close });

/** id -> name of the providers the caller may read ({} when they may read none). */
export async function providerNames() {
  const list = await api.get("/providers").catch(() => ({ items: [] }));
  return Object.fromEntries(list.items.map((p) => [p.id, p.name]));
}

// ---- offers ---------------------------------------------------------------------------------

export async function offersView(root, ctx) {
  const answerer = ctx.user.role === "provider_admin"; // only the offered provider answers
  const box = messageBox("error");
  const pendingSlot = h("div", {}, h("p", { class: "muted loading", text: t("common.loading") }));
  const answeredSlot = h("div", {});
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("offers.title") })),
    h("p", { class: "muted", text: t(answerer ? "offers.intro_provider" : "offers.intro_desk") }), box,
    h("h2", { class: "section-title", text: t("offers.pending") }), pendingSlot,
    h("h2", { class: "section-title", text: t("offers.answered") }), answeredSlot);
  const names = answerer ? {} : await providerNames();

  function declineForm(offer, close) {
    const formBox = messageBox("error");
    const reason = h("input", { type: "text", name: "reason", maxLength: 500 });
    const save = h("button", { type: "submit", class: "btn btn-danger-ghost", text: t("offers.decline") });
    const form = h("form", { class: "decline-form", novalidate: true }, formBox,
      field(t("offers.reason"), reason, { name: "reason", hint: t("offers.reason_hint") }),
      h("div", { class: "form-actions" }, cancelButton(close), save));
    onSubmit(form, formBox, save, async () => {
      await api.post(`/offers/${enc(offer.id)}/decline`, { reason: reason.value.trim() || null });
      ctx.flash(t("offers.declined", { number: offer.ticket_number }));
      await load();
    });
    return form;
  }

  /** Accept, naming the engineer now (assigned at once) or later (on the ticket's page). */
  function acceptForm(offer, tk, close) {
    const formBox = messageBox("error");
    const engineer = select([], { name: "engineer_id", placeholder: t("offers.engineer_later") });
    const save = h("button", { type: "submit", class: "btn btn-primary", text: t("offers.accept") });
    const form = h("form", { class: "accept-form", novalidate: true }, formBox,
      field(t("work.engineer"), engineer, { name: "engineer_id", hint: t("offers.engineer_hint") }),
      h("div", { class: "form-actions" }, cancelButton(close), save));
    if (tk && tk.product_line) {
      api.get("/qualified-engineers", { product_line: tk.product_line, provider_id: offer.provider_id })
        .then((d) => d.items.forEach((e) => engineer.append(h("option", { value: e.id,
          text: t("work.engineer_row", { name: e.name || e.id, load: e.open_load ?? 0 }) }))))
        .catch((err) => showMessage(formBox, err.message));
    }
    onSubmit(form, formBox, save, async () => {
      await api.post(`/offers/${enc(offer.id)}/accept`, engineer.value ? { engineer_id: engineer.value } : {});
      ctx.flash(t("offers.accepted", { number: offer.ticket_number }));
      await load();
    });
    return form;
  }

  function pendingRow(offer, tk) {
    const late = isPast(offer.due_at);
    const tr = h("tr", { dataset: { offerId: offer.id, ticketId: offer.ticket_id }, class: late && "late-row" },
      td("offers.ticket", ticketLink(offer.ticket_id, offer.ticket_number)),
      td("offers.ticket_title", tk ? tk.title : h("span", { class: "muted", text: t("common.none") })),
      td("field.priority", tk && tk.priority ? badge("prio", tk.priority, tk.priority) : t("common.none")),
      answerer ? null : td("offers.provider", names[offer.provider_id] || offer.provider_id),
      td("offers.offered_at", timeEl(offer.offered_at), offer.offered_by ? h("div", { class: "muted small", text: offer.offered_by.name || "" }) : null),
      td("offers.due_at", timeEl(offer.due_at, late), late ? h("div", { class: "late small", text: t("offers.overdue") }) : null),
      answerer ? td("hooks.actions") : null);
    if (answerer) {
      tr.lastChild.append(h("div", { class: "row-actions" },
        editButton(tr, 7, { acceptOffer: offer.id }, (close) => acceptForm(offer, tk, close), "accept", t("offers.accept")),
        editButton(tr, 7, { declineOffer: offer.id }, (close) => declineForm(offer, close), "decline", t("offers.decline"))));
    }
    return tr;
  }

  function answeredRow(offer) {
    return h("tr", { dataset: { offerId: offer.id, status: offer.status } },
      td("offers.ticket", ticketLink(offer.ticket_id, offer.ticket_number)),
      answerer ? null : td("offers.provider", names[offer.provider_id] || offer.provider_id),
      td("offers.status", badge("offer", offer.status, label("offer", offer.status))),
      td("offers.responded_at", timeEl(offer.responded_at || offer.due_at),
        offer.responded_by_name ? h("div", { class: "muted small", text: offer.responded_by_name }) : null),
      td("offers.reason", offer.reason || t("common.none")));
  }

  async function load() {
    let all;
    let pending;
    try { // the list holds the newest 500: the pending ones are asked for on their own
      [all, pending] = await Promise.all([api.get("/offers"), api.get("/offers", { status: "pending" })]);
    } catch (err) { showMessage(box, err.message); return; }
    pending = pending.items.sort((a, b) => String(a.due_at).localeCompare(String(b.due_at)));
    const tickets = await Promise.all(pending.map((o) => api.get(`/tickets/${enc(o.ticket_id)}`).catch(() => null)));
    if (!ctx.current()) return;
    const cols = ["offers.ticket", "offers.ticket_title", "field.priority", !answerer && "offers.provider",
      "offers.offered_at", "offers.due_at", answerer && "hooks.actions"].filter(Boolean);
    pendingSlot.replaceChildren(pending.length
      ? dataTable("offer-table", cols, pending.map((o, i) => pendingRow(o, tickets[i]))) : empty("offers.none_pending"));
    const answered = all.items.filter((o) => o.status !== "pending").slice(0, 20);
    answeredSlot.replaceChildren(answered.length
      ? dataTable("answered-table", ["offers.ticket", !answerer && "offers.provider", "offers.status", "offers.responded_at", "offers.reason"]
        .filter(Boolean), answered.map(answeredRow)) : empty("offers.none_answered"));
  }
  await load();
}

// ---- follow-ups -----------------------------------------------------------------------------

const FOLLOW_UP_FILTERS = [["todo", "fu.todo"], ["overdue", "fu.overdue_only"], ["done", "fu.done_list"]];

export async function followUpsView(root, ctx) {
  const shown = FOLLOW_UP_FILTERS.some(([v]) => v === ctx.query.get("show")) ? ctx.query.get("show") : "todo";
  const box = messageBox("error");
  const tabs = h("nav", { class: "tabs", role: "tablist" }, FOLLOW_UP_FILTERS.map(([v, key]) => h("a", {
    href: `#/follow-ups?show=${v}`, role: "tab", id: `fu-tab-${v}`,
    class: ["tab", shown === v && "active"], "aria-selected": shown === v ? "true" : "false", text: t(key),
  })));
  const slot = h("div", {}, h("p", { class: "muted loading", text: t("common.loading") }));
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("fu.title") })),
    h("p", { class: "muted", text: t("fu.intro") }), tabs, box, slot);

  function doneForm(fu, close) {
    const formBox = messageBox("error");
    const note = h("textarea", { name: "note", rows: 3, maxLength: 5000 });
    const save = h("button", { type: "submit", class: "btn btn-primary", text: t("fu.mark_done") });
    const form = h("form", { class: "done-form", novalidate: true }, formBox,
      field(t("fu.note"), note, { name: "note", required: true, wide: true, hint: t("fu.note_hint") }),
      h("div", { class: "form-actions" }, cancelButton(close), save));
    onSubmit(form, formBox, save, async () => {
      await api.post(`/follow-ups/${enc(fu.id)}/done`, { note: note.value });
      ctx.flash(t("fu.recorded", { number: fu.ticket_number }));
      await load();
    });
    setTimeout(() => note.focus(), 0);
    return form;
  }

  function row(fu) {
    const late = fu.status === "overdue" || (fu.status === "open" && isPast(fu.due_at));
    const tr = h("tr", { dataset: { followUpId: fu.id, status: fu.status }, class: late && "late-row" },
      td("offers.ticket", ticketLink(fu.ticket_id, fu.ticket_number)),
      td("offers.ticket_title", fu.ticket_title || ""),
      td("field.priority", fu.priority ? badge("prio", fu.priority, fu.priority) : t("common.none")),
      td("fu.due_at", timeEl(fu.due_at, late)),
      td("offers.status", badge("fu", late ? "overdue" : fu.status, label("fu.status", late ? "overdue" : fu.status))),
      fu.status === "done"
        ? td("fu.note", h("div", { class: "prewrap", text: fu.note || "" }), h("div", { class: "muted small", text: fmtTime(fu.done_at) }))
        : td("hooks.actions"));
    if (fu.status !== "done") {
      tr.lastChild.append(editButton(tr, 6, { doneFollowUp: fu.id }, (close) => doneForm(fu, close), "done", t("fu.mark_done")));
    }
    return tr;
  }

  async function load() {
    let items;
    try {
      const statuses = shown === "todo" ? ["overdue", "open"] : [shown];
      const pages = await Promise.all(statuses.map((status) => api.get("/follow-ups", { status, page_size: 200 })));
      items = pages.flatMap((p) => p.items).sort((a, b) => String(a.due_at).localeCompare(String(b.due_at)));
      if (shown === "done") items.reverse(); // the latest done first
    } catch (err) { showMessage(box, err.message); return; }
    if (!ctx.current()) return;
    slot.replaceChildren(items.length
      ? dataTable("follow-up-table", ["offers.ticket", "offers.ticket_title", "field.priority", "fu.due_at", "offers.status",
        shown === "done" ? "fu.note" : "hooks.actions"], items.map(row))
      : empty(shown === "done" ? "fu.none_done" : "fu.none"));
  }
  await load();
}

// ---- routing rules --------------------------------------------------------------------------

const RULES_PATH = "/api/v1/admin/routing-rules";
const RULE_TYPES = ["consult", "defect", "customization", "license", "repair", "inspection"];

export async function routingRulesView(root, ctx) {
  const [doc, rules, providers, engineers, products] = await Promise.all([api.schema(), api.get("/admin/routing-rules"),
    api.get("/providers"), api.get("/engineers", { page_size: 200 }), api.productList().catch(() => [])]);
  if (!ctx.current()) return;
  const props = bodySchema(doc, RULES_PATH).properties;
  const types = (props.ticket_type && props.ticket_type.enum) || RULE_TYPES;
  const ticketProps = bodySchema(doc, "/api/v1/tickets").properties;
  const categories = (ticketProps.category && ticketProps.category.enum) || [];
  const lines = [...new Set(products.map((p) => p.product_line).filter(Boolean))].sort();
  const providerName = Object.fromEntries(providers.items.map((p) => [p.id, p.name]));
  const engineerName = Object.fromEntries(engineers.items.map((e) => [e.id, e.name]));
  const box = messageBox("error");
  const formSlot = h("div", {});
  const reload = () => ctx.navigate("/admin/routing-rules");
  const closeForm = () => formSlot.replaceChildren();
  const lineList = h("datalist", { id: "rule-lines" }, lines.map((l) => h("option", { value: l })));

  /** The form for a new rule or a change to one; `close` hides it. */
  function ruleForm(rule, close) {
    const r = rule || {};
    const formBox = messageBox("error");
    const any = t("rules.any");
    const name = h("input", { type: "text", name: "name", value: r.name || "", maxLength: 100, required: true });
    const position = h("input", { type: "number", name: "position", min: "0", value: String(r.position ?? 100) });
    const type = select(types.map((v) => [v, label("type", v)]), { name: "ticket_type", value: r.ticket_type || "", placeholder: any });
    const category = categories.length
      ? select(categories.map((v) => [v, label("category", v)]), { name: "category", value: r.category || "", placeholder: any })
      : h("input", { type: "text", name: "category", value: r.category || "", placeholder: any });
    const line = h("input", { type: "text", name: "product_line", value: r.product_line || "", placeholder: any, list: "rule-lines" });
    const provider = select(providers.items.map((p) => [p.id, p.name]), { name: "provider_id", value: r.provider_id || "", placeholder: t("common.none") });
    const engineer = select(engineers.items.map((e) => [e.id, `${e.name} · ${providerName[e.provider_id] || e.provider_id}`]),
      { name: "engineer_id", value: r.engineer_id || "", placeholder: t("common.none") });
    const active = h("input", { type: "checkbox", name: "active", checked: rule ? r.active : true });
    const save = h("button", { type: "submit", class: "btn btn-primary", text: t(rule ? "common.save" : "rules.create") });
    const form = h("form", { class: "card rule-form", id: rule ? null : "rule-create", novalidate: true },
      rule ? null : h("h2", { class: "h3", text: t("rules.new_title") }),
      formBox,
      h("div", { class: "grid" },
        field(t("rules.name"), name, { name: "name", required: true }),
        field(t("rules.position"), position, { name: "position", hint: t("rules.position_hint") }),
        field(t("field.type"), type, { name: "ticket_type" }),
        field(t("field.category"), category, { name: "category" }),
        field(t("rules.product_line"), line, { name: "product_line" }),
        field(t("rules.provider"), provider, { name: "provider_id", hint: t("rules.target_hint") }),
        field(t("rules.engineer"), engineer, { name: "engineer_id" }),
        h("label", { class: "check" }, active, t("rules.active"))),
      h("div", { class: "form-actions" }, cancelButton(close), save));
    const orNull = (el) => el.value.trim() || null;
    onSubmit(form, formBox, save, async () => {
      const body = { name: name.value.trim(), ticket_type: orNull(type), category: orNull(category),
        product_line: orNull(line), provider_id: orNull(provider), engineer_id: orNull(engineer), active: active.checked };
      if (position.value !== "") body.position = Number(position.value);
      if (rule) await api.request("PATCH", `/admin/routing-rules/${enc(rule.id)}`, { body });
      else await api.post("/admin/routing-rules", body);
      ctx.flash(t("rules.saved", { name: body.name }));
      reload();
    });
    return form;
  }

  const newButton = h("button", { type: "button", class: "btn btn-primary", id: "rule-new", text: t("rules.new"),
    onClick: () => {
      formSlot.replaceChildren(ruleForm(null, closeForm));
      formSlot.querySelector("input").focus();
    } });
  const match = (rule) => {
    const parts = [rule.ticket_type && label("type", rule.ticket_type), rule.category && label("category", rule.category),
      rule.product_line].filter(Boolean);
    return parts.length ? parts.map((p) => h("span", { class: "chip", text: p })) : h("span", { class: "muted", text: t("rules.any_ticket") });
  };
  const rows = rules.items.map((rule) => {
    const tr = h("tr", { dataset: { ruleId: rule.id }, class: !rule.active && "rule-off" },
      td("rules.position", String(rule.position)),
      td("rules.name", h("strong", { text: rule.name })),
      td("rules.matches", match(rule)),
      td("rules.target", rule.provider_id
        ? [t("rules.to_provider"), " ", h("strong", { text: providerName[rule.provider_id] || rule.provider_id })]
        : [t("rules.to_engineer"), " ", h("strong", { text: engineerName[rule.engineer_id] || rule.engineer_id })]),
      td("rules.active", badge("rule", rule.active ? "custom" : "default", t(rule.active ? "nadmin.on" : "nadmin.off"))),
      td("hooks.actions"));
    tr.lastChild.append(h("div", { class: "row-actions" },
      editButton(tr, 6, { editRule: rule.id }, (close) => ruleForm(rule, close)),
      actButton("delete", t("common.delete"), async () => {
        if (!window.confirm(t("rules.delete_confirm", { name: rule.name }))) return;
        await api.request("DELETE", `/admin/routing-rules/${enc(rule.id)}`);
        ctx.flash(t("rules.deleted", { name: rule.name }));
        reload();
      }, box, DANGER)));
    return tr;
  });
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("rules.title") }), newButton),
    h("p", { class: "muted", text: t("rules.intro") }), lineList, box, formSlot,
    rows.length ? dataTable("routing-rule-table", ["rules.position", "rules.name", "rules.matches", "rules.target", "rules.active", "hooks.actions"], rows)
      : empty("rules.none"));
}
