// The knowledge base: search (#/kb), one article (#/kb/<id>) with "was this helpful?", the
// staff's work list of solved tickets no article covers yet (#/kb/suggestions?tab=<status>),
// and the suggestions panel of the new-ticket form.
//
// Article bodies and snippets arrive as HTML the server already sanitized (nh3 allow-list).
// They are still never assigned as innerHTML: DOMParser builds an inert document (no script
// runs, nothing loads) and only allowed elements and attributes are copied out of it with
// h(), so the page keeps its rule that markup is built, not parsed into place.
import { h, append, messageBox, showMessage, busy, select, tabbed, badge } from "../dom.js";
import { t, label, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { isStaff, isDesk } from "../model.js";
import { dataTable, actButton } from "./webhooks.js";
import { td } from "./notify-admin.js";
import { kbFiles } from "./uploads.js";

// who may write an article (the API: engineers and the desk)
const WRITER_ROLES = ["engineer", "agent", "admin"];
const isWriter = (user) => Boolean(user && WRITER_ROLES.includes(user.role));

/** "Write from ticket": a draft prefilled from the solved ticket, then its page. */
async function writeFromTicket(ticketId) {
  const a = await api.post(`/tickets/${encodeURIComponent(ticketId)}/kb`, {});
  location.hash = `#/kb/${encodeURIComponent(a.id)}`;
}

const BODY_TAGS = new Set(["p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em",
  "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody",
  "tr", "th", "td", "mark"]);
const ATTRS = { a: ["href", "title"], img: ["src", "alt", "title"], ol: ["start"] };

/** Sanitized HTML -> DOM nodes, keeping only `allowed` tags (others become their text). */
export function fromHtml(html, allowed = BODY_TAGS) {
  const doc = new DOMParser().parseFromString(`<body>${html || ""}</body>`, "text/html");
  const copy = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    const tag = node.tagName.toLowerCase();
    const kids = [...node.childNodes].map(copy).filter(Boolean);
    if (!allowed.has(tag)) return kids.length ? h("span", {}, kids) : null;
    const props = {};
    for (const name of ATTRS[tag] || []) {
      const v = node.getAttribute(name);
      if (v !== null) props[name] = v;
    }
    if (tag === "a") { props.rel = "noopener noreferrer"; props.target = "_blank"; }
    if (tag === "img" && props.src && !/^(https?:|\/)/i.test(props.src)) delete props.src;
    return h(tag, props, kids);
  };
  return [...doc.body.childNodes].map(copy).filter(Boolean);
}

const MARKS = new Set(["mark"]);

function hitRow(hit, href) {
  return h("li", { class: "kb-hit" },
    h("a", { href, class: "kb-hit-title" }, fromHtml(hit.title_html, MARKS)),
    h("p", { class: "kb-snippet" }, fromHtml(hit.snippet_html, MARKS)),
    h("p", { class: "muted kb-meta" },
      [hit.product, hit.category && label("category", hit.category), hit.language,
        hit.visibility === "internal" ? t("kb.internal") : null,
        hit.status !== "published" ? label("kb.status", hit.status) : null]
        .filter(Boolean).join(" · ")));
}

