// IM channels in the web client:
// - #/robots: WeCom / DingTalk / Feishu group robots. Administrators keep any company's (they
//   pick the company), a customer company's or a provider's admin their own. Add one (URL,
//   signing secret, language, events), send a test message, switch off and on, delete, and
//   read its delivery log with every attempt.
// - `imBindingsSection`: on #/me/preferences, the person's IM bindings: start one (channel +
//   IM user id), which shows the one-time code to send from that IM account; remove one.
import { h, field, select, messageBox, showMessage, showErrors, clearErrors, busy, badge } from "../dom.js";
import { t, label, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { actButton, dataTable } from "./webhooks.js";

export const ROBOT_ROLES = ["admin", "customer_admin", "provider_admin"];
const PLATFORMS = ["wecom", "dingtalk", "feishu"];
const EVENTS = ["intake.ticket_created", "intake.ticket_status_changed", "intake.ticket_commented",
  "dispatch.ticket_assigned", "sla.sla_warning", "sla.sla_breached"];
const DEFAULT_EVENTS = ["intake.ticket_created", "intake.ticket_status_changed",
  "dispatch.ticket_assigned", "sla.sla_breached"];
const robotPath = (id) => `/robots/${encodeURIComponent(id)}`;

async function companies(user) {
  if (user.role !== "admin") return [];
  const [customers, providers] = await Promise.all([
    api.get("/admin/companies", { kind: "customer" }), api.get("/admin/companies", { kind: "provider" })]);
  return [...customers.items.map((c) => ["customer", c]), ...providers.items.map((c) => ["provider", c])];
}

function robotForm(user, owners, onDone, onCancel) {
  const platform = select(PLATFORMS.map((p) => [p, label("platform", p)]), { name: "platform", id: "robot-platform" });
  const name = h("input", { type: "text", name: "name", id: "robot-name", maxLength: 100, required: true });
  const url = h("input", { type: "url", name: "url", id: "robot-url", maxLength: 2048, required: true,
    placeholder: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…" });
  const secret = h("input", { type: "text", name: "secret", id: "robot-secret", maxLength: 200, autocomplete: "off" });
  const language = select([["both", t("robots.lang_both")], ["zh", "中文"], ["en", "English"]],
    { name: "language", id: "robot-language", value: "both" });
  const owner = owners.length ? select(owners.map(([kind, c]) => [`${kind}:${c.id}`,
    `${c.name} (${label("companykind", kind)})`]), { name: "owner", id: "robot-owner" }) : null;
  const events = EVENTS.map((e) => h("input", { type: "checkbox", value: e, checked: DEFAULT_EVENTS.includes(e),
    dataset: { event: e } }));
  const secretField = field(t("robots.secret"), secret, { name: "secret", hint: t("robots.secret_hint") });
  const hint = () => { secretField.hidden = platform.value === "wecom"; };
  platform.addEventListener("change", hint);
  hint();
  const box = messageBox("error");
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "robot-save", text: t("robots.create") });
  const form = h("form", { class: "card", id: "robot-create", novalidate: true },
    h("h2", { class: "h3", text: t("robots.new_title") }), box,
    h("div", { class: "grid" },
      owner ? field(t("robots.owner"), owner, { name: "owner_id", required: true, wide: true }) : null,
      field(t("robots.platform"), platform, { name: "platform", required: true }),
      field(t("robots.name"), name, { name: "name", required: true }),
      field(t("robots.url"), url, { name: "url", required: true, wide: true, hint: t("robots.url_hint") }),
      secretField,
      field(t("robots.language"), language, { name: "language" })),
    h("fieldset", { class: "form-section", dataset: { field: "event_types" } },
      h("legend", { text: t("robots.events") }),
      events.map((b) => h("label", { class: "check" }, b, " ", label("robotevent", b.value))),
      h("p", { class: "field-error", hidden: true })),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn btn-ghost", text: t("common.cancel"), onClick: onCancel }), submit));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    const body = { platform: platform.value, name: name.value.trim(), url: url.value.trim(),
      language: language.value, event_types: events.filter((b) => b.checked).map((b) => b.value) };
    if (secret.value && platform.value !== "wecom") body.secret = secret.value.trim();
    if (owner) {
      const [kind, id] = owner.value.split(":");
      Object.assign(body, { owner_kind: kind, owner_id: id });
    }
    busy(submit, true);
    try { onDone(await api.post("/robots", body)); } catch (err) { busy(submit, false); showErrors(form, box, err); }
  });
  return form;
}

