// The ticket list's columns: how each renders, and the chooser (⚙) that shows, hides and orders
// them. The choice is saved per user on the server (GET/PUT /me/list-settings), so it follows
// the person to any device; "restore default" goes back to the role's default.
import { h, badge, icon, messageBox, showMessage, busy } from "../dom.js";
import { t, label, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { tagChips } from "./tags.js";

const none = () => h("span", { class: "muted", text: t("common.none") });

// key -> [i18n label key, sort key (or null), render(ticket, env)]
export const COLUMNS = {
  number: ["col.number", "number", (tk) => h("span", { class: "mono", text: tk.number })],
  title: ["col.title", null, (tk, env) => h("a", { href: env.href(tk), class: "ticket-link", text: tk.title })],
  status: ["col.status", null, (tk) => badge("status", tk.status, label("status", tk.status))],
  priority: ["col.priority", "priority", (tk) => badge("prio", tk.priority, tk.priority || t("common.none"))],
  type: ["col.type", null, (tk) => label("type", tk.type)],
  product: ["col.product", null, (tk, env) => env.productName[tk.product] || tk.product || t("common.none")],
  product_line: ["lv.col.product_line", null, (tk) => tk.product_line || none()],
  company: ["col.company", null, (tk) => tk.company_name || t("common.none")],
  submitter: ["lv.col.submitter", null, (tk) => tk.submitter_name || none()],
  handler: ["col.handler", null, (tk) => tk.handler_name || h("span", { class: "muted", text: t("list.unassigned") })],
  device_sn: ["lv.col.device_sn", null, (tk) => (tk.device_sn ? h("span", { class: "mono", text: tk.device_sn }) : none())],
  tags: ["lv.col.tags", null, (tk) => ((tk.tags || []).length ? tagChips(tk.tags) : none())],
  created: ["lv.col.created", "created_at", (tk) => h("time", { datetime: tk.created_at, text: fmtTime(tk.created_at) })],
  updated: ["col.updated", "updated_at", (tk) => h("time", { datetime: tk.updated_at, text: fmtTime(tk.updated_at) })],
  sla_due: ["lv.col.sla_due", "sla_due_at", (tk) => (tk.sla_due_at
    ? h("time", { datetime: tk.sla_due_at, class: tk.sla_breached ? "sla-late" : null, text: fmtTime(tk.sla_due_at) })
    : none())],
};

export const columnLabel = (key) => t((COLUMNS[key] || [key])[0]);

/** The user's settings ({columns, defaults, available}); the role's default if unreachable. */
export async function loadSettings() {
  try {
    return await api.get("/me/list-settings");
  } catch (err) {
    const fallback = ["number", "title", "status", "priority", "type", "product", "handler", "updated"];
    return { columns: fallback, defaults: fallback, available: fallback, default: true };
  }
}

/**
 * The ⚙ button and its panel. `onSaved(settings)` redraws the list with the new columns.
 * Every row: a checkbox (shown) and up/down buttons (order) - all reachable by keyboard.
 */
export function columnChooser(settings, onSaved) {
  const button = h("button", { type: "button", class: "btn btn-ghost btn-icon", id: "columns-button",
    "aria-haspopup": "dialog", "aria-expanded": "false", title: t("lv.columns"), "aria-label": t("lv.columns") },
  icon("settings"), h("span", { class: "btn-icon-text", text: t("lv.columns") }));
  const panel = h("div", { class: "card column-chooser", id: "column-chooser", role: "dialog",
    "aria-label": t("lv.columns_title"), hidden: true });

  let order = [];
  let shown = new Set();
  const box = messageBox("error");
  const list = h("ol", { class: "column-list" });

  function draw(focusKey, focusDir) {
    list.replaceChildren(...order.map((key, i) => {
      const id = `col-opt-${key}`;
      return h("li", { class: "column-item", dataset: { column: key } },
        h("input", { type: "checkbox", id, name: "column", value: key, checked: shown.has(key),
          disabled: key === "title", // the title opens the ticket: it always stays
          onChange: (e) => { if (e.target.checked) shown.add(key); else shown.delete(key); } }),
        h("label", { htmlFor: id, text: columnLabel(key) }),
        h("span", { class: "column-move" },
          h("button", { type: "button", class: "btn btn-ghost btn-small", dataset: { move: "up" }, disabled: i === 0,
            "aria-label": t("lv.move_up", { name: columnLabel(key) }), text: "↑", onClick: () => move(i, -1) }),
          h("button", { type: "button", class: "btn btn-ghost btn-small", dataset: { move: "down" }, disabled: i === order.length - 1,
            "aria-label": t("lv.move_down", { name: columnLabel(key) }), text: "↓", onClick: () => move(i, 1) })));
    }));
    if (focusKey) {
      const target = list.querySelector(`[data-column="${focusKey}"] [data-move="${focusDir}"]`);
      const other = list.querySelector(`[data-column="${focusKey}"] [data-move="${focusDir === "up" ? "down" : "up"}"]`);
      (target && !target.disabled ? target : other).focus();
    }
  }

  function move(i, dir) {
    const j = i + dir;
    if (j < 0 || j >= order.length) return;
    [order[i], order[j]] = [order[j], order[i]];
    draw(order[j], dir < 0 ? "up" : "down");
  }

  function open() {
    // the shown columns first, in their order, then the hidden ones
    order = [...settings.columns, ...settings.available.filter((c) => !settings.columns.includes(c))];
    shown = new Set(settings.columns);
    showMessage(box, "");
    draw();
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    const first = panel.querySelector("input:not([disabled]), button");
    if (first) first.focus();
  }

  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  async function save(btn, request) {
    busy(btn, true);
    try {
      const next = await request();
      settings = next;
      close();
      onSaved(next);
    } catch (err) {
      showMessage(box, err.message);
    } finally {
      if (btn.isConnected) busy(btn, false);
    }
  }

  const saveBtn = h("button", { type: "button", class: "btn btn-primary", id: "columns-save", text: t("lv.save") });
  saveBtn.addEventListener("click", () => save(saveBtn, () => api.request("PUT", "/me/list-settings",
    { body: { columns: order.filter((c) => shown.has(c)) } })));
  const resetBtn = h("button", { type: "button", class: "btn btn-ghost", id: "columns-reset", text: t("lv.reset_columns") });
  resetBtn.addEventListener("click", () => save(resetBtn, () => api.request("DELETE", "/me/list-settings")));

  panel.append(
    h("h2", { text: t("lv.columns_title") }),
    h("p", { class: "muted small", text: t("lv.columns_hint") }),
    box, list,
    h("div", { class: "form-actions" }, saveBtn, resetBtn,
      h("button", { type: "button", class: "btn btn-ghost", text: t("lv.cancel"), onClick: close })));
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
  button.addEventListener("click", () => (panel.hidden ? open() : close()));
  return { button, panel };
}
