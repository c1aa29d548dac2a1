// A provider's engineers (#/engineers) for provider admins (their own) and administrators
// (any provider, chosen at the top): skills and the product lines each is certified for
// today, on duty or on leave (switched here), and each engineer's certifications — listed
// with their status, those ending within EXPIRING_DAYS marked, a new one added with its
// validity period (the API's refusals under the field they name).
import { h, append, field, select, messageBox, showMessage, badge, onSubmit } from "../dom.js";
import { t, label, fmtDate } from "../i18n.js";
import * as api from "../api.js";
import { dataTable, actButton } from "./webhooks.js";
import { editButton, td } from "./notify-admin.js";

const enc = encodeURIComponent;
// dispatch warns an engineer's provider this many days ahead (DISPATCH.certification_warning_days)
const EXPIRING_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

function today() {
  const d = new Date();
  return new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
}
const asDay = (s) => new Date(`${s}T00:00:00Z`);
const dayText = (s) => fmtDate(s, false); // calendar days (the API gives YYYY-MM-DD)

function certStatus(cert) {
  if (cert.status !== "valid") return [cert.status, label("cert", cert.status)];
  const left = Math.round((asDay(cert.valid_until) - today()) / DAY_MS);
  return left <= EXPIRING_DAYS ? ["expiring", t("cert.expiring", { n: left })] : ["valid", label("cert", "valid")];
}

function certRows(items) {
  if (!items.length) return h("p", { class: "muted", text: t("cert.none") });
  return h("table", { class: "cert-table" },
    h("thead", {}, h("tr", {}, ["cert.product_line", "cert.number", "cert.name", "cert.period", "cert.status"]
      .map((k) => h("th", { scope: "col", text: t(k) })))),
    h("tbody", {}, items.map((c) => {
      const [kind, text] = certStatus(c);
      return h("tr", { dataset: { certId: c.id, status: kind } },
        h("td", { class: "mono", text: c.product_line }),
        h("td", { class: "mono", text: c.certificate_no }),
        h("td", { text: c.certificate_name || t("common.none") }),
        h("td", { text: `${dayText(c.valid_from)} – ${dayText(c.valid_until)}` }),
        h("td", {}, badge("cert", kind, text)));
    })));
}