export async function kbSearchView(root, ctx) {
  const staff = isStaff(ctx.user);
  const q = ctx.query.get("q") || "";
  const input = h("input", { type: "search", name: "q", value: q, maxLength: 5000,
    placeholder: t("kb.search_placeholder"), "aria-label": t("kb.search_placeholder") });
  const language = select([["zh", "中文"], ["en", "English"]],
    { name: "language", placeholder: t("common.any"), value: ctx.query.get("language") || "" });
  const status = staff ? select(["published", "draft", "archived"].map((s) => [s, label("kb.status", s)]),
    { name: "status", value: ctx.query.get("status") || "published" }) : null;
  const form = h("form", { class: "card kb-search", role: "search" }, input, language, status,
    h("button", { type: "submit", class: "btn btn-primary", text: t("common.search") }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate("/kb", { q: input.value.trim(), language: language.value, status: status && status.value });
  });
  const head = h("div", { class: "page-head" }, h("h1", { text: t("kb.title") }),
    staff ? h("a", { href: "#/kb/suggestions", class: "btn btn-ghost", id: "kb-suggestions-link",
      text: t("kb.sugg.title") }) : null,
    staff ? h("a", { href: "#/kb/dictionary", class: "btn btn-ghost", id: "kb-dictionary-link",
      text: t("kb.dict.title") }) : null,
    isWriter(ctx.user)
      ? h("button", { type: "button", class: "btn", id: "kb-new", text: t("kb.new"),
        onClick: async () => {
          const title = window.prompt(t("kb.new_title"));
          if (!title) return;
          const a = await api.post("/kb/articles", { title, body: title });
          ctx.navigate(`/kb/${a.id}`, { edit: "1" });
        } }) : null);
  root.append(head, form);
  if (!q) { root.append(h("p", { class: "muted", text: t("kb.search_hint") })); return; }
  const query = { q, language: ctx.query.get("language") || undefined,
    status: staff ? ctx.query.get("status") || undefined : undefined,
    page: ctx.query.get("page") || undefined };
  const box = messageBox("error");
  root.append(box);
  let res;
  // a pasted description would not fit in a URL (the server reads at most 8 KB of one)
  try { res = q.length > 300 ? await api.post("/kb/search", query) : await api.get("/kb/search", query); } catch (err) { showMessage(box, err.message); return; }
  if (!ctx.current()) return;
  root.append(h("p", { class: "muted", text: t("kb.results", { total: res.total }) }),
    res.items.length ? h("ol", { class: "kb-hits", id: "kb-results" },
      res.items.map((hit) => hitRow(hit, `#/kb/${encodeURIComponent(hit.id)}`)))
      : h("p", { class: "card empty", text: t("kb.no_results") }));
}

export async function kbArticleView(root, ctx) {
  const [id] = ctx.params;
  const a = await api.get(`/kb/articles/${encodeURIComponent(id)}`);
  if (!ctx.current()) return;
  const session = ctx.query.get("s");
  if (session) api.post(`/kb/suggest/${encodeURIComponent(session)}/opened`, { article_id: a.id }).catch(() => {});
  const box = messageBox("error");
  const thanks = h("p", { class: "muted", role: "status" });
  const vote = (helpful) => async () => {
    try {
      await api.post(`/kb/articles/${encodeURIComponent(a.id)}/feedback`, { helpful, version: a.version });
      thanks.textContent = t("kb.thanks");
    } catch (err) { showMessage(box, err.message); }
  };
  const actions = [];
  if (isDesk(ctx.user)) {
    const act = (name) => h("button", { type: "button", class: "btn", id: `kb-${name}`, text: t(`kb.${name}`),
      onClick: async (e) => {
        busy(e.target, true);
        try { await api.post(`/kb/articles/${encodeURIComponent(a.id)}/${name}`); ctx.navigate(`/kb/${a.id}`); } catch (err) { busy(e.target, false); showMessage(box, err.message); }
      } });
    if (a.status !== "published") actions.push(act("publish"));
    if (a.status !== "archived") actions.push(act("archive"));
  }
  const editable = isStaff(ctx.user) && a.status !== "archived" &&
    (isDesk(ctx.user) || (a.author && a.author.id === ctx.user.id));
  const editor = h("textarea", { rows: 16, name: "body", value: a.body, hidden: true, class: "kb-editor" });
  const save = h("button", { type: "button", class: "btn btn-primary", hidden: true, text: t("common.save"),
    onClick: async () => {
      busy(save, true);
      try {
        await api.request("PATCH", `/kb/articles/${encodeURIComponent(a.id)}`,
          { body: { body: editor.value, expected_version: a.version } });
        ctx.navigate(`/kb/${a.id}`);
      } catch (err) { busy(save, false); showMessage(box, err.message); }
    } });
  const files = editable ? kbFiles(a, editor) : null; // shown with the editor
  if (editable) {
    files.hidden = true;
    actions.push(h("button", { type: "button", class: "btn", id: "kb-edit", text: t("kb.edit"),
      onClick: () => { editor.hidden = false; save.hidden = false; files.hidden = false; } }));
  }
  root.classList.add("page-medium");
  append(root, [ // append() of dom.js: the absent parts (null) are left out, not written "null"
    h("div", { class: "page-head" }, h("h1", { text: a.title }),
      h("a", { href: "#/kb", class: "btn btn-ghost", text: t("common.back") })),
    box,
    h("p", { class: "muted" }, [label("kb.status", a.status), a.visibility === "internal" ? t("kb.internal") : null,
      t("kb.version", { version: a.version }), a.author && a.author.name, fmtTime(a.updated_at)]
      .filter(Boolean).join(" · ")),
    actions.length ? h("div", { class: "form-actions" }, actions) : null,
    editor, files, save,
    h("article", { class: "card kb-body", id: "kb-body" }, fromHtml(a.body_html)),
    a.tickets && a.tickets.length ? h("p", { class: "muted" }, t("kb.tickets"), " ",
      a.tickets.map((x) => h("a", { href: `#/tickets/${encodeURIComponent(x.ticket_id)}`, text: x.ticket_number || x.ticket_id }))) : null,
    h("div", { class: "card kb-feedback" }, h("span", { text: t("kb.helpful") }),
      h("button", { type: "button", class: "btn btn-small", id: "kb-yes", text: t("common.yes"), onClick: vote(true) }),
      h("button", { type: "button", class: "btn btn-small", id: "kb-no", text: t("common.no"), onClick: vote(false) }),
      thanks)]);
}

