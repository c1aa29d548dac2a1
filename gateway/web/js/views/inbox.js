// The in-app inbox (#/notifications?page=2&unread=1) and the bell in the top bar with the
// unread count, kept live by the server-sent event stream /api/v1/notifications/stream.
import { h, icon, messageBox, showMessage } from "../dom.js";
import { t, fmtTime } from "../i18n.js";
import * as api from "../api.js";

let stream = null;
let streamToken = null;
let unread = 0;
let current = null; // the bell in the top bar (each render draws a new top bar)

function paint() {
  if (!current) return;
  const count = current.querySelector(".bell-count");
  count.textContent = unread > 99 ? "99+" : String(unread);
  count.hidden = unread === 0;
  current.setAttribute("aria-label", t("inbox.bell", { n: unread }));
}

function setUnread(n) { unread = Math.max(0, n); paint(); }

/** Open (or keep) the live stream for the signed-in user. */
function follow() {
  const token = api.accessToken();
  if (!token || (stream && streamToken === token && stream.readyState !== 2)) return;
  if (stream) stream.close();
  streamToken = token;
  stream = new EventSource(`/api/v1/notifications/stream?access_token=${encodeURIComponent(token)}`);
  stream.addEventListener("unread", (e) => setUnread(JSON.parse(e.data).unread));
  stream.addEventListener("notification", (e) => {
    setUnread(unread + 1);
    window.dispatchEvent(new CustomEvent("gongdan:notification", { detail: JSON.parse(e.data) }));
  });
  stream.onerror = () => {
    // an expired token closes the stream for good: refresh the count once, retry later
    if (stream.readyState === 2) setTimeout(() => { stream = null; follow(); }, 15000);
  };
}

/** The bell for the top bar: a link to the inbox with the unread count. */
export function bell() {
  const el = h("a", { href: "#/notifications", class: "bell", id: "bell" },
    h("span", { class: "bell-icon", "aria-hidden": "true" }, icon("bell")),
    h("span", { class: "bell-count", hidden: true }));
  current = el;
  paint();
  follow();
  api.get("/notifications/unread-count").then((r) => setUnread(r.unread)).catch(() => {});
  return el;
}

export async function inboxView(root, ctx) {
  const page = Math.max(1, parseInt(ctx.query.get("page"), 10) || 1);
  const onlyUnread = ctx.query.get("unread") === "1";
  const data = await api.get("/notifications", { page, page_size: 20, unread: onlyUnread ? "true" : "" });
  if (!ctx.current()) return;
  setUnread(data.unread);
  const box = messageBox("error");
  const list = h("ul", { class: "inbox-list", id: "inbox-list" });
  for (const n of data.items) {
    const open = async () => {
      if (!n.read) {
        try { await api.post(`/notifications/${n.id}/read`); } catch (err) { showMessage(box, err.message); return; }
      }
      if (n.ticket_id) ctx.navigate(`/tickets/${n.ticket_id}`);
      else ctx.navigate("/notifications", { page, unread: onlyUnread ? "1" : "" });
    };
    list.append(h("li", { class: ["inbox-item", !n.read && "unread"], "data-id": n.id },
      h("button", { type: "button", class: "inbox-open", onClick: open },
        h("strong", { class: "inbox-title", text: n.title }),
        h("span", { class: "inbox-time", text: fmtTime(n.created_at) }),
        h("span", { class: "inbox-body", text: n.body }))));
  }
  const pages = Math.max(1, Math.ceil(data.total / data.page_size));
  root.append(h("section", { class: "card inbox" },
    h("div", { class: "inbox-head" },
      h("h1", { text: t("inbox.title") }),
      h("span", { class: "inbox-unread", text: t("inbox.unread", { n: data.unread }) }),
      h("a", { class: "btn btn-ghost btn-small", href: onlyUnread ? "#/notifications" : "#/notifications?unread=1",
        text: t(onlyUnread ? "inbox.show_all" : "inbox.only_unread") }),
      h("a", { class: "btn btn-ghost btn-small", href: "#/me/preferences", id: "inbox-prefs", text: t("nav.prefs") }),
      h("button", { type: "button", class: "btn btn-small", id: "read-all", text: t("inbox.read_all"),
        disabled: data.unread === 0,
        onClick: async () => {
          try { await api.post("/notifications/read-all"); } catch (err) { showMessage(box, err.message); return; }
          setUnread(0);
          ctx.navigate("/notifications", { page, unread: onlyUnread ? "1" : "" });
        } })),
    box,
    data.items.length ? list : h("p", { class: "empty", text: t("inbox.empty") }),
    h("div", { class: "pager" },
      page > 1 ? h("a", { class: "btn btn-ghost btn-small", href: `#/notifications?page=${page - 1}${onlyUnread ? "&unread=1" : ""}`, text: t("inbox.newer") }) : null,
      h("span", { class: "pager-info", text: t("inbox.page", { page, pages }) }),
      page < pages ? h("a", { class: "btn btn-ghost btn-small", href: `#/notifications?page=${page + 1}${onlyUnread ? "&unread=1" : ""}`, text: t("inbox.older") }) : null)));
  // new items while the inbox is open: show them
  const onNew = () => { if (ctx.current()) ctx.navigate("/notifications", { page, unread: onlyUnread ? "1" : "" }); };
  window.addEventListener("gongdan:notification", onNew, { once: true });
}