/** An engineer's certifications and the form that adds one. */
function certPanel(engineer, close, onAdded) {
  const list = h("div", { class: "cert-list" }, h("p", { class: "muted loading", text: t("common.loading") }));
  const formBox = messageBox("error");
  const iso = (d) => d.toISOString().slice(0, 10);
  const line = h("input", { type: "text", name: "product_line", required: true, list: "engineer-lines", maxLength: 64 });
  const number = h("input", { type: "text", name: "certificate_no", required: true, maxLength: 64 });
  const name = h("input", { type: "text", name: "certificate_name", maxLength: 200 });
  const from = h("input", { type: "date", name: "valid_from", required: true, value: iso(today()) });
  const until = h("input", { type: "date", name: "valid_until", required: true, value: iso(new Date(today().getTime() + 365 * DAY_MS)) });
  const save = h("button", { type: "submit", class: "btn btn-primary", text: t("cert.add") });
  const form = h("form", { class: "cert-form", novalidate: true },
    h("h3", { class: "h3", text: t("cert.add_title") }), formBox,
    h("div", { class: "grid" },
      field(t("cert.product_line"), line, { name: "product_line", required: true }),
      field(t("cert.number"), number, { name: "certificate_no", required: true }),
      field(t("cert.name"), name, { name: "certificate_name" }),
      field(t("cert.valid_from"), from, { name: "valid_from", required: true }),
      field(t("cert.valid_until"), until, { name: "valid_until", required: true })),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn btn-ghost", text: t("common.close"), onClick: close }), save));
  async function load() {
    try {
      const data = await api.get(`/engineers/${enc(engineer.id)}/certifications`);
      list.replaceChildren(certRows(data.items));
    } catch (err) { list.replaceChildren(h("p", { class: "msg msg-error", role: "alert", text: err.message })); }
  }
  onSubmit(form, formBox, save, async () => {
    await api.post(`/engineers/${enc(engineer.id)}/certifications`, { product_line: line.value.trim(),
      certificate_no: number.value.trim(), certificate_name: name.value.trim() || null,
      valid_from: from.value || null, valid_until: until.value || null });
    onAdded(t("cert.added", { number: number.value.trim(), name: engineer.name }));
  });
  load();
  return h("div", { class: "cert-panel", dataset: { engineerId: engineer.id } },
    h("h3", { class: "h3", text: t("cert.title_for", { name: engineer.name }) }), list, form);
}

/** "a, b，c" -> ["a", "b", "c"] */
const splitList = (text) => text.split(/[,，;；\n]+/).map((x) => x.trim()).filter(Boolean);

/** An engineer's skills (what routing prefers among the certified), changed in place. */
function skillsForm(engineer, close, onSaved) {
  const formBox = messageBox("error");
  const skills = h("input", { type: "text", name: "skills", value: engineer.skills.join(", ") });
  const save = h("button", { type: "submit", class: "btn btn-primary", text: t("common.save") });
  const form = h("form", { class: "skills-form", novalidate: true }, formBox,
    field(t("eng.skills"), skills, { name: "skills", wide: true, hint: t("eng.skills_hint") }),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn btn-ghost", text: t("common.cancel"), onClick: close }), save));
  onSubmit(form, formBox, save, async () => {
    await api.request("PUT", `/engineers/${enc(engineer.id)}`, { body: { skills: splitList(skills.value) } });
    onSaved(t("eng.skills_saved", { name: engineer.name }));
  });
  return form;
}

export async function engineersView(root, ctx) {
  const admin = ctx.user.role === "admin";
  const providers = await api.get("/providers");
  if (!ctx.current()) return;
  const chosen = admin ? (ctx.query.get("provider") || "") : ctx.user.company_id;
  const providerName = Object.fromEntries(providers.items.map((p) => [p.id, p.name]));
  const box = messageBox("error");
  const slot = h("div", {}, h("p", { class: "muted loading", text: t("common.loading") }));
  const lines = [...new Set(providers.items.filter((p) => !chosen || p.id === chosen).flatMap((p) => p.product_lines || []))];
  let picker = null;
  if (admin) {
    const sel = select(providers.items.map((p) => [p.id, p.name]), { name: "provider", value: chosen, placeholder: t("common.any") });
    sel.addEventListener("change", () => ctx.navigate("/engineers", { provider: sel.value }));
    picker = h("div", { class: "filters card" }, field(t("eng.provider"), sel, { name: "provider" }));
  }
  append(root, [h("div", { class: "page-head" }, h("h1", { text: admin ? t("eng.title") : t("eng.title_of", { name: providerName[chosen] || "" }) })),
    h("p", { class: "muted", text: t("eng.intro", { days: EXPIRING_DAYS }) }),
    h("datalist", { id: "engineer-lines" }, lines.map((l) => h("option", { value: l }))),
    picker, box, slot]);
  const openCerts = new Set(ctx.query.getAll("certs"));

  function row(e) {
    const onDuty = e.availability === "on_duty";
    const tr = h("tr", { dataset: { engineerId: e.id, availability: e.availability } },
      td("eng.name", h("strong", { text: e.name })),
      admin ? td("eng.provider", providerName[e.provider_id] || e.provider_id) : null,
      td("eng.skills", e.skills.length ? e.skills.map((s) => h("span", { class: "chip", text: s })) : h("span", { class: "muted", text: t("common.none") })),
      td("eng.lines", (e.certified_product_lines || []).length
        ? e.certified_product_lines.map((l) => h("span", { class: "chip chip-onsite", text: l }))
        : h("span", { class: "muted", text: t("eng.no_lines") })),
      td("eng.availability", badge("avail", e.availability, label("avail", e.availability))),
      td("hooks.actions"));
    const cols = admin ? 6 : 5;
    const certs = editButton(tr, cols, { certsOf: e.id }, (close) => certPanel(e, close,
      (message) => { ctx.flash(message); load([e.id]); }), "certs", t("eng.certs"));
    tr.lastChild.append(h("div", { class: "row-actions" },
      actButton("availability", t(onDuty ? "eng.set_leave" : "eng.set_duty"), async () => {
        await api.post(`/engineers/${enc(e.id)}/availability`, { availability: onDuty ? "on_leave" : "on_duty" });
        ctx.flash(t(onDuty ? "eng.now_leave" : "eng.now_duty", { name: e.name }));
        await load();
      }, box),
      editButton(tr, cols, { skillsOf: e.id }, (close) => skillsForm(e, close,
        (message) => { ctx.flash(message); load(); }), "skills", t("eng.edit_skills")),
      certs));
    return { tr, certs };
  }

  async function load(reopen = []) {
    let page;
    try { page = await api.get("/engineers", { provider_id: chosen || undefined, page_size: 200 }); } catch (err) {
      showMessage(box, err.message); return;
    }
    if (!ctx.current()) return;
    if (!page.items.length) { slot.replaceChildren(h("div", { class: "card empty" }, h("p", { text: t("eng.none") }))); return; }
    const rows = page.items.map(row);
    slot.replaceChildren(dataTable("engineer-table", ["eng.name", admin && "eng.provider", "eng.skills", "eng.lines",
      "eng.availability", "hooks.actions"].filter(Boolean), rows.map((r) => r.tr)));
    rows.filter((r) => reopen.includes(r.tr.dataset.engineerId) || openCerts.has(r.tr.dataset.engineerId))
      .forEach((r) => r.certs.click());
    openCerts.clear();
  }
  await load();
}
