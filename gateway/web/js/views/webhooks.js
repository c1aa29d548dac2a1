// Webhooks (#/webhooks, #/webhooks/<id>) for administrators and internal systems (the API
// lets each see its own; admins see all): register one (the secret is shown once), change,
// switch off and on, delete, send a test ping, and read a webhook's delivery log with every
// attempt's response code, replaying any delivery. `deliveryLog` is also the all-deliveries
// tab of views/notify-admin.js.
import { h, field, select, messageBox, showMessage, showErrors, clearErrors, busy, badge } from "../dom.js";
import { t, label, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { queryEnum } from "../model.js";

const REFRESH_MS = 1500; // while a delivery on screen is pending, the log reads itself again

const hookPath = (id) => `/webhooks/${encodeURIComponent(id)}`;
export const replayPath = (hookId, deliveryId) =>
  `${hookPath(hookId)}/deliveries/${encodeURIComponent(deliveryId)}/replay`;

/** A small button that runs `run` (busy meanwhile); a refusal goes into the message `box`. */
export function actButton(act, text, run, box, cls = "btn btn-small") {
  return h("button", { type: "button", class: cls, dataset: { act }, text,
    onClick: async (e) => {
      const b = e.currentTarget;
      showMessage(box, "");
      busy(b, true);
      try { await run(); } catch (err) { showMessage(box, err.message); } finally { if (b.isConnected) busy(b, false); }
    } });
}

/** A table in a card: column headers from i18n keys, then the rows. */
export function dataTable(id, keys, rows) {
  return h("div", { class: "table-wrap card" }, h("table", { id },
    h("thead", {}, h("tr", {}, keys.map((k) => h("th", { scope: "col", text: t(k) })))),
    h("tbody", {}, rows)));
}

/** "a.b, c.d e" -> ["a.b", "c.d", "e"] */
const splitTypes = (s) => s.split(/[\s,，]+/).map((x) => x.trim()).filter(Boolean);

function statusBadge(hook) {
  return hook.active ? badge("hook", "active", t("hooks.active"))
    : badge("hook", "disabled", hook.disabled_reason ? t("hooks.disabled_because", { reason: hook.disabled_reason }) : t("hooks.disabled"));
}

/** The form for a new webhook or a change to one (`hook`); resolves the API's answer. */
function hookForm(hook, onDone, onCancel) {
  const url = h("input", { type: "url", name: "url", value: hook ? hook.url : "", required: true, maxLength: 2048,
    placeholder: "https://example.com/gongdan-hook" });
  const types = h("input", { type: "text", name: "event_types", value: hook ? hook.event_types.join(", ") : "",
    placeholder: "intake.ticket_created, dispatch.*" });
  const description = h("input", { type: "text", name: "description", value: (hook && hook.description) || "", maxLength: 300 });
  const secret = h("input", { type: "text", name: "secret", maxLength: 200, autocomplete: "off" });
  const box = messageBox("error");
  const submit = h("button", { type: "submit", class: "btn btn-primary", text: t(hook ? "common.save" : "hooks.create") });
  const form = h("form", { class: "card hook-form", id: hook ? "hook-edit" : "hook-create", novalidate: true },
    h("h2", { class: "h3", text: t(hook ? "hooks.edit_title" : "hooks.new_title") }),
    box,
    h("div", { class: "grid" },
      field(t("hooks.url"), url, { name: "url", required: true, wide: true, hint: t("hooks.url_hint") }),
      field(t("hooks.event_types"), types, { name: "event_types", wide: true, hint: t("hooks.event_types_hint") }),
      field(t("hooks.description"), description, { name: "description" }),
      field(t(hook ? "hooks.new_secret" : "hooks.secret"), secret, { name: "secret", hint: t(hook ? "hooks.new_secret_hint" : "hooks.secret_hint") })),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn btn-ghost", text: t("common.cancel"), onClick: onCancel }), submit));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    const body = { url: url.value.trim(), event_types: splitTypes(types.value),
      description: description.value.trim() || null };
    if (secret.value) body.secret = secret.value;
    busy(submit, true);
    try {
      const out = hook ? await api.request("PATCH", hookPath(hook.id), { body })
        : await api.post("/webhooks", body);
      onDone(out);
    } catch (err) {
      busy(submit, false);
      showErrors(form, box, err);
    }
  });
  return form;
}