const SUGGESTION_TABS = ["open", "covered", "written"].map((s) => [s, `kb.sugg.status.${s}`]);

/** Staff: solved tickets the close flow found no article for (open), the ones an article
 *  already covered, and the ones written up; "write article" is the ticket page's flow. */
export async function kbSuggestionsView(root, ctx) {
  const { tab, tabs, body } = tabbed("/kb/suggestions", SUGGESTION_TABS, ctx.query);
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("kb.sugg.title") }),
    h("a", { href: "#/kb", class: "btn btn-ghost", text: t("kb.title") })),
    h("p", { class: "muted", text: t("kb.sugg.hint") }), tabs, body);
  const page = Math.max(1, parseInt(ctx.query.get("page"), 10) || 1);
  const res = await api.get("/kb/writing-suggestions", { status: tab, page, page_size: 20 });
  if (!ctx.current()) return;
  const box = messageBox("error");
  const article = (id, key) => (id ? h("a", { href: `#/kb/${encodeURIComponent(id)}`, text: t(key) }) : null);
  const rows = res.items.map((s) => h("tr", { dataset: { ticketId: s.ticket_id } },
    td("kb.sugg.ticket", h("a", { href: `#/tickets/${encodeURIComponent(s.ticket_id)}`, class: "mono",
      text: s.ticket_number || s.ticket_id })),
    td("kb.sugg.ticket_title", s.title || ""),
    td("kb.sugg.product", [s.product, s.category && label("category", s.category)].filter(Boolean).join(" · ")),
    td("kb.sugg.when", fmtTime(s.created_at)),
    td("kb.sugg.status", badge("kbsugg", s.status, t(`kb.sugg.status.${s.status}`))),
    td("hooks.actions", h("div", { class: "row-actions" },
      s.status !== "written" && isWriter(ctx.user)
        ? actButton("write", t("kb.sugg.write"), () => writeFromTicket(s.ticket_id), box) : null,
      article(s.matched_article_id, "kb.sugg.matched"), article(s.article_id, "kb.sugg.article")))));
  const pages = Math.max(1, Math.ceil(res.total / res.page_size));
  const go = (n) => () => ctx.navigate("/kb/suggestions", { tab, page: n });
  body.replaceChildren(box, rows.length
    ? dataTable("kb-suggestions", ["kb.sugg.ticket", "kb.sugg.ticket_title", "kb.sugg.product", "kb.sugg.when",
      "kb.sugg.status", "hooks.actions"], rows)
    : h("p", { class: "card empty", text: t("kb.sugg.none") }),
  pages > 1 ? h("nav", { class: "pager" },
    h("button", { type: "button", class: "btn", disabled: res.page <= 1, text: `‹ ${t("list.prev")}`, onClick: go(res.page - 1) }),
    h("span", { class: "pager-info", text: `${t("list.page", { page: res.page, pages })} · ${t("kb.sugg.total", { total: res.total })}` }),
    h("button", { type: "button", class: "btn", disabled: res.page >= pages, text: `${t("list.next")} ›`, onClick: go(res.page + 1) }))
    : null);
}

