// "Zhang San is replying…" on a ticket page: pings while the user types in the reply box
// (at most every PING_MS), and a presence stream (server-sent events) shows who else is.
// The server decides who may see whom (customers never see internal-note typing).
import { h } from "../dom.js";
import { t, getLang } from "../i18n.js";
import * as api from "../api.js";

const PING_MS = 3000;

export function presenceLine(tk, textarea, internalBox) {
  const line = h("p", { class: "muted small presence", id: "presence", "aria-live": "polite", hidden: true });
  const url = `/api/v1/tickets/${encodeURIComponent(tk.id)}/presence`;
  let last = 0;
  let typing = false;
  const ping = (replying) => api.post(`/tickets/${encodeURIComponent(tk.id)}/presence`,
    { replying, internal: Boolean(internalBox && internalBox.checked) }).catch(() => {});
  const stop = () => { if (last) { last = 0; ping(false); } };
  let hooked = false;
  textarea.addEventListener("input", () => {
    if (!hooked && textarea.form) { hooked = true; textarea.form.addEventListener("submit", stop); }
    const now = Date.now();
    typing = textarea.value.trim() !== "";
    if (typing && now - last > PING_MS) { last = now; ping(true); }
    if (!typing) stop();
  });
  textarea.addEventListener("blur", stop);

  const token = api.accessToken();
  if (!token || typeof EventSource === "undefined") return line;
  const stream = new EventSource(`${url}?access_token=${encodeURIComponent(token)}`);
  stream.addEventListener("presence", (e) => {
    if (!line.isConnected && line.dataset.shown) { stream.close(); return; }
    line.dataset.shown = "1";
    const who = JSON.parse(e.data).replying || [];
    const notes = who.filter((w) => w.internal).map((w) => w.name);
    const replies = who.filter((w) => !w.internal).map((w) => w.name);
    const sep = getLang() === "zh" ? "、" : ", ";
    line.replaceChildren(...[
      replies.length ? h("span", { class: "presence-reply", text: t("presence.one", { names: replies.join(sep) }) }) : null,
      notes.length ? h("span", { class: "presence-note", text: t("presence.note", { names: notes.join(sep) }) }) : null,
    ].filter(Boolean));
    line.hidden = who.length === 0;
  });
  // the page is re-drawn on every reload: a stream whose line left the page closes itself
  const watch = setInterval(() => {
    if (!line.isConnected) { stream.close(); clearInterval(watch); }
  }, 2000);
  return line;
}