export async function webhooksView(root, ctx) {
  const box = messageBox("error");
  const formSlot = h("div", { class: "hook-form-slot" });
  const secretSlot = h("div", {});
  const listSlot = h("div", {}, h("p", { class: "muted loading", text: t("common.loading") }));
  const closeForm = () => formSlot.replaceChildren();
  const newButton = h("button", { type: "button", class: "btn btn-primary", id: "hook-new", text: t("hooks.new"),
    onClick: () => {
      secretSlot.replaceChildren();
      formSlot.replaceChildren(hookForm(null, (created) => {
        closeForm();
        secretSlot.replaceChildren(h("div", { class: "msg msg-warn hook-secret", id: "hook-secret", role: "status" },
          h("p", { text: t("hooks.secret_once", { url: created.url }) }),
          h("code", { class: "mono secret-value", text: created.secret })));
        load();
      }, closeForm));
      formSlot.querySelector("input").focus();
    } });
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("hooks.title") }), newButton),
    h("p", { class: "muted", text: t("hooks.intro") }), box, secretSlot, formSlot, listSlot);

  function row(hook) {
    const btn = (name, text, fn, cls) => actButton(name, text, fn, box, cls);
    const td = (key, ...c) => h("td", { dataset: { label: t(key) } }, ...c);
    return h("tr", { dataset: { hookId: hook.id } },
      td("hooks.url", h("a", { href: `#/webhooks/${encodeURIComponent(hook.id)}`, class: "hook-url mono", text: hook.url }),
        hook.description ? h("div", { class: "muted small", text: hook.description }) : null),
      td("hooks.event_types", hook.event_types.length
        ? hook.event_types.map((x) => h("span", { class: "chip", text: x })) : h("span", { class: "muted", text: t("hooks.all_events") })),
      td("hooks.status", statusBadge(hook),
        hook.failure_streak ? h("div", { class: "muted small", text: t("hooks.failures", { n: hook.failure_streak }) }) : null),
      td("hooks.actions", h("div", { class: "row-actions" },
        btn("edit", t("common.edit"), async () => {
          secretSlot.replaceChildren();
          formSlot.replaceChildren(hookForm(hook, () => { closeForm(); ctx.flash(t("hooks.saved")); load(); }, closeForm));
          formSlot.scrollIntoView({ block: "nearest" });
        }),
        btn("toggle", t(hook.active ? "hooks.deactivate" : "hooks.activate"), async () => {
          await api.request("PATCH", hookPath(hook.id), { body: { active: !hook.active } });
          await load();
        }),
        btn("ping", t("hooks.ping"), async () => {
          await api.post(`${hookPath(hook.id)}/ping`);
          ctx.flash(t("hooks.ping_queued"));
          ctx.navigate(`/webhooks/${hook.id}`);
        }),
        h("a", { class: "btn btn-small btn-ghost", href: `#/webhooks/${encodeURIComponent(hook.id)}`, text: t("hooks.deliveries") }),
        btn("delete", t("common.delete"), async () => {
          if (!window.confirm(t("hooks.delete_confirm", { url: hook.url }))) return;
          await api.request("DELETE", hookPath(hook.id));
          ctx.flash(t("hooks.deleted"));
          await load();
        }, "btn btn-small btn-danger-ghost"))));
  }

  async function load() {
    let data;
    try { data = await api.get("/webhooks"); } catch (err) { showMessage(box, err.message); return; }
    if (!ctx.current()) return;
    listSlot.replaceChildren(data.items.length
      ? dataTable("hook-table", ["hooks.url", "hooks.event_types", "hooks.status", "hooks.actions"], data.items.map(row))
      : h("div", { class: "card empty" }, h("p", { text: t("hooks.none") })));
  }
  await load();
}

