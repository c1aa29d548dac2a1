// Mail in (#/admin/mail?tab=mailboxes|held), for administrators: the support mailboxes
// (add, test connection, switch off, remove) and the mails held aside because they could not
// be processed, with the reason, the text as read, and retry / discard.
import { h, field, select, onSubmit, tabbed, messageBox, showMessage, badge } from "../dom.js";
import { t } from "../i18n.js";
import * as api from "../api.js";
import { td } from "./notify-admin.js";

const TABS = [["mailboxes", "mail.mailboxes"], ["held", "mail.held"]];
const boxPath = (id) => `/admin/mailboxes/${encodeURIComponent(id)}`;
const mailPath = (id) => `/admin/mails/${encodeURIComponent(id)}`;
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");

export async function mailAdminView(root, ctx) {
  const { tab, tabs, body } = tabbed("/admin/mail", TABS, ctx.query);
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("mail.title") })), tabs, body);
  if (tab === "held") await held(body, ctx);
  else await mailboxes(body, ctx);
}

function input(name, props = {}) {
  return h("input", { name, ...props });
}

async function mailboxes(body, ctx) {
  const [list, products] = await Promise.all([api.get("/admin/mailboxes"), api.productList()]);
  if (!ctx.current()) return;
  const box = messageBox("error");
  const reload = () => ctx.navigate("/admin/mail", { tab: "mailboxes" });
  const rows = list.items.map((mb) => {
    const result = h("div", { class: "small", dataset: { testResult: mb.id } });
    const tr = h("tr", { dataset: { mailboxId: mb.id }, class: !mb.enabled && "rule-off" },
      td("mail.name", h("strong", { text: mb.name }), " ",
        mb.source === "config" ? badge("rule", "default", t("mail.from_config")) : null),
      td("mail.address", h("span", { class: "mono", text: mb.address })),
      td("mail.server", mb.protocol === "imap" ? `${mb.host}:${mb.port || ""} (${mb.security})` : "LMTP/SMTP"),
      td("mail.last_polled", when(mb.last_polled_at),
        mb.last_error ? h("div", { class: "field-error", text: mb.last_error }) : null),
      td("hooks.actions", h("div", { class: "row-actions" },
        h("button", { type: "button", class: "btn btn-small", dataset: { act: "test" }, text: t("mail.test"),
          onClick: async (e) => {
            e.target.disabled = true;
            result.textContent = t("mail.testing");
            try {
              const r = await api.post(`${boxPath(mb.id)}/test`);
              result.className = r.ok ? "small ok" : "small field-error";
              result.textContent = r.ok ? t("mail.test_ok", { n: r.messages ?? "—" }) : t("mail.test_failed", { why: r.message });
            } catch (err) { result.className = "small field-error"; result.textContent = err.message; }
            e.target.disabled = false;
          } }),
        h("button", { type: "button", class: "btn btn-small", dataset: { act: "toggle" },
          text: t(mb.enabled ? "mail.disable" : "mail.enable"),
          onClick: async () => {
            try { await api.request("PATCH", boxPath(mb.id), { body: { enabled: !mb.enabled } }); reload(); }
            catch (err) { showMessage(box, err.message); }
          } }),
        h("button", { type: "button", class: "btn btn-small btn-danger-ghost", dataset: { act: "delete" },
          text: t("common.delete"),
          onClick: async () => {
            if (!window.confirm(t("mail.delete_confirm", { name: mb.name }))) return;
            try { await api.request("DELETE", boxPath(mb.id)); reload(); }
            catch (err) { showMessage(box, err.message); }
          } })), result));
    return tr;
  });
  const table = rows.length ? h("table", { class: "table", id: "mailbox-table" },
    h("thead", {}, h("tr", {}, ["mail.name", "mail.address", "mail.server", "mail.last_polled", "hooks.actions"]
      .map((k) => h("th", { text: t(k) })))), h("tbody", {}, rows))
    : h("p", { class: "muted", id: "mailbox-none", text: t("mail.none") });

  const formBox = messageBox("error");
  const save = h("button", { type: "submit", class: "btn btn-primary", id: "mailbox-save", text: t("mail.add") });
  const protocol = select([["imap", "IMAP"], ["lmtp", "LMTP/SMTP"]], { name: "protocol", value: "imap" });
  const security = select([["none", t("mail.sec.none")], ["starttls", "STARTTLS"], ["ssl", "SSL/TLS"]],
    { name: "security", value: "none" });
  const product = select(products.map((p) => [p.code, `${p.name} (${p.code})`]), { name: "product" });
  const unknownSender = select([["", t("mail.unknown_sender.default")], ["reply", t("mail.unknown_sender.reply")],
    ["register", t("mail.unknown_sender.register")]], { name: "unknown_sender", value: "" });
  const form = h("form", { class: "card", id: "mailbox-form", novalidate: true },
    h("h2", { text: t("mail.add_title") }), formBox,
    h("div", { class: "grid" },
      field(t("mail.name"), input("name", { required: true }), { name: "name", required: true }),
      field(t("mail.address"), input("address", { type: "email", required: true }), { name: "address", required: true }),
      field(t("mail.protocol"), protocol, { name: "protocol" }),
      field(t("mail.host"), input("host"), { name: "host" }),
      field(t("mail.port"), input("port", { type: "number", min: "1", max: "65535" }), { name: "port" }),
      field(t("mail.security"), security, { name: "security" }),
      field(t("mail.username"), input("username"), { name: "username" }),
      field(t("mail.password"), input("password", { type: "password", autocomplete: "new-password" }), { name: "password" }),
      field(t("mail.folder"), input("folder", { value: "INBOX" }), { name: "folder" }),
      field(t("mail.done_folder"), input("done_folder"), { name: "done_folder", hint: t("mail.done_folder_hint") }),
      field(t("mail.product"), product, { name: "product", required: true, hint: t("mail.product_hint") }),
      field(t("mail.unknown_sender"), unknownSender, { name: "unknown_sender", hint: t("mail.unknown_sender_hint") })),
    h("div", { class: "form-actions" }, save));
  onSubmit(form, formBox, save, async () => {
    const v = (name) => form.querySelector(`[name=${name}]`).value.trim();
    const bodyOut = { name: v("name"), address: v("address"), protocol: v("protocol"), security: v("security"),
      folder: v("folder") || "INBOX", product: v("product") };
    for (const name of ["host", "username", "password", "done_folder", "unknown_sender"]) if (v(name)) bodyOut[name] = v(name);
    if (v("port")) bodyOut.port = Number(v("port"));
    await api.post("/admin/mailboxes", bodyOut);
    ctx.flash(t("mail.added", { name: bodyOut.name }));
    reload();
  });
  body.replaceChildren(box, h("p", { class: "muted", text: t("mail.intro") }), table, form);
}

