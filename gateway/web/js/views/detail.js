// One ticket: its fields, conversation (internal notes marked; the API leaves them out for
// customers), attachments, status history, reply box and the actions the API allows.
import { h, field, messageBox, showMessage, showErrors, clearErrors, busy, badge } from "../dom.js";
import { t, label, fmtTime, fmtSize } from "../i18n.js";
import * as api from "../api.js";
import { isStaff, actionPath, REASON_REQUIRED, STAFF_ROLES, OFFER_ROLES } from "../model.js";
import { ticketUploader, replyAttachments } from "./uploads.js";
import { actionFields, ratingCard, worklogCard, assignCard, closingCard, timelineCard } from "./work.js";
import { ticketKbCard } from "./kb.js";
import { slaCard } from "./sla.js";
import { providerNames } from "./dispatch.js";
import { tagEditor } from "./tags.js";
import { leftoverCard } from "./leftovers.js";
import { mergeBanner, linksCard } from "./merge.js";
import { cannedPicker } from "./canned.js";
import { presenceLine } from "./presence.js";

const FINISHED = new Set(["closed", "cancelled"]);

function pre(text, cls) {
  return h("div", { class: ["prewrap", cls], text });
}

function dl(rows) {
  return h("dl", { class: "facts" }, rows.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
}

export async function detailView(root, ctx) {
  const id = ctx.params[0];
  const user = ctx.user;
  const staff = isStaff(user);
  const [doc, products] = await Promise.all([api.schema(), api.productList().catch(() => [])]);

  async function reload(message) {
    const ticket = await api.get(`/tickets/${encodeURIComponent(id)}`);
    if (!ctx.current()) return;
    draw(ticket);
    if (message) ctx.flash(message);
  }

  function draw(tk) {
    document.title = `${tk.number} · ${t("app.title")}`;
    const product = products.find((p) => p.code === tk.product);
    const env = { user, reload };
    root.replaceChildren(
      h("div", { class: "page-head" },
        h("a", { href: "#/tickets", class: "back-link", text: `‹ ${t("detail.back")}` })),
      header(tk),
      mergeBanner(tk),
      h("div", { class: "detail-grid" },
        h("div", { class: "detail-main" }, descriptionCard(tk), ratingCard(tk, env), closingCard(tk),
          leftoverCard(tk, env), timelineCard(tk), worklogCard(tk, env), conversationCard(tk)),
        h("aside", { class: "detail-side" }, factsCard(tk, product), slaCard(tk), assignCard(tk, env),
          linksCard(tk, env), attachmentsCard(tk), ticketKbCard(tk, user))));
  }

  // ---- header and actions
  function header(tk) {
    const actions = (tk.allowed_actions || []).filter((a) => actionPath(doc, a));
    const panel = h("div", { class: "action-panel", hidden: true });
    const bar = actions.length ? h("div", { class: "action-bar", role: "group", "aria-label": t("detail.actions") },
      actions.map((a) => h("button", {
        type: "button", class: ["btn", a === "cancel" ? "btn-danger-ghost" : "btn-secondary"],
        dataset: { action: a }, text: label("action", a),
        onClick: () => openAction(panel, tk, a),
      }))) : null;
    return h("section", { class: "card ticket-head" },
      h("div", { class: "ticket-head-top" },
        h("span", { class: "mono muted ticket-number", text: tk.number }),
        badge("status", tk.status, label("status", tk.status)),
        tk.priority ? badge("prio", tk.priority, tk.priority) : null,
        h("span", { class: "chip", text: label("type", tk.type) })),
      h("h1", { class: "ticket-title", text: tk.title }),
      staff ? tagEditor(tk) : null,
      h("p", { class: "muted ticket-meta" },
        tk.submitter_name ? [h("span", { class: "meta-item", text: tk.submitter_name }), " · "] : null,
        h("span", { class: "meta-item" }, t("field.created_at"), " ",
          h("time", { datetime: tk.created_at, text: fmtTime(tk.created_at) })), " · ",
        h("span", { class: "meta-item" }, t("field.updated_at"), " ",
          h("time", { datetime: tk.updated_at, text: fmtTime(tk.updated_at) }))),
      bar, panel);
  }

  function openAction(panel, tk, action) {
    const box = messageBox("error");
    const reasonNeeded = REASON_REQUIRED.has(action);
    const reason = h("input", { type: "text", name: "reason", maxLength: 2000, required: reasonNeeded });
    const comment = h("textarea", { name: "comment", rows: 3, maxLength: 20000 });
    const confirm = h("button", { type: "submit", class: ["btn", action === "cancel" ? "btn-danger" : "btn-primary"], text: t("detail.confirm") });
    const special = actionFields(action, tk);
    const form = h("form", { class: "action-form", dataset: { action }, novalidate: true },
      h("h2", { class: "h3", text: label("action", action) }),
      box,
      special ? special.nodes : null,
      action === "provide_info" || special ? null
        : field(t(reasonNeeded ? `detail.reason_${action}` : "detail.reason"), reason,
          { name: "reason", required: reasonNeeded }),
      field(t(action === "provide_info" ? "detail.comment_provide_info" : "detail.comment"), comment, { name: "comment" }),
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "btn btn-ghost", text: t("common.cancel"),
          onClick: () => { panel.hidden = true; panel.replaceChildren(); } }),
        confirm));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form, box);
      const body = special ? special.body() : {};
      if (!special && reason.value.trim()) body.reason = reason.value.trim();
      if (comment.value.trim()) body.comment = comment.value.trim();
      busy(confirm, true);
      try {
        await api.post(`/tickets/${encodeURIComponent(tk.id)}/${actionPath(doc, action)}`, body);
        await reload(t("detail.done", { action: label("action", action) }));
      } catch (err) {
        busy(confirm, false);
        showErrors(form, box, err);
      }
    });
    panel.replaceChildren(form);
    panel.hidden = false;
    (special ? special.focus : action === "provide_info" ? comment : reason).focus();
  }

  // ---- description
  function descriptionCard(tk) {
    return h("section", { class: "card" },
      h("h2", { text: t("detail.description") }),
      pre(tk.description, "description"),
      tk.steps ? [h("h3", { text: t("field.steps") }), pre(tk.steps)] : null,
      tk.error_message ? [h("h3", { text: t("field.error_message") }), pre(tk.error_message, "code-block")] : null);
  }

  // ---- conversation and reply
  function conversationCard(tk) {
    const list = (tk.comments || []).map((c) => h("article", {
      class: ["comment", c.internal && "comment-internal", c.author_id === user.id && "comment-own",
        STAFF_ROLES.includes(c.author_role) && "comment-staff"],
      dataset: { commentId: c.id },
    },
    h("header", { class: "comment-head" },
      h("span", { class: "comment-author", text: c.author_name || label("role", c.author_role) }),
      h("span", { class: "muted comment-role", text: label("role", c.author_role) }),
      c.internal ? h("span", { class: "badge badge-internal", text: t("detail.internal_badge") }) : null,
      h("time", { class: "muted comment-time", datetime: c.created_at, text: fmtTime(c.created_at) })),
    pre(c.body, "comment-body")));
    return h("section", { class: "card conversation" },
      h("h2", {}, t("detail.conversation"), h("span", { class: "count", text: String(list.length) })),
      list.length ? h("div", { class: "comments" }, list) : h("p", { class: "muted", text: t("detail.no_comments") }),
      replyForm(tk));
  }

  function replyForm(tk) {
    if (FINISHED.has(tk.status) && !staff) {
      return h("p", { class: "muted closed-note", text: t("detail.closed_no_reply") });
    }
    const box = messageBox("error");
    const body = h("textarea", { name: "body", rows: 4, maxLength: 20000, placeholder: t("detail.reply_ph"), required: true });
    const send = h("button", { type: "submit", class: "btn btn-primary", text: t("detail.send") });
    const internal = staff ? h("input", { type: "checkbox", name: "internal", id: "reply-internal" }) : null;
    const form = h("form", { class: "reply", id: "reply-form", novalidate: true },
      box,
      field(t("detail.reply"), body, { name: "body" }),
      replyAttachments(body, tk, { internal: () => Boolean(internal && internal.checked) }),
      h("div", { class: "reply-bar" },
        internal ? h("label", { class: "check" }, internal, " ", t("detail.internal_checkbox")) : h("span"),
        staff ? cannedPicker(tk, body) : null,
        send),
      presenceLine(tk, body, internal));
    if (internal) {
      internal.addEventListener("change", () => {
        form.classList.toggle("reply-internal", internal.checked);
        body.placeholder = t(internal.checked ? "detail.note_ph" : "detail.reply_ph");
        send.textContent = t(internal.checked ? "detail.send_note" : "detail.send");
      });
    }
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearErrors(form, box);
      busy(send, true);
      try {
        await api.post(`/tickets/${encodeURIComponent(tk.id)}/comments`,
          { body: body.value, internal: Boolean(internal && internal.checked) });
        await reload(t("detail.sent"));
      } catch (err) {
        busy(send, false);
        showErrors(form, box, err);
      }
    });
    return form;
  }

  // ---- side: facts, attachments, history
  function factsCard(tk, product) {
    const envRows = Object.entries(tk.environment || {}).filter(([, v]) => v)
      .map(([k, v]) => [label("field.environment", k), String(v)]);
    const yesNo = tk.persistent === true ? t("common.yes") : tk.persistent === false ? t("common.no") : null;
    return h("section", { class: "card" },
      h("h2", { text: t("detail.details") }),
      dl([
        [t("field.type"), label("type", tk.type)],
        [t("field.category"), label("category", tk.category)],
        [t("field.product"), [product ? product.name : tk.product, tk.product_version ? ` ${tk.product_version}` : ""].join("")],
        [t("field.impact"), label("impact", tk.impact)],
        [t("field.urgency"), label("urgency", tk.urgency)],
        [t("field.company"), tk.company_name],
        [t("field.submitter"), tk.submitter_name],
        [t("field.provider"), OFFER_ROLES.includes(user.role) && tk.provider_id ? providerCell(tk.provider_id) : null],
        [t("field.handler"), tk.handler_name || h("span", { class: "muted", text: t("list.unassigned") })],
        [t("field.contact_name"), tk.contact_name],
        [t("field.contact_phone"), tk.contact_phone],
        [t("field.device_sn"), tk.device_sn],
        ...envRows,
        [t("field.started_at"), tk.started_at ? fmtTime(tk.started_at) : null],
        [t("field.persistent"), yesNo],
      ]));
  }

  /** The provider holding the ticket (offered or accepted), by name when the reader may see it. */
  function providerCell(id) {
    const cell = h("span", { class: "ticket-provider", text: id });
    providerNames().then((names) => { if (names[id]) cell.textContent = names[id]; });
    return cell;
  }

  function attachmentsCard(tk) {
    const box = messageBox("error");
    const items = (tk.attachments || []).map((a) => h("li", { class: "attachment", dataset: { attachmentId: a.id } },
      h("div", { class: "attachment-info" },
        h("span", { class: "attachment-name", text: a.filename }),
        h("span", { class: "muted small" }, fmtSize(a.size), " · ",
          t("detail.uploaded_by", { name: a.uploaded_by_name || "" }), " · ", fmtTime(a.created_at)),
        a.internal ? h("span", { class: "badge badge-internal", text: t("common.internal") }) : null),
      h("button", { type: "button", class: "btn btn-small", text: t("detail.download"),
        "aria-label": `${t("detail.download")} ${a.filename}`,
        onClick: (e) => download(tk, a, e.currentTarget, box) })));
    const uploader = FINISHED.has(tk.status) ? null : ticketUploader(tk, () => reload(t("upload.done")));
    return h("section", { class: "card attachments" },
      h("h2", {}, t("detail.attachments"), h("span", { class: "count", text: String(items.length) })),
      box,
      items.length ? h("ul", { class: "attachment-list" }, items) : h("p", { class: "muted", text: t("detail.no_attachments") }),
      uploader);
  }

  async function download(tk, a, button, box) {
    showMessage(box, "");
    busy(button, true);
    try {
      const link = await api.get(`/tickets/${encodeURIComponent(tk.id)}/attachments/${encodeURIComponent(a.id)}`);
      const anchor = h("a", { href: link.url, download: a.filename, rel: "noopener", class: "hidden-link" });
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
    } catch (err) {
      showMessage(box, err.message);
    } finally {
      busy(button, false);
    }
  }

  root.append(h("p", { class: "muted loading", text: t("common.loading") }));
  await reload();
}

