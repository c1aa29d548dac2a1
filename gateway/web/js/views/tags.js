// Tags: the support staff's own labels on a ticket (customers never see them: the API leaves
// them out). Chips on list rows; on the ticket page, chips with a remove button and an add box.
import { h, messageBox, showMessage, busy } from "../dom.js";
import { t } from "../i18n.js";
import * as api from "../api.js";

export const tagChip = (tag) => h("span", { class: "chip chip-tag", text: tag });

export function tagChips(tags) {
  return h("span", { class: "tag-chips" }, (tags || []).map(tagChip));
}

/** "a, b，c" -> ["a", "b", "c"] (ASCII and full-width commas alike). */
export function splitTags(text) {
  return String(text || "").split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
}

/** The ticket page's tag row (staff): chips with ×, and an input to add. */
export function tagEditor(tk) {
  const path = `/tickets/${encodeURIComponent(tk.id)}/tags`;
  const box = messageBox("error");
  const chips = h("span", { class: "tag-chips", id: "ticket-tags" });
  let tags = [...(tk.tags || [])];

  function draw() {
    chips.replaceChildren(...(tags.length ? tags.map((tag) => h("span", { class: "chip chip-tag", dataset: { tag } },
      tag, h("button", { type: "button", class: "chip-x", "aria-label": t("lv.tag_remove", { tag }), text: "×",
        onClick: (e) => change(e.currentTarget, () => api.request("DELETE", `${path}/${encodeURIComponent(tag)}`)) })))
      : [h("span", { class: "muted small", text: t("lv.no_tags") })]));
  }

  async function change(button, send) {
    busy(button, true);
    showMessage(box, "");
    try {
      tags = (await send()).tags;
      draw();
      return true;
    } catch (err) {
      showMessage(box, err.message);
      return false;
    } finally {
      if (button.isConnected) busy(button, false);
    }
  }

  const input = h("input", { type: "text", name: "tag", maxLength: 200, placeholder: t("lv.tag_add_ph"),
    "aria-label": t("lv.tag_add_ph") });
  const add = h("button", { type: "submit", class: "btn btn-small", text: t("lv.tag_add") });
  const form = h("form", { class: "tag-form", id: "tag-form" }, input, add);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const wanted = splitTags(input.value);
    if (!wanted.length) return;
    if (await change(add, () => api.post(path, { tags: wanted }))) input.value = "";
  });
  draw();
  return h("div", { class: "ticket-tags" },
    h("span", { class: "muted small tag-label", text: t("lv.tags_title") }), chips, form, box);
}