async function held(body, ctx) {
  const list = await api.get("/admin/mails", { status: "held", limit: 100 });
  if (!ctx.current()) return;
  const box = messageBox("error");
  const reload = () => ctx.navigate("/admin/mail", { tab: "held" });
  const act = (mail, verb, key) => h("button", { type: "button", class: "btn btn-small", dataset: { act: verb },
    text: t(key), onClick: async () => {
      if (verb === "discard" && !window.confirm(t("mail.discard_confirm"))) return;
      try {
        const r = await api.post(`${mailPath(mail.id)}/${verb}`);
        ctx.flash(verb === "retry" ? t(`mail.retried.${r.status}`, { n: r.ticket_number || "", why: r.reason || "" })
          : t("mail.discarded"), r.status === "held" ? "error" : "ok", true);
        reload();
      } catch (err) { showMessage(box, err.message); }
    } });
  const rows = list.items.map((mail) => {
    const tr = h("tr", { dataset: { mailId: mail.id } },
      td("mail.received", when(mail.claimed_at)),
      td("mail.sender", h("span", { class: "mono", text: mail.sender || "—" })),
      td("mail.subject", mail.subject || "—"),
      td("mail.reason", h("span", { class: "reason", text: mail.reason || "" })),
      td("hooks.actions", h("div", { class: "row-actions" },
        h("button", { type: "button", class: "btn btn-small", dataset: { act: "show" }, text: t("mail.show"),
          onClick: async () => {
            const next = tr.nextSibling;
            if (next && next.classList && next.classList.contains("edit-row")) { next.remove(); return; }
            try {
              const d = await api.get(mailPath(mail.id));
              tr.after(h("tr", { class: "edit-row" }, h("td", { colspan: "5" },
                h("pre", { class: "mail-text", text: d.text || "" }),
                d.attachments && d.attachments.length ? h("p", { class: "small muted",
                  text: `${t("mail.attachments")}: ${d.attachments.map((a) => a.filename).join(", ")}` }) : null)));
            } catch (err) { showMessage(box, err.message); }
          } }),
        act(mail, "retry", "mail.retry"), act(mail, "discard", "mail.discard"))));
    return tr;
  });
  body.replaceChildren(box, h("p", { class: "muted", text: t("mail.held_intro") }),
    rows.length ? h("table", { class: "table", id: "held-table" },
      h("thead", {}, h("tr", {}, ["mail.received", "mail.sender", "mail.subject", "mail.reason", "hooks.actions"]
        .map((k) => h("th", { text: t(k) })))), h("tbody", {}, rows))
      : h("p", { class: "muted", id: "held-none", text: t("mail.held_none") }));
}
