// The search dictionary (#/kb/dictionary): groups of terms a knowledge-base search treats as
// one (Chinese, English, product and model names). Staff read it — it explains why an
// article was found — and admins add, change and remove groups. Every kb instance applies
// an edit within a poll interval, so the next search already uses it.
import { h, messageBox, showMessage } from "../dom.js";
import { t, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { dataTable, actButton } from "./webhooks.js";
import { td } from "./notify-admin.js";

/** "a, b，c\nd" -> ["a", "b", "c", "d"]: commas (either width), semicolons or new lines */
const splitTerms = (s) => s.split(/[,，;；\n]+/).map((x) => x.trim()).filter(Boolean);

export async function kbDictionaryView(root, ctx) {
  const admin = ctx.user && ctx.user.role === "admin";
  const q = ctx.query.get("q") || "";
  const page = Math.max(1, parseInt(ctx.query.get("page"), 10) || 1);
  const box = messageBox("error");
  const filter = h("input", { type: "search", name: "q", value: q, maxLength: 50,
    placeholder: t("kb.dict.filter"), "aria-label": t("kb.dict.filter") });
  const find = h("form", { class: "card kb-search", role: "search" }, filter,
    h("button", { type: "submit", class: "btn", text: t("common.search") }));
  find.addEventListener("submit", (e) => { e.preventDefault(); ctx.navigate("/kb/dictionary", { q: filter.value.trim() }); });
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("kb.dict.title") }),
    h("a", { href: "#/kb", class: "btn btn-ghost", text: t("kb.title") })),
  h("p", { class: "muted", text: t("kb.dict.hint") }), box, find);
  if (admin) {
    const terms = h("input", { name: "terms", id: "kb-dict-terms", required: true,
      placeholder: t("kb.dict.terms_placeholder"), "aria-label": t("kb.dict.terms") });
    const weight = h("input", { name: "weight", type: "number", min: "0.1", max: "1", step: "0.1",
      value: "0.6", "aria-label": t("kb.dict.weight") });
    const add = h("form", { class: "card", id: "kb-dict-add" }, terms, weight,
      h("button", { type: "submit", class: "btn btn-primary", text: t("kb.dict.add") }));
    add.addEventListener("submit", async (e) => {
      e.preventDefault();
      showMessage(box, "");
      try {
        const added = splitTerms(terms.value);
        await api.post("/kb/synonyms", { terms: added, weight: Number(weight.value) });
        ctx.navigate("/kb/dictionary", { q: added[0] }); // show what was just added
      } catch (err) { showMessage(box, err.message); }
    });
    root.append(add);
  }
  const res = await api.get("/kb/synonyms", { q: q || undefined, page, page_size: 50 });
  if (!ctx.current()) return;
  const path = (g) => `/kb/synonyms/${encodeURIComponent(g.id)}`;
  const rows = res.items.map((g) => h("tr", { dataset: { groupId: String(g.id) } },
    td("kb.dict.terms", g.terms.join(", ")),
    td("kb.dict.weight", String(g.weight)),
    td("kb.sugg.when", fmtTime(g.updated_at)),
    admin ? td("hooks.actions", h("div", { class: "row-actions" },
      actButton("edit", t("kb.dict.edit"), async () => {
        const changed = window.prompt(t("kb.dict.terms"), g.terms.join(", "));
        if (changed === null) return;
        await api.request("PATCH", path(g), { body: { terms: splitTerms(changed) } });
        ctx.navigate("/kb/dictionary", { q, page });
      }, box),
      actButton("delete", t("kb.dict.delete"), async () => {
        if (!window.confirm(t("kb.dict.confirm_delete"))) return;
        await api.request("DELETE", path(g));
        ctx.navigate("/kb/dictionary", { q, page });
      }, box))) : null));
  const keys = ["kb.dict.terms", "kb.dict.weight", "kb.sugg.when"].concat(admin ? ["hooks.actions"] : []);
  const pages = Math.max(1, Math.ceil(res.total / res.page_size));
  root.append(h("p", { class: "muted", text: t("kb.dict.total", { total: res.total }) }),
    rows.length ? dataTable("kb-dictionary", keys, rows) : h("p", { class: "card empty", text: t("kb.no_results") }),
    pages > 1 ? h("nav", { class: "pager" },
      h("button", { type: "button", class: "btn", disabled: page <= 1, text: `‹ ${t("list.prev")}`,
        onClick: () => ctx.navigate("/kb/dictionary", { q, page: page - 1 }) }),
      h("span", { class: "pager-info", text: t("list.page", { page, pages }) }),
      h("button", { type: "button", class: "btn", disabled: page >= pages, text: `${t("list.next")} ›`,
        onClick: () => ctx.navigate("/kb/dictionary", { q, page: page + 1 }) })) : null);
}