/** Suggestions while a customer types a ticket: watches the title and description controls,
 *  asks /kb/suggest (debounced), lists articles that open in a new tab, and returns
 *  { submitted(ticketId) } for the form to call once the ticket exists. */
export function attachSuggestions(form, controls) {
  const list = h("ol", { class: "kb-hits" });
  const panel = h("aside", { class: "card kb-suggest", id: "kb-suggest", hidden: true, "aria-live": "polite" },
    h("h2", { text: t("kb.suggest_title") }), h("p", { class: "muted", text: t("kb.suggest_hint") }), list);
  let session = null;
  let timer = null;
  let seq = 0;
  const ask = async () => {
    const title = (controls.title && controls.title.value.trim()) || "";
    const description = ((controls.description && controls.description.value) || "").slice(0, 5000);
    if (title.length + description.trim().length < 2) { panel.hidden = true; return; }
    const mine = ++seq;
    try {
      const body = { title: title.slice(0, 200), description };
      if (session) body.session_id = session;
      const res = await api.post("/kb/suggest", body);
      if (mine !== seq) return;
      session = res.session_id;
      list.replaceChildren(...res.items.map((hit) => {
        const row = hitRow(hit, `#/kb/${encodeURIComponent(hit.id)}?s=${encodeURIComponent(session)}`);
        row.querySelector("a").target = "_blank";
        return row;
      }));
      panel.hidden = !res.items.length;
    } catch { panel.hidden = true; } // suggestions are a help, never in the way
  };
  for (const name of ["title", "description"]) {
    if (controls[name]) controls[name].addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, 400); });
  }
  form.prepend(panel);
  return {
    submitted(ticketId) {
      if (session) api.post(`/kb/suggest/${encodeURIComponent(session)}/outcome`, { submitted: true, ticket_id: ticketId }).catch(() => {});
    },
  };
}

/** The ticket page's knowledge-base card: linked articles and, for staff when the close flow
 *  found no article covering the problem, a button writing one from the ticket. */
export function ticketKbCard(tk, user) {
  const body = h("div", {}, h("p", { class: "muted", text: t("common.loading") }));
  const card = h("section", { class: "card kb-ticket", id: "kb-ticket" }, h("h2", { text: t("kb.title") }), body);
  const box = messageBox("error");
  api.get(`/tickets/${encodeURIComponent(tk.id)}/kb`).then((res) => {
    const links = res.articles.map((a) => h("li", {},
      h("a", { href: `#/kb/${encodeURIComponent(a.id)}`, text: a.title })));
    const writer = isWriter(user);
    const suggestion = res.writing_suggestion;
    let write = null;
    if (writer && (suggestion || ["resolved", "closed"].includes(tk.status))) {
      write = h("button", { type: "button", class: "btn btn-small", id: "kb-write", text: t("kb.write_from_ticket"),
        onClick: async (e) => {
          busy(e.target, true);
          try { await writeFromTicket(tk.id); } catch (err) { busy(e.target, false); showMessage(box, err.message); }
        } });
    }
    // replaceChildren() turns null into the text "null": pass only nodes
    body.replaceChildren(...[box,
      links.length ? h("ul", { class: "kb-links" }, links) : h("p", { class: "muted", text: t("kb.none_linked") }),
      suggestion && suggestion.status === "open" ? h("p", { class: "msg msg-warn", id: "kb-write-suggested", text: t("kb.write_suggested") }) : null,
      write].filter(Boolean));
  }).catch(() => { card.hidden = true; }); // the ticket page works without the knowledge base
  return card;
}
