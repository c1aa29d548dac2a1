// Bulk actions on the ticket list (staff): a checkbox per row, a bar with the action once a
// ticket is chosen, and the per-ticket result after (POST /tickets/bulk). If the user may not
// act on one of the chosen tickets the server refuses the whole request and changes nothing;
// otherwise each ticket is done (or refused with its own reason) on its own.
import { h, select, messageBox, showMessage, busy, field } from "../dom.js";
import { t } from "../i18n.js";
import * as api from "../api.js";
import { isDesk } from "../model.js";
import { splitTags } from "./tags.js";

// every message under details.fields (bulk parameters nest: tags.0)
const messagesOf = (v) => (typeof v === "string" ? [v]
  : v && typeof v === "object" ? Object.values(v).flatMap(messagesOf) : []);

let carried = null; // the last bulk action's results, across the list's reload

/** The actions this user's role may take in bulk (the server decides again). */
export function bulkActions(user) {
  const role = user && user.role;
  if (isDesk(user)) return ["assign", "priority", "tag", "untag", "close"];
  if (role === "provider_admin") return ["assign", "tag", "untag"];
  if (role === "engineer") return ["tag", "untag"];
  return [];
}

/**
 * `choices.engineers` feeds the assign select. Returns {enabled, headCell(), rowCell(tk),
 * bar, results}; `done()` is called after an action (to reload the list).
 */
export function bulkTools(user, choices, done) {
  const actions = bulkActions(user);
  const chosen = new Map(); // id -> number
  const boxes = [];
  const results = h("div", { class: "bulk-results", id: "bulk-results", "aria-live": "polite", hidden: true });
  const box = messageBox("error");
  const count = h("span", { class: "bulk-count", id: "bulk-count" });
  const action = select(actions.map((a) => [a, t(`lv.bulk.${a}`)]), { name: "bulk_action" });
  const params = h("div", { class: "bulk-params" });
  const apply = h("button", { type: "submit", class: "btn btn-primary", id: "bulk-apply", text: t("lv.bulk_apply") });
  const form = h("form", { class: "bulk-bar card", id: "bulk-bar", hidden: true, "aria-label": t("lv.bulk_action") },
    count, field(t("lv.bulk_action"), action, { name: "action" }), params, apply,
    h("button", { type: "button", class: "btn btn-ghost", text: t("lv.bulk_clear"), onClick: () => setAll(false) }), box);

  let control = null;
  function drawParams() {
    const a = action.value;
    if (a === "assign") {
      control = select((choices.engineers || []).map((e) => [e.id, e.name || e.id]), { name: "engineer_id", placeholder: "—" });
      params.replaceChildren(field(t("lv.bulk_engineer"), control, { name: "engineer_id" }));
    } else if (a === "priority") {
      control = select(["P1", "P2", "P3", "P4"].map((p) => [p, p]), { name: "priority" });
      params.replaceChildren(field(t("lv.bulk_priority"), control, { name: "priority" }));
    } else if (a === "tag" || a === "untag") {
      control = h("input", { type: "text", name: "tags", maxLength: 200, placeholder: t("lv.tags_ph") });
      params.replaceChildren(field(t("lv.bulk_tags"), control, { name: "tags" }));
    } else {
      control = h("input", { type: "text", name: "reason", maxLength: 2000 });
      params.replaceChildren(field(t("lv.bulk_reason"), control, { name: "reason" }));
    }
  }
  action.addEventListener("change", drawParams);
  if (actions.length) drawParams();

  function refresh() {
    form.hidden = chosen.size === 0;
    count.textContent = t("lv.selected", { n: chosen.size });
    if (head) {
      head.checked = boxes.length > 0 && boxes.every((b) => b.checked);
      head.indeterminate = !head.checked && boxes.some((b) => b.checked);
    }
  }
  function setAll(on) {
    for (const b of boxes) {
      b.checked = on;
      if (on) chosen.set(b.value, b.dataset.number); else chosen.delete(b.value);
    }
    refresh();
  }

  const paramsOf = (a) => {
    const v = control ? control.value.trim() : "";
    if (a === "assign") return { engineer_id: v };
    if (a === "priority") return { priority: v };
    if (a === "tag" || a === "untag") return { tags: splitTags(v) };
    return v ? { reason: v } : {};
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showMessage(box, "");
    busy(apply, true);
    const a = action.value;
    try {
      const out = await api.post("/tickets/bulk", { action: a, ticket_ids: [...chosen.keys()], params: paramsOf(a) },
        { headers: { "Idempotency-Key": `web-${Date.now()}-${Math.random().toString(36).slice(2, 10)}` } });
      carried = { a, out }; // shown by the list drawn next (done() reloads it)
      chosen.clear();
      done();
    } catch (err) {
      showMessage(box, [err.message, ...messagesOf(err.details && err.details.fields)].join(" "));
    } finally {
      if (apply.isConnected) busy(apply, false);
    }
  });

  function showResults(a, out) {
    results.hidden = false;
    results.replaceChildren(h("div", { class: "card" },
      h("h2", { text: `${t("lv.bulk_results")} · ${t(`lv.bulk.${a}`)}` }),
      h("p", { class: "bulk-summary", text: t("lv.bulk_done", { done: out.done, refused: out.refused }) }),
      h("ul", { class: "bulk-result-list" }, out.results.map((r) => h("li", {
        class: ["bulk-result", r.ok ? "bulk-ok" : "bulk-refused"], dataset: { number: r.number } },
      h("span", { class: "mono", text: r.number }), " ",
      h("span", { class: ["badge", r.ok ? "ustatus-active" : "ustatus-rejected"], text: t(r.ok ? "lv.bulk_ok" : "lv.bulk_refused") }),
      r.ok ? null : h("span", { class: "bulk-reason", text: ` ${r.error.message}` }))))));
  }

  let head = null;
  if (carried) {
    showResults(carried.a, carried.out);
    carried = null;
  }
  return {
    enabled: actions.length > 0,
    headCell() {
      head = h("input", { type: "checkbox", id: "select-all", "aria-label": t("lv.select_all"),
        onChange: (e) => setAll(e.target.checked) });
      return h("th", { scope: "col", class: "c-select" }, head);
    },
    rowCell(tk) {
      const b = h("input", { type: "checkbox", class: "row-select", value: tk.id, dataset: { number: tk.number },
        "aria-label": t("lv.select_one", { number: tk.number }),
        onChange: (e) => { if (e.target.checked) chosen.set(tk.id, tk.number); else chosen.delete(tk.id); refresh(); } });
      boxes.push(b);
      return h("td", { class: "c-select", dataset: { label: t("lv.select") } }, b);
    },
    reset() { boxes.length = 0; chosen.clear(); refresh(); },
    bar: form,
    results,
  };
}
