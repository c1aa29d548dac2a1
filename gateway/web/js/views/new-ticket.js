// Submitting a ticket. Choices, required marks and length limits come from the OpenAPI
// schema TicketCreate, the very schema the server validates with.
import { h, field, select, messageBox, showErrors, clearErrors, busy } from "../dom.js";
import { t, label } from "../i18n.js";
import * as api from "../api.js";
import { bodySchema, nested, isDesk } from "../model.js";
import { filePicker, uploadQueue } from "./uploads.js";
import { attachSuggestions } from "./kb.js";

const TEXTAREAS = { description: 6, steps: 4, error_message: 3 };
const ENUM_GROUP = { type: "type", category: "category", impact: "impact", urgency: "urgency" };
const WIDE = new Set(["title", "description", "steps", "error_message"]);
const SECTIONS = [
  ["new.section.problem", ["title", "type", "category", "product", "product_version", "description",
    "steps", "error_message", "started_at", "persistent"]],
  ["new.section.impact", ["impact", "urgency"]],
  ["new.section.environment", ["environment.os", "environment.browser", "environment.app_version", "device_sn"]],
  ["new.section.contact", ["contact_name", "contact_phone"]],
];

function requestKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export async function newTicketView(root, ctx) {
  const user = ctx.user;
  const desk = isDesk(user);
  const [doc, products, companies] = await Promise.all([
    api.schema(), api.productList(),
    desk ? api.get("/admin/companies", { kind: "customer" }).then((d) => d.items) : Promise.resolve([]),
  ]);
  if (!ctx.current()) return;
  const spec = bodySchema(doc, "/api/v1/tickets");
  const env = nested(doc, spec.properties.environment);
  const controls = {};

  function control(name) {
    const [head, sub] = name.split(".");
    const s = sub ? env.properties[sub] || {} : spec.properties[head] || {};
    const required = !sub && spec.required.includes(head);
    let el;
    if (head === "product") {
      el = select(products.map((p) => [p.code, `${p.name} (${p.code})`]),
        { name, placeholder: t("new.product_pick"), value: products.length === 1 ? products[0].code : "" });
    } else if (s.enum) {
      const def = s.default;
      el = select(s.enum.map((v) => [v, label(ENUM_GROUP[head] || head, v)]),
        { name, placeholder: def ? undefined : t("new.pick"), value: def || "" });
    } else if (head === "persistent") {
      el = select([["true", t("common.yes")], ["false", t("common.no")]], { name, placeholder: t("common.unknown") });
    } else if (s.format === "date-time") {
      el = h("input", { type: "datetime-local", name });
    } else if (TEXTAREAS[head]) {
      el = h("textarea", { name, rows: TEXTAREAS[head] });
    } else {
      el = h("input", { type: head === "contact_phone" ? "tel" : "text", name });
    }
    if (s.maxLength && el.tagName !== "SELECT") el.maxLength = s.maxLength;
    if (required) el.required = true;
    controls[name] = el;
    const labelKey = name === "persistent" ? "new.persistent" : `field.${name}`;
    return field(t(labelKey), el, { name, required, wide: WIDE.has(head) });
  }

  const box = messageBox("error");
  const picker = filePicker();
  const submit = h("button", { type: "submit", class: "btn btn-primary", text: t("new.submit") });
  let company = null;
  if (desk) {
    company = select(companies.map((c) => [c.id, c.name]), { name: "company_id", placeholder: t("new.company_pick") });
  }
  const form = h("form", { class: "ticket-form", id: "new-ticket", novalidate: true },
    box,
    company ? h("fieldset", { class: "card form-section" },
      h("legend", { text: t("new.company") }),
      h("div", { class: "grid" }, field(t("new.company"), company, { name: "company_id", required: true }))) : null,
    SECTIONS.map(([title, names]) => h("fieldset", { class: "card form-section" },
      h("legend", { text: t(title) }),
      h("div", { class: "grid" }, names.filter((n) => n.includes(".") ? env.properties[n.split(".")[1]] : spec.properties[n])
        .map(control)))),
    h("fieldset", { class: "card form-section" },
      h("legend", { text: t("new.section.attachments") }),
      h("p", { class: "field-hint", text: t("new.attach_hint") }),
      picker.zone, picker.list),
    h("div", { class: "form-actions" }, submit));

  // the chosen product's versions as suggestions
  const versions = h("datalist", { id: "product-versions" });
  if (controls.product_version) {
    controls.product_version.setAttribute("list", versions.id);
    const fill = () => {
      const p = products.find((x) => x.code === controls.product.value);
      versions.replaceChildren(...((p && p.versions) || []).map((v) => h("option", { value: v })));
    };
    controls.product.addEventListener("change", fill);
    fill();
  }
  if (controls.contact_name && !desk) controls.contact_name.value = user.name || "";
  if (controls.contact_phone && !desk) controls.contact_phone.value = user.phone || "";

  const kb = attachSuggestions(form, controls); // knowledge-base articles as the customer types
  const key = requestKey(); // one per form: a retried submit cannot create a second ticket
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    const body = {};
    for (const [name, el] of Object.entries(controls)) {
      let v = el.value.trim();
      if (!v) continue;
      const [head, sub] = name.split(".");
      if (head === "persistent") v = v === "true";
      if (head === "started_at") v = new Date(v).toISOString();
      if (sub) (body[head] = body[head] || {})[sub] = v;
      else body[head] = v;
    }
    if (company && company.value) {
      body.company_id = company.value;
      body.company_name = company.selectedOptions[0].textContent;
    }
    busy(submit, true, t("new.busy"));
    let ticket;
    try {
      ticket = await api.request("POST", "/tickets", { body, headers: { "Idempotency-Key": key } });
    } catch (err) {
      busy(submit, false);
      showErrors(form, box, err);
      return;
    }
    api.forgetCaches();
    kb.submitted(ticket.id);
    const open = `#/tickets/${encodeURIComponent(ticket.id)}`;
    if (!picker.files.length) {
      ctx.flash(t("new.created", { number: ticket.number }), "ok", true);
      location.hash = open;
      return;
    }
    // the ticket exists now: the form goes, the attachments report one by one
    const queue = uploadQueue([...picker.files]);
    const note = h("p", { class: "msg msg-warn", role: "status", hidden: true, text: t("new.upload_failed_note") });
    const retry = h("button", { type: "button", class: "btn", hidden: true, text: t("new.retry_failed") });
    const openLink = h("a", { href: open, class: "btn btn-primary", id: "open-ticket", text: t("new.open") });
    const status = h("p", { class: "muted", text: t("new.uploading") });
    root.replaceChildren(h("section", { class: "card upload-panel", id: "upload-panel" },
      h("h1", { text: t("new.created", { number: ticket.number }) }),
      status, queue.list, note, h("div", { class: "form-actions" }, retry, openLink)));
    const settled = ({ failed, retryable }) => {
      status.hidden = true;
      if (!failed) {
        ctx.flash(t("new.created", { number: ticket.number }), "ok", true);
        location.hash = open;
        return;
      }
      note.hidden = false;
      retry.hidden = !retryable;
    };
    queue.onSettled = settled; // one file's own retry or removal
    const runAll = async () => {
      retry.hidden = true;
      status.hidden = false;
      settled(await queue.run(ticket.id));
    };
    retry.addEventListener("click", runAll);
    await runAll();
  });

  root.classList.add("page-medium");
  root.append(h("div", { class: "page-head" },
    h("h1", { text: t("new.title") }),
    h("a", { href: "#/tickets", class: "btn btn-ghost", text: t("detail.back") })), form, versions);
}