export async function webhookView(root, ctx) {
  const [id] = ctx.params;
  const [hook, doc] = await Promise.all([api.get(hookPath(id)), api.schema()]);
  if (!ctx.current()) return;
  const box = messageBox("error");
  const ping = h("button", { type: "button", class: "btn", id: "hook-ping", text: t("hooks.ping"),
    onClick: async () => {
      busy(ping, true);
      try { await api.post(`${hookPath(id)}/ping`); ctx.flash(t("hooks.ping_queued")); log.reload(); } catch (err) { showMessage(box, err.message); }
      busy(ping, false);
    } });
  const facts = h("dl", { class: "facts facts-inline", id: "hook-facts" });
  const paint = (x) => facts.replaceChildren(...[[t("hooks.status"), statusBadge(x)],
    [t("hooks.event_types"), x.event_types.length ? x.event_types.join(", ") : t("hooks.all_events")],
    [t("hooks.description"), x.description || t("common.none")],
    [t("hooks.failures_label"), String(x.failure_streak)],
    [t("hooks.created"), fmtTime(x.created_at)]]
    .map(([k, v]) => h("div", {}, h("dt", { text: k }), h("dd", {}, v))));
  paint(hook);
  const log = deliveryLog(ctx, {
    doc, path: "/api/v1/webhooks/{webhook_id}/deliveries", filters: ["status"],
    list: (q) => api.get(`${hookPath(id)}/deliveries`, q),
    detail: (d) => api.get(`${hookPath(id)}/deliveries/${encodeURIComponent(d.id)}`),
    replay: (d) => replayPath(id, d.id),
    // deliveries move the failure count and may switch the webhook off: keep the facts true
    loaded: () => api.get(hookPath(id)).then(paint).catch(() => {}),
  });
  root.append(
    h("div", { class: "page-head" }, h("h1", { class: "hook-title mono", text: hook.url }),
      h("a", { href: "#/webhooks", class: "btn btn-ghost", text: t("common.back") }), ping),
    box,
    h("div", { class: "card" }, facts),
    h("h2", { class: "section-title", text: t("deliv.title") }),
    log.el);
}

// ---- the delivery log ------------------------------------------------------------------------

function attemptsCell(d, detail) {
  if (!detail) return String(d.attempts);
  if (!detail.log.length) return "0";
  return h("details", { class: "attempts" }, h("summary", { text: String(detail.log.length) }),
    h("ol", {}, detail.log.map((a) => h("li", { class: a.ok ? "attempt-ok" : "attempt-failed" },
      `${fmtTime(a.at)} · `, a.status_code !== null && a.status_code !== undefined ? `HTTP ${a.status_code}` : t("deliv.no_response"),
      ` · ${a.duration_ms} ms`, a.error ? h("div", { class: "muted small", text: a.error }) : null))));
}

/**
 * A delivery log with filters, paging, each delivery's attempts and response code, "replay"
 * where `replay(d)` gives a path, and a reload of its own while anything shown is pending.
 * opts: {doc, path (for the filters' enums), filters: ["status", "channel"], list(query),
 *        detail(delivery), replay(delivery) -> path|null, loaded() after each reading}
 */
