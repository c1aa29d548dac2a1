// Notification administration (#/admin/notifications?tab=rules|templates|deliveries), for
// administrators: the rules (shipped defaults with overrides: switch on and off, recipients,
// channels, back to the shipped rule), the message templates per kind and language (the
// server refuses one that does not load, and says why under the part it names; back to the
// shipped text), and the log of every email, SMS and webhook delivery.
import { h, field, onSubmit, tabbed, messageBox, showMessage, badge } from "../dom.js";
import { t, label } from "../i18n.js";
import * as api from "../api.js";
import { bodySchema } from "../model.js";
import { deliveryLog, replayPath, dataTable, actButton } from "./webhooks.js";

const TABS = [["rules", "nadmin.rules"], ["templates", "nadmin.templates"], ["deliveries", "nadmin.deliveries"]];
const RULE_PUT = "/api/v1/admin/notification-rules/{rule_id}";
// what PUT takes of a rule (RuleOut adds id, source, overridden)
const RULE_FIELDS = ["event", "kind", "recipients", "channels", "when", "sms_on_p1", "enabled", "notify_actor"];
const rulePath = (id) => `/admin/notification-rules/${encodeURIComponent(id)}`;
const templatePath = (tp) => `/admin/notification-templates/${encodeURIComponent(tp.kind)}/${encodeURIComponent(tp.language)}`;

export async function notifyAdminView(root, ctx) {
  const { tab, tabs, body } = tabbed("/admin/notifications", TABS, ctx.query);
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("nadmin.title") }),
    h("a", { href: "#/webhooks", class: "btn btn-ghost", text: t("nav.webhooks") })), tabs, body);
  const doc = await api.schema();
  if (!ctx.current()) return;
  if (tab === "rules") await rules(body, ctx, doc);
  else if (tab === "templates") await templatesTab(body, ctx);
  else {
    body.replaceChildren(deliveryLog(ctx, {
      doc, path: "/api/v1/admin/deliveries", filters: ["status", "channel"],
      list: (q) => api.get("/admin/deliveries", q),
      detail: (d) => api.get(`/admin/deliveries/${encodeURIComponent(d.id)}`),
      replay: (d) => (d.channel === "webhook" ? replayPath(d.recipient, d.id) : null),
    }).el);
  }
}

const DANGER = "btn btn-small btn-danger-ghost";
export const td = (key, ...c) => h("td", { dataset: { label: t(key) } }, ...c);

/** The "Edit" button of a table row (or another, e.g. act "done"): opens `makeForm()` in a
 * row under it, or closes it. */
export function editButton(tr, colspan, dataset, makeForm, act = "edit", text = t("common.edit")) {
  let open = null;
  return h("button", { type: "button", class: "btn btn-small", dataset: { act }, text,
    onClick: () => {
      if (open && open.isConnected) { open.remove(); return; }
      open = h("tr", { class: "edit-row", dataset }, h("td", { colspan: String(colspan) }, makeForm(() => open.remove())));
      tr.after(open);
    } });
}

const pick = (rule) => Object.fromEntries(RULE_FIELDS.filter((k) => k in rule).map((k) => [k, rule[k]]));

/** Checkboxes for a list field; the API's message for `name` lands in its .field-error. */
function checks(title, name, values, chosen, text) {
  return h("fieldset", { class: "field check-group", dataset: { field: name } }, h("legend", { text: title }),
    values.map((v) => h("label", { class: "check" },
      h("input", { type: "checkbox", name, value: v, checked: chosen.includes(v) }), text(v))),
    h("p", { class: "field-error", hidden: true }));
}