function deliveryLog(robot) {
  const slot = h("div", { class: "robot-log", id: `robot-log-${robot.id}` },
    h("p", { class: "muted loading", text: t("common.loading") }));
  api.get(`${robotPath(robot.id)}/deliveries`).then((page) => {
    if (!page.items.length) { slot.replaceChildren(h("p", { class: "muted", text: t("robots.no_deliveries") })); return; }
    slot.replaceChildren(dataTable("robot-deliveries", ["robots.col.when", "robots.col.event", "robots.col.status", "robots.col.attempts"],
      page.items.map((d) => h("tr", { dataset: { deliveryId: d.id, status: d.status } },
        h("td", { text: fmtTime(d.created_at) }),
        h("td", {}, h("div", { text: d.subject || d.event_type }), h("div", { class: "muted small mono", text: d.event_type })),
        h("td", {}, badge("delivery", d.status, label("deliv.status", d.status)),
          d.last_error ? h("div", { class: "muted small", text: d.last_error }) : null),
        h("td", {}, (d.log || []).map((a) => h("div", { class: "small mono attempt", dataset: { ok: String(a.ok) },
          text: `#${a.number} ${a.status_code || "—"} ${a.error || ""} ${fmtTime(a.at)}` })))))));
  }).catch((err) => slot.replaceChildren(h("p", { class: "msg msg-error", text: err.message })));
  return slot;
}

export async function robotsView(root, ctx) {
  const box = messageBox("error");
  const formSlot = h("div", {});
  const listSlot = h("div", {}, h("p", { class: "muted loading", text: t("common.loading") }));
  const owners = await companies(ctx.user);
  if (!ctx.current()) return;
  const names = Object.fromEntries(owners.map(([, c]) => [c.id, c.name]));
  const close = () => formSlot.replaceChildren();
  const newButton = h("button", { type: "button", class: "btn btn-primary", id: "robot-new", text: t("robots.new"),
    onClick: () => formSlot.replaceChildren(robotForm(ctx.user, owners, () => {
      close(); ctx.flash(t("robots.saved")); load();
    }, close)) });
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("robots.title") }), newButton),
    h("p", { class: "muted", text: t("robots.intro") }), box, formSlot, listSlot);

  function row(robot) {
    const btn = (name, text, fn, cls) => actButton(name, text, fn, box, cls);
    const logRow = h("tr", { class: "robot-log-row", hidden: true }, h("td", { colSpan: 5 }));
    const main = h("tr", { dataset: { robotId: robot.id, platform: robot.platform } },
      h("td", {}, h("strong", { text: robot.name }), h("div", { class: "muted small", text: label("platform", robot.platform) })),
      h("td", {}, h("div", { class: "mono small robot-url", text: robot.url }),
        ctx.user.role === "admin" ? h("div", { class: "muted small",
          text: `${names[robot.owner_id] || robot.owner_id} (${label("companykind", robot.owner_kind)})` }) : null),
      h("td", {}, robot.event_types.map((e) => h("span", { class: "chip", text: label("robotevent", e) }))),
      h("td", {}, robot.active ? badge("hook", "active", t("hooks.active")) : badge("hook", "disabled", t("hooks.disabled")),
        robot.signed ? h("div", { class: "muted small", text: t("robots.signed") }) : null),
      h("td", {}, h("div", { class: "row-actions" },
        btn("test", t("robots.test"), async () => {
          await api.post(`${robotPath(robot.id)}/test`);
          ctx.flash(t("robots.test_sent"));
        }),
        btn("log", t("robots.log"), async () => {
          logRow.hidden = !logRow.hidden;
          if (!logRow.hidden) logRow.firstChild.replaceChildren(deliveryLog(robot));
        }),
        btn("toggle", t(robot.active ? "hooks.deactivate" : "hooks.activate"), async () => {
          await api.request("PATCH", robotPath(robot.id), { body: { active: !robot.active } });
          load();
        }),
        btn("delete", t("common.delete"), async () => {
          if (!window.confirm(t("robots.confirm_delete", { name: robot.name }))) return;
          await api.request("DELETE", robotPath(robot.id));
          ctx.flash(t("robots.deleted"));
          load();
        }, "btn btn-small btn-danger"))));
    return [main, logRow];
  }

  async function load() {
    try {
      const { items } = await api.get("/robots");
      if (!ctx.current()) return;
      listSlot.replaceChildren(items.length ? dataTable("robot-table",
        ["robots.col.robot", "robots.col.url", "robots.col.events", "robots.col.status", "robots.col.actions"],
        items.flatMap(row)) : h("p", { class: "muted", id: "robots-none", text: t("robots.none") }));
    } catch (err) { showMessage(box, err.message); }
  }
  await load();
}