export function deliveryLog(ctx, opts) {
  const state = { page: 1, status: "", channel: "" };
  const box = messageBox("error");
  const filterEls = opts.filters.map((name) => {
    const el = select(queryEnum(opts.doc, opts.path, name).map((v) => [v, label(`deliv.${name}`, v)]),
      { name, placeholder: t("common.any") });
    el.addEventListener("change", () => { state[name] = el.value; state.page = 1; reload(); });
    return field(t(`deliv.col.${name}`), el, { name });
  });
  const refresh = h("button", { type: "button", class: "btn btn-small", text: t("deliv.refresh"), onClick: () => reload() });
  const out = h("div", { class: "deliv-body" }, h("p", { class: "muted loading", text: t("common.loading") }));
  const el = h("section", { class: "deliv-log", id: "delivery-log" },
    h("div", { class: "filters card deliv-filters" }, filterEls, h("div", { class: "filters-buttons" }, refresh)),
    box, out);
  let timer = null;
  let seq = 0;

  async function reload() {
    clearTimeout(timer);
    const mine = ++seq;
    let page;
    try {
      page = await opts.list({ page: state.page, page_size: 20, status: state.status || undefined, channel: state.channel || undefined });
    } catch (err) { showMessage(box, err.message); return; }
    if (mine !== seq || !ctx.current()) return;
    showMessage(box, "");
    const details = await Promise.all(page.items.map((d) => opts.detail(d).catch(() => null)));
    if (mine !== seq || !ctx.current()) return;
    render(page, details);
    if (opts.loaded) opts.loaded(page);
    if (page.items.some((d) => d.status === "pending")) timer = setTimeout(() => { if (el.isConnected) reload(); }, REFRESH_MS);
  }

  function render(page, details) {
    if (!page.items.length) {
      out.replaceChildren(h("div", { class: "card empty" }, h("p", { text: t("deliv.none") })));
      return;
    }
    const td = (key, ...c) => h("td", { dataset: { label: t(key) } }, ...c);
    const withChannel = opts.filters.includes("channel");
    const cols = ["deliv.col.created", "deliv.col.event", withChannel && "deliv.col.channel", withChannel && "deliv.col.address",
      "deliv.col.status", "deliv.col.attempts", "deliv.col.code", "deliv.col.error", "deliv.col.actions"].filter(Boolean);
    const rows = page.items.map((d, i) => {
      const detail = details[i];
      const last = detail && detail.log.length ? detail.log[detail.log.length - 1] : null;
      const path = opts.replay(d);
      const replay = path ? actButton("replay", t("deliv.replay"), async () => {
        await api.post(path);
        ctx.flash(t("deliv.replayed"));
        state.page = 1;
        await reload();
      }, box, "btn btn-small") : null;
      return h("tr", { dataset: { deliveryId: d.id, status: d.status } },
        td("deliv.col.created", fmtTime(d.created_at)),
        td("deliv.col.event", h("span", { class: "mono", text: d.event_type }),
          d.replay_of ? h("div", { class: "muted small", text: t("deliv.replay_of", { id: d.replay_of.slice(0, 8) }) }) : null,
          d.subject ? h("div", { class: "muted small", text: d.subject }) : null),
        withChannel ? td("deliv.col.channel", label("deliv.channel", d.channel)) : null,
        withChannel ? td("deliv.col.address", h("span", { class: "mono small", text: d.address })) : null,
        td("deliv.col.status", badge("deliv", d.status, label("deliv.status", d.status)),
          d.status === "pending" && d.next_attempt_at ? h("div", { class: "muted small", text: t("deliv.next", { at: fmtTime(d.next_attempt_at) }) }) : null),
        td("deliv.col.attempts", attemptsCell(d, detail)),
        h("td", { class: "deliv-code", dataset: { label: t("deliv.col.code") },
          text: last && last.status_code !== null && last.status_code !== undefined ? String(last.status_code) : t("common.none") }),
        h("td", { class: "deliv-error", dataset: { label: t("deliv.col.error") }, text: d.last_error || t("common.none") }),
        td("deliv.col.actions", replay));
    });
    const pages = Math.max(1, Math.ceil(page.total / page.page_size));
    const go = (n) => { state.page = n; reload(); };
    out.replaceChildren(
      dataTable("delivery-table", cols, rows),
      h("nav", { class: "pager" },
        h("button", { type: "button", class: "btn", disabled: page.page <= 1, text: `‹ ${t("list.prev")}`, onClick: () => go(page.page - 1) }),
        h("span", { class: "pager-info", text: `${t("list.page", { page: page.page, pages })} · ${t("deliv.total", { total: page.total })}` }),
        h("button", { type: "button", class: "btn", disabled: page.page >= pages, text: `${t("list.next")} ›`, onClick: () => go(page.page + 1) })));
  }

  reload();
  return { el, reload };
}