async function rules(body, ctx, doc) {
  const schema = bodySchema(doc, RULE_PUT, "put").properties;
  const selectors = (schema.recipients && schema.recipients.items && schema.recipients.items.enum) || [];
  const [list, prefs] = await Promise.all([api.get("/admin/notification-rules"), api.get("/me/preferences")]);
  if (!ctx.current()) return;
  const channels = prefs.available_channels;
  const box = messageBox("error");
  const reload = () => ctx.navigate("/admin/notifications", { tab: "rules" });

  function editor(rule, close) {
    const formBox = messageBox("error");
    const enabled = h("input", { type: "checkbox", name: "enabled", checked: rule.enabled });
    const save = h("button", { type: "submit", class: "btn btn-primary", text: t("common.save") });
    const form = h("form", { class: "rule-form", novalidate: true },
      formBox,
      h("div", { class: "grid" },
        h("label", { class: "check" }, enabled, t("nadmin.enabled")),
        checks(t("nadmin.recipients"), "recipients", selectors, rule.recipients, (v) => label("selector", v)),
        checks(t("nadmin.channels"), "channels", channels, rule.channels, (v) => label("channel", v)),
        h("div", { class: "stack" },
          h("label", { class: "check" }, h("input", { type: "checkbox", name: "sms_on_p1", checked: rule.sms_on_p1 }), t("nadmin.sms_on_p1")),
          h("label", { class: "check" }, h("input", { type: "checkbox", name: "notify_actor", checked: rule.notify_actor }), t("nadmin.notify_actor")))),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn btn-ghost", text: t("common.cancel"), onClick: close }), save));
    const ticked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((x) => x.value);
    onSubmit(form, formBox, save, async () => {
      await api.request("PUT", rulePath(rule.id), { body: { ...pick(rule), enabled: enabled.checked,
        recipients: ticked("recipients"), channels: ticked("channels"),
        sms_on_p1: form.querySelector("input[name=sms_on_p1]").checked,
        notify_actor: form.querySelector("input[name=notify_actor]").checked } });
      ctx.flash(t("nadmin.rule_saved", { id: rule.id }));
      reload();
    });
    return form;
  }

  const rows = list.items.map((rule) => {
    const toggle = h("input", { type: "checkbox", checked: rule.enabled, dataset: { act: "enabled" },
      "aria-label": t("nadmin.enabled_for", { id: rule.id }),
      onChange: async () => {
        toggle.disabled = true;
        try {
          await api.request("PUT", rulePath(rule.id), { body: { ...pick(rule), enabled: toggle.checked } });
          ctx.flash(t(toggle.checked ? "nadmin.rule_on" : "nadmin.rule_off", { id: rule.id }));
          reload();
        } catch (err) { toggle.checked = !toggle.checked; toggle.disabled = false; showMessage(box, err.message); }
      } });
    const tr = h("tr", { dataset: { ruleId: rule.id }, class: !rule.enabled && "rule-off" },
      td("nadmin.rule", h("strong", { class: "mono", text: rule.id }), " ",
        rule.source === "custom" ? badge("rule", "custom", t("nadmin.custom"))
          : rule.overridden ? badge("rule", "overridden", t("nadmin.overridden")) : badge("rule", "default", t("nadmin.default")),
        h("div", { class: "muted small mono", text: rule.event })),
      td("nadmin.kind", label("notifykind", rule.kind)),
      td("nadmin.recipients", rule.recipients.map((r) => label("selector", r)).join(", ")),
      td("nadmin.channels", rule.channels.map((c) => label("channel", c)).join(", ") + (rule.sms_on_p1 ? ` ${t("nadmin.plus_sms_p1")}` : "")),
      td("nadmin.enabled", h("label", { class: "check" }, toggle, t(rule.enabled ? "nadmin.on" : "nadmin.off"))),
      td("hooks.actions"));
    tr.lastChild.append(h("div", { class: "row-actions" }, // after `tr` exists: Edit opens under it
      editButton(tr, 6, { editRule: rule.id }, (close) => editor(rule, close)),
      rule.overridden || rule.source === "custom"
        ? actButton("reset", t(rule.source === "custom" ? "common.delete" : "nadmin.reset"), async () => {
          await api.request("DELETE", rulePath(rule.id));
          ctx.flash(t("nadmin.rule_reset", { id: rule.id }));
          reload();
        }, box, DANGER) : null));
    return tr;
  });
  body.replaceChildren(h("p", { class: "muted", text: t("nadmin.rules_intro") }), box,
    dataTable("rule-table", ["nadmin.rule", "nadmin.kind", "nadmin.recipients", "nadmin.channels", "nadmin.enabled", "hooks.actions"], rows));
}

async function templatesTab(body, ctx) {
  const list = await api.get("/admin/notification-templates");
  if (!ctx.current()) return;
  const box = messageBox("error");
  const reload = () => ctx.navigate("/admin/notifications", { tab: "templates" });

  function editor(tp, close) {
    const formBox = messageBox("error");
    const subject = h("input", { type: "text", name: "subject", value: tp.subject });
    const text = h("textarea", { name: "text", rows: 8, value: tp.text, class: "mono" });
    const html = h("textarea", { name: "html", rows: 8, value: tp.html, class: "mono" });
    const save = h("button", { type: "submit", class: "btn btn-primary", text: t("common.save") });
    const form = h("form", { class: "template-form", novalidate: true },
      h("p", { class: "muted small", text: t("nadmin.template_hint") }),
      formBox,
      h("div", { class: "stack" },
        field(t("nadmin.subject"), subject, { name: "subject", required: true }),
        field(t("nadmin.text"), text, { name: "text", required: true }),
        field(t("nadmin.html"), html, { name: "html", required: true })),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn btn-ghost", text: t("common.cancel"), onClick: close }), save));
    onSubmit(form, formBox, save, async () => {
      await api.request("PUT", templatePath(tp), { body: { subject: subject.value, text: text.value, html: html.value } });
      ctx.flash(t("nadmin.template_saved", { kind: label("notifykind", tp.kind), language: tp.language }));
      reload();
    });
    return form;
  }

  const rows = list.items.map((tp) => {
    const tr = h("tr", { dataset: { template: `${tp.kind}/${tp.language}` } },
      td("nadmin.kind", h("strong", { text: label("notifykind", tp.kind) }), h("div", { class: "muted small mono", text: tp.kind })),
      td("nadmin.language", tp.language === "zh" ? "中文" : "English"),
      td("nadmin.subject", h("span", { class: "mono small", text: tp.subject })),
      td("nadmin.source", tp.overridden ? badge("rule", "overridden", t("nadmin.edited")) : badge("rule", "default", t("nadmin.shipped"))),
      td("hooks.actions"));
    tr.lastChild.append(h("div", { class: "row-actions" }, // after `tr` exists: Edit opens under it
      editButton(tr, 5, { editTemplate: `${tp.kind}/${tp.language}` }, (close) => editor(tp, close)),
      tp.overridden ? actButton("revert", t("nadmin.revert"), async () => {
        await api.request("DELETE", templatePath(tp));
        ctx.flash(t("nadmin.template_reverted", { kind: label("notifykind", tp.kind), language: tp.language }));
        reload();
      }, box, DANGER) : null));
    return tr;
  });
  body.replaceChildren(h("p", { class: "muted", text: t("nadmin.templates_intro") }), box,
    dataTable("template-table", ["nadmin.kind", "nadmin.language", "nadmin.subject", "nadmin.source", "hooks.actions"], rows));
}
