// Canned replies: the management page (#/canned) and the picker beside a ticket's reply box.
// Variables are filled by the server for the ticket (…/canned-replies/{id}/render).
import { h, field, messageBox, showMessage, onSubmit, select } from "../dom.js";
import { t, getLang } from "../i18n.js";
import * as api from "../api.js";

const SCOPES_BY_ROLE = {
  agent: ["personal", "desk"], admin: ["personal", "desk", "provider"],
  provider_admin: ["personal", "provider"], engineer: ["personal"],
};

/** A <select> that inserts the chosen reply, filled for this ticket, at the cursor. */
export function cannedPicker(tk, textarea) {
  const picker = h("select", { class: "canned-picker", id: "canned-picker", "aria-label": t("canned.pick") },
    h("option", { value: "", text: t("canned.pick") }));
  api.get("/canned-replies").then((page) => {
    for (const c of page.items) picker.append(h("option", { value: c.id, text: c.title }));
    picker.append(h("option", { value: "#manage", text: `${t("canned.manage")} →` }));
  }).catch(() => { picker.hidden = true; });
  picker.addEventListener("change", async () => {
    const id = picker.value;
    picker.value = "";
    if (!id) return;
    if (id === "#manage") { location.hash = "#/canned"; return; }
    const out = await api.post(`/tickets/${encodeURIComponent(tk.id)}/canned-replies/${encodeURIComponent(id)}/render`,
      { language: getLang() });
    const at = textarea.selectionStart ?? textarea.value.length;
    const end = textarea.selectionEnd ?? at;
    textarea.value = textarea.value.slice(0, at) + out.body + textarea.value.slice(end);
    textarea.focus();
    textarea.setSelectionRange(at + out.body.length, at + out.body.length);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  });
  return picker;
}

export async function cannedView(root, ctx) {
  const scopes = SCOPES_BY_ROLE[ctx.user.role] || ["personal"];
  const filter = { q: ctx.query.get("q") || "", scope: ctx.query.get("scope") || "" };
  const page = await api.get("/canned-replies", Object.fromEntries(Object.entries(filter).filter(([, v]) => v)));
  if (!ctx.current()) return;
  const editor = h("div", { id: "canned-editor" });
  const q = h("input", { type: "search", name: "q", value: filter.q, placeholder: t("canned.search") });
  const scopeSel = select(scopes.map((s) => [s, t(`canned.scope.${s}`)]), { name: "scope", value: filter.scope, placeholder: t("canned.all_scopes") });
  const search = h("form", { class: "filters canned-filters", role: "search" }, q, scopeSel,
    h("button", { type: "submit", class: "btn btn-secondary", text: t("common.search") }));
  search.addEventListener("submit", (e) => { e.preventDefault(); ctx.navigate("/canned", { q: q.value.trim(), scope: scopeSel.value }); });
  const rows = page.items.map((c) => h("article", { class: "card canned-item", dataset: { cannedId: c.id } },
    h("div", { class: "canned-head" },
      h("h3", { text: c.title }),
      h("span", { class: "chip", text: t(`canned.scope.${c.scope}`) }),
      c.owner_name ? h("span", { class: "muted small", text: c.owner_name }) : null),
    c.body_zh ? h("p", { class: "prewrap canned-body", lang: "zh", text: c.body_zh }) : null,
    c.body_en ? h("p", { class: "prewrap canned-body", lang: "en", text: c.body_en }) : null,
    c.editable ? h("div", { class: "canned-actions" },
      h("button", { type: "button", class: "btn btn-ghost btn-small", text: t("canned.edit"),
        onClick: () => openEditor(editor, ctx, scopes, c) }),
      h("button", { type: "button", class: "btn btn-danger-ghost btn-small", text: t("canned.delete"),
        onClick: async () => {
          if (!window.confirm(t("canned.delete_confirm", { title: c.title }))) return;
          await api.request("DELETE", `/canned-replies/${encodeURIComponent(c.id)}`);
          ctx.flash(t("canned.deleted"));
          ctx.navigate("/canned", filter);
        } })) : null));
  root.replaceChildren(
    h("div", { class: "page-head" }, h("h1", { text: t("canned.title") }),
      h("button", { type: "button", class: "btn btn-primary", id: "canned-new", text: t("canned.new"),
        onClick: () => openEditor(editor, ctx, scopes, null) })),
    h("p", { class: "muted", text: t("canned.intro") }),
    h("p", { class: "muted small canned-vars" }, t("canned.variables"), " ",
      page.variables.map((v) => h("code", { text: `{${v}}` })).flatMap((c) => [c, " "])),
    search, editor,
    rows.length ? h("div", { class: "canned-list" }, rows) : h("p", { class: "card empty muted", text: t("canned.none") }));
}

function openEditor(editor, ctx, scopes, reply) {
  const box = messageBox("error");
  const title = h("input", { name: "title", required: true, maxLength: 200, value: reply ? reply.title : "" });
  const zh = h("textarea", { name: "body_zh", rows: 4, maxLength: 20000, value: reply ? reply.body_zh || "" : "" });
  const en = h("textarea", { name: "body_en", rows: 4, maxLength: 20000, value: reply ? reply.body_en || "" : "" });
  const scope = reply ? null : select(scopes.map((s) => [s, t(`canned.scope.${s}`)]), { name: "scope", value: "personal" });
  const save = h("button", { type: "submit", class: "btn btn-primary", text: t("canned.save") });
  const form = h("form", { class: "card canned-form", id: "canned-form", novalidate: true }, box,
    field(t("canned.field.title"), title, { name: "title", required: true }),
    scope ? field(t("canned.field.scope"), scope, { name: "scope" }) : null,
    field(t("canned.field.body_zh"), zh, { name: "body_zh", wide: true }),
    field(t("canned.field.body_en"), en, { name: "body_en", wide: true }),
    h("div", { class: "form-actions" }, save,
      h("button", { type: "button", class: "btn btn-ghost", text: t("canned.cancel"), onClick: () => editor.replaceChildren() })));
  onSubmit(form, box, save, async () => {
    const body = { title: title.value.trim(), body_zh: zh.value, body_en: en.value };
    if (reply) await api.request("PATCH", `/canned-replies/${encodeURIComponent(reply.id)}`, { body });
    else await api.post("/canned-replies", { ...body, scope: scope.value });
    ctx.flash(t("canned.saved"));
    ctx.navigate("/canned", {});
  });
  editor.replaceChildren(form);
  showMessage(box, "");
  title.focus();
}
