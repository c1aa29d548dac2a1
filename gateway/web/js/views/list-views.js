// Saved views on the ticket list: named filters (+ columns and sort), personal or shared with
// the desk. Choosing one puts its filters in the URL - an ordinary list request, so the server
// applies the user's visibility again every time. Only the desk may share (the API says so).
import { h, messageBox, showMessage, busy, field } from "../dom.js";
import { t } from "../i18n.js";
import * as api from "../api.js";
import { isDesk } from "../model.js";
import { FILTERS } from "./list-filters.js";
import { splitTags } from "./tags.js";

const LIST_FILTERS = new Set(["status", "type", "priority", "tag"]);

/** URL state -> the filters a view keeps (the API's shape: lists for the list filters). */
export function viewFilters(state) {
  const out = {};
  for (const k of FILTERS) {
    const v = state[k];
    if (!v || (k === "tag_mode" && !state.tag)) continue;
    out[k] = LIST_FILTERS.has(k) ? (k === "tag" ? splitTags(v) : v.split(",").filter(Boolean)) : v;
  }
  return out;
}

/** A view -> URL state (every filter set, the others cleared). */
export function viewState(view) {
  const out = {};
  for (const k of FILTERS) {
    const v = (view.filters || {})[k];
    out[k] = Array.isArray(v) ? v.join(",") : (v === undefined || v === null ? "" : String(v));
  }
  if (view.sort) out.sort = view.sort;
  return out;
}

export async function loadViews() {
  try { return (await api.get("/views")).items; } catch (err) { return []; }
}

/**
 * The view bar: a selector, "save as view" (name + share with the desk), delete.
 * `current` is the chosen view's id (URL `view`); `apply(view|null)` navigates.
 */
export function viewBar(views, current, state, user, apply, flash) {
  const mine = views.filter((v) => v.mine);
  const shared = views.filter((v) => !v.mine);
  const sel = h("select", { name: "view", id: "view-select", "aria-label": t("lv.views") },
    h("option", { value: "", text: t("lv.view_none") }),
    mine.length ? h("optgroup", { label: t("lv.view_mine_group") },
      mine.map((v) => h("option", { value: v.id, text: v.shared ? `${v.name} · ${t("lv.shared_mark")}` : v.name }))) : null,
    shared.length ? h("optgroup", { label: t("lv.view_shared_group") },
      shared.map((v) => h("option", { value: v.id, text: v.owner_name ? `${v.name} · ${v.owner_name}` : v.name }))) : null);
  sel.value = views.some((v) => v.id === current) ? current : "";
  sel.addEventListener("change", () => apply(views.find((v) => v.id === sel.value) || null));

  const chosen = views.find((v) => v.id === sel.value);
  const box = messageBox("error");
  const name = h("input", { type: "text", name: "name", maxLength: 100, required: true });
  const share = isDesk(user) ? h("input", { type: "checkbox", name: "shared" }) : null;
  const saveBtn = h("button", { type: "submit", class: "btn btn-primary", text: t("lv.save") });
  const form = h("form", { class: "view-form card", id: "view-form", hidden: true },
    field(t("lv.view_name"), name, { name: "name" }),
    share ? h("label", { class: "check" }, share, " ", t("lv.view_shared")) : null,
    box,
    h("div", { class: "form-actions" }, saveBtn,
      h("button", { type: "button", class: "btn btn-ghost", text: t("lv.cancel"), onClick: () => { form.hidden = true; } })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    busy(saveBtn, true);
    try {
      const view = await api.post("/views", {
        name: name.value.trim(), shared: Boolean(share && share.checked),
        filters: viewFilters(state), sort: state.sort || null, columns: state.columns || null,
      });
      flash(t("lv.view_saved", { name: view.name }));
      apply(view);
    } catch (err) {
      showMessage(box, err.message);
    } finally {
      if (saveBtn.isConnected) busy(saveBtn, false);
    }
  });

  const del = chosen && (chosen.mine || (user && user.role === "admin"))
    ? h("button", { type: "button", class: "btn btn-ghost btn-small", id: "view-delete", text: t("lv.delete_view") })
    : null;
  if (del) {
    del.addEventListener("click", async () => {
      if (!window.confirm(t("lv.confirm_delete_view", { name: chosen.name }))) return;
      try {
        await api.request("DELETE", `/views/${encodeURIComponent(chosen.id)}`);
        flash(t("lv.view_deleted"));
        apply(null);
      } catch (err) {
        flash(err.message, "error");
      }
    });
  }
  const open = h("button", { type: "button", class: "btn btn-ghost btn-small", id: "view-save-open", text: t("lv.save_view"),
    onClick: () => { form.hidden = !form.hidden; if (!form.hidden) name.focus(); } });
  return {
    bar: h("div", { class: "view-bar", id: "view-bar" },
      h("label", { class: "view-label", htmlFor: "view-select", text: t("lv.views") }), sel, open, del),
    form,
  };
}