/** A bridge's channel for people: "wecom" -> 企业微信; "feishu-hq" -> 飞书 · feishu-hq. */
export function channelLabel(channel) {
  if (PLATFORMS.includes(channel)) return label("platform", channel);
  const p = PLATFORMS.find((x) => channel.startsWith(`${x}-`) || channel.startsWith(`${x}_`));
  return p ? `${label("platform", p)} · ${channel}` : channel;
}

/** The IM bindings part of #/me/preferences (a form of its own, outside the preferences form). */
export function imBindingsSection(ctx) {
  const box = messageBox("error");
  const listSlot = h("div", {});
  const codeSlot = h("div", {});
  const channel = select([], { name: "channel", id: "im-channel", placeholder: t("im.platform_pick") });
  api.get("/me/im-channels").then(({ items }) => {
    channel.append(...items.map((c) => h("option", { value: c.channel, text: channelLabel(c.channel) })));
    if (!items.length) channel.firstChild.textContent = t("im.no_channels");
    if (items.length === 1) channel.value = items[0].channel;
  }).catch((err) => showMessage(box, err.message));
  const imUser = h("input", { type: "text", name: "im_user_id", id: "im-user-id", maxLength: 128 });
  const start = h("button", { type: "submit", class: "btn", id: "im-bind", text: t("im.bind") });
  const form = h("form", { id: "im-bind-form", novalidate: true },
    h("div", { class: "grid grid-3" },
      field(t("im.channel"), channel, { name: "channel", required: true }),
      field(t("im.user_id"), imUser, { name: "im_user_id", required: true, hint: t("im.user_id_hint") })),
    h("div", { class: "form-actions" }, start));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    busy(start, true);
    try {
      const out = await api.post("/me/im-bindings", { channel: channel.value.trim(), im_user_id: imUser.value.trim() });
      codeSlot.replaceChildren(h("div", { class: "msg msg-warn", id: "im-code", role: "status" },
        h("p", { text: t("im.send_code", { minutes: 10 }) }),
        h("code", { class: "mono secret-value", text: `bind ${out.code}` })));
      load();
    } catch (err) { showErrors(form, box, err); } finally { busy(start, false); }
  });
  async function load() {
    const { items } = await api.get("/me/im-bindings");
    listSlot.replaceChildren(items.length ? h("ul", { class: "plain-list", id: "im-bindings" }, items.map((b) =>
      h("li", { dataset: { bindingId: b.id, status: b.status } },
        h("span", { text: `${channelLabel(b.channel)}: ` }), h("span", { class: "mono", text: `${b.im_user_id} ` }),
        badge("binding", b.status, t(`im.status.${b.status}`)), " ",
        actButton("unbind", t("im.unbind"), async () => {
          await api.request("DELETE", `/me/im-bindings/${encodeURIComponent(b.id)}`);
          codeSlot.replaceChildren();
          load();
        }, box)))) : h("p", { class: "muted", id: "im-bindings-none", text: t("im.none") }));
  }
  load().catch((err) => showMessage(box, err.message));
  return h("section", { class: "card form-section", id: "im-section" },
    h("h2", { class: "h3", text: t("im.title") }), h("p", { class: "muted", text: t("im.intro") }),
    box, listSlot, codeSlot, form);
}
