// The ticket page's merge banner, linked tickets (add / remove for staff) and the desk's
// "merge into another ticket" form. The API decides what may be done; this only shows it.
import { h, field, messageBox, showMessage, onSubmit, badge, select } from "../dom.js";
import { t, label } from "../i18n.js";
import * as api from "../api.js";
import { isStaff, isDesk } from "../model.js";

const OPEN = new Set(["new", "needs_info", "assigned", "in_progress", "suspended", "resolved"]);
const path = (tk, rest = "") => `/tickets/${encodeURIComponent(tk.id)}${rest}`;

/** "Merged into TS…" at the top of a duplicate; a link when the reader may open it. */
export function mergeBanner(tk) {
  const into = tk.merged_into;
  if (!into || !into.number) return document.createDocumentFragment();  // replaceChildren would print "null"
  return h("div", { class: "card merge-banner", id: "merge-banner", role: "note" },
    h("p", { text: t("merge.banner", { number: into.number }) }),
    into.can_open && into.id
      ? h("a", { class: "btn btn-secondary btn-small", href: `#/tickets/${encodeURIComponent(into.id)}`,
        text: t("merge.banner_open", { number: into.number }) }) : null);
}

/** Linked tickets (only those the reader may open come from the API), with staff tools. */
export function linksCard(tk, env) {
  const staff = isStaff(env.user);
  const links = tk.links || [];
  if (!staff && !links.length) return null;
  const box = messageBox("error");
  const rows = links.map((l) => h("li", { class: "link-row", dataset: { linkId: l.id, kind: l.kind } },
    h("span", { class: "chip link-kind", text: t(`links.kind.${l.kind}`) }),
    h("a", { class: "mono", href: `#/tickets/${encodeURIComponent(l.ticket.id)}`, text: l.ticket.number }),
    badge("status", l.ticket.status, label("status", l.ticket.status)),
    h("span", { class: "link-title", text: l.ticket.title }),
    staff && !l.kind.startsWith("merged") ? h("button", {
      type: "button", class: "btn btn-ghost btn-small link-remove", text: t("links.remove"),
      "aria-label": `${t("links.remove")} ${l.ticket.number}`,
      onClick: async (e) => {
        e.target.disabled = true;
        try {
          await api.request("DELETE", path(tk, `/links/${encodeURIComponent(l.id)}`));
          await env.reload(t("links.removed"));
        } catch (err) { e.target.disabled = false; showMessage(box, err.message); }
      },
    }) : null));
  return h("section", { class: "card links-card", id: "links" },
    h("h2", {}, t("links.title"), h("span", { class: "count", text: String(links.length) })),
    box,
    rows.length ? h("ul", { class: "link-list" }, rows) : h("p", { class: "muted", text: t("links.none") }),
    staff ? linkForm(tk, env) : null,
    isDesk(env.user) && OPEN.has(tk.status) ? mergeForm(tk, env) : null);
}

function linkForm(tk, env) {
  const box = messageBox("error");
  const other = h("input", { name: "other", required: true, placeholder: t("merge.into_ph"), autocomplete: "off" });
  const kind = select(["related", "parent", "child"].map((k) => [k, t(`links.kind.${k}`)]), { name: "kind", value: "related" });
  const send = h("button", { type: "submit", class: "btn btn-secondary", text: t("links.add") });
  const form = h("form", { class: "link-form", id: "link-form", novalidate: true }, box,
    h("div", { class: "inline-fields" },
      field(t("links.other"), other, { name: "other" }), field(t("links.kind"), kind, { name: "kind" }), send));
  onSubmit(form, box, send, async () => {
    await api.post(path(tk, "/links"), { other: other.value.trim(), kind: kind.value });
    await env.reload(t("links.added"));
  });
  return form;
}

function mergeForm(tk, env) {
  const box = messageBox("error");
  const into = h("input", { name: "into", required: true, placeholder: t("merge.into_ph"), autocomplete: "off" });
  const reason = h("input", { name: "reason", maxLength: 2000 });
  const send = h("button", { type: "submit", class: "btn btn-danger-ghost", text: t("merge.submit") });
  const form = h("form", { class: "merge-form", id: "merge-form", novalidate: true },
    h("h3", { text: t("merge.title") }), h("p", { class: "muted small", text: t("merge.hint") }), box,
    h("div", { class: "inline-fields" },
      field(t("merge.into"), into, { name: "into" }), field(t("merge.reason"), reason, { name: "reason" }), send));
  onSubmit(form, box, send, async () => {
    const target = into.value.trim();
    if (!window.confirm(t("merge.confirm", { number: tk.number, into: target }))) return;
    const body = { into: target };
    if (reason.value.trim()) body.reason = reason.value.trim();
    await api.post(path(tk, "/merge"), body);
    await env.reload(t("merge.done", { number: target }));
  });
  return form;
}
