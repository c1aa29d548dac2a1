// Attachments go up one by one after the ticket exists; each file shows its own result
// (415 type refused, 413 too large, 503 storage down...) and failed ones can be retried.
import { h } from "../dom.js";
import { t, fmtSize } from "../i18n.js";
import * as api from "../api.js";

export const ACCEPT = ".png,.jpg,.jpeg,.gif,.rar,.zip,.7z,.doc,.docx,.xls,.xlsx,.mp4,.pdf,.txt,.log";

export function uploadQueue(files) {
  const items = files.map((file) => {
    const state = h("span", { class: "up-state up-pending", text: t("upload.pending") });
    const error = h("p", { class: "up-error", role: "alert", hidden: true });
    const el = h("li", { class: "up-item", dataset: { file: file.name } },
      h("div", { class: "up-line" },
        h("span", { class: "up-name", text: file.name }),
        h("span", { class: "up-size muted", text: fmtSize(file.size) }),
        state),
      error);
    return { file, el, state, error, done: false };
  });
  const list = h("ul", { class: "up-list" }, items.map((i) => i.el));

  function set(item, kind, text, message) {
    item.state.className = `up-state up-${kind}`;
    item.state.textContent = text;
    item.error.textContent = message || "";
    item.error.hidden = !message;
    item.el.classList.toggle("up-failed", kind === "error");
  }

  /**
   * Upload the files not yet uploaded. A file refused for what it is (415 type, 413 size...)
   * is not sent again; one that met an outage (503, network) is, on the next run.
   * Resolves to {failed, retryable}.
   */
  async function run(ticketId) {
    for (const item of items) {
      if (item.done || item.refused) continue;
      set(item, "uploading", t("upload.uploading"));
      try {
        await api.upload(ticketId, item.file);
        item.done = true;
        set(item, "done", `✓ ${t("upload.done")}`);
      } catch (err) {
        item.refused = err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
        set(item, "error", `✗ ${err.status || ""}`.trim(), err.message);
      }
    }
    const failed = items.filter((i) => !i.done);
    return { failed: failed.length, retryable: failed.filter((i) => !i.refused).length };
  }

  return { list, run };
}

/** A file picker that collects files across several choices, each removable. */
export function filePicker() {
  const files = [];
  const input = h("input", { type: "file", multiple: true, accept: ACCEPT, class: "file-input", name: "file" });
  const list = h("ul", { class: "file-list" });
  function draw() {
    list.replaceChildren(...files.map((f, i) => h("li", {},
      h("span", { class: "up-name", text: f.name }),
      h("span", { class: "muted", text: fmtSize(f.size) }),
      h("button", { type: "button", class: "btn btn-ghost btn-small", text: t("common.remove"),
        "aria-label": `${t("common.remove")} ${f.name}`,
        onClick: () => { files.splice(i, 1); draw(); } }))));
    list.hidden = !files.length;
  }
  input.addEventListener("change", () => {
    for (const f of input.files) files.push(f);
    input.value = "";
    draw();
  });
  draw();
  return { input, list, files };
}
