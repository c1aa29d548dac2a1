// Attachments go up one by one after the ticket exists; each file shows its own progress bar
// and result (415 type refused, 413 too large, 503 storage down...) in the server's words,
// with a retry (only that file is sent again) and a remove/cancel of its own. Files come from
// a chooser, a drop on a visible drop zone, or - on the reply box - a pasted screenshot.
import { h, icon } from "../dom.js";
import { t, fmtSize } from "../i18n.js";
import * as api from "../api.js";

export const ACCEPT = ".png,.jpg,.jpeg,.gif,.rar,.zip,.7z,.doc,.docx,.xls,.xlsx,.mp4,.pdf,.txt,.log";

const pad2 = (n) => String(n).padStart(2, "0");

/** "screenshot-20261207-143005.png": a pasted image has no name (or a generic "image.png"). */
export function screenshotName(date = new Date(), type = "image/png") {
  const ext = { "image/jpeg": "jpg", "image/gif": "gif" }[type] || "png";
  const d = `${date.getFullYear()}${pad2(date.getMonth() + 1)}${pad2(date.getDate())}`;
  const time = `${pad2(date.getHours())}${pad2(date.getMinutes())}${pad2(date.getSeconds())}`;
  return `screenshot-${d}-${time}.${ext}`;
}

/** A refusal for what the file is (type, size...) cannot succeed by sending it again. */
function refusedFor(err) {
  return err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}

/**
 * uploadQueue(files, {send}) -> {list, run, add, items, onSettled}
 * send(file, {onProgress, signal}) uploads one file (default: to the ticket given to run());
 * onUploaded(file, answer) after each success.
 * run(ticketId) uploads every file not yet up and not refused; resolves to {failed, retryable}.
 * A file's own retry sends only that file; queue.onSettled({failed, retryable}) follows it.
 */
export function uploadQueue(files, { send, onUploaded } = {}) {
  const items = [];
  const list = h("ul", { class: "up-list" });
  let target = null;
  const queue = { list, items, run, add, onSettled: null };

  function summary() {
    const failed = items.filter((i) => !i.done);
    return { failed: failed.length, retryable: failed.filter((i) => !i.refused).length };
  }

  function add(more) {
    const added = [...more].map(makeItem);
    items.push(...added);
    list.replaceChildren(...items.map((i) => i.el));
    return added;
  }

  function makeItem(file) {
    const item = { file, done: false, refused: false, busy: false, controller: null };
    item.state = h("span", { class: "up-state up-pending", text: t("upload.pending") });
    item.bar = h("progress", { class: "up-progress", max: 100, value: 0, hidden: true,
      "aria-label": `${t("upload.progress")} ${file.name}` });
    item.error = h("p", { class: "up-error", role: "alert", hidden: true });
    item.retry = h("button", { type: "button", class: "btn btn-small up-retry", hidden: true,
      text: t("upload.retry"), "aria-label": `${t("upload.retry")} ${file.name}`,
      onClick: () => { one(item).then(settled); } });
    item.remove = h("button", { type: "button", class: "btn btn-ghost btn-small up-remove",
      text: t("upload.remove"), "aria-label": `${t("upload.remove")} ${file.name}`,
      onClick: () => removeOrCancel(item) });
    item.el = h("li", { class: "up-item", dataset: { file: file.name } },
      h("div", { class: "up-line" },
        h("span", { class: "up-name", text: file.name }),
        h("span", { class: "up-size muted", text: fmtSize(file.size) }),
        item.state, item.retry, item.remove),
      item.bar, item.error);
    set(item, "pending", t("upload.pending"));
    return item;
  }

  function set(item, kind, text, message) {
    item.state.className = `up-state up-${kind}`;
    item.state.textContent = text;
    item.error.textContent = message || "";
    item.error.hidden = !message;
    item.el.classList.toggle("up-failed", kind === "error" || kind === "cancelled");
    item.el.dataset.state = kind;
    item.bar.hidden = kind !== "uploading";
    item.retry.hidden = !(kind === "error" || kind === "cancelled") || item.refused;
    item.remove.hidden = kind === "done";
    item.remove.textContent = t(kind === "uploading" ? "upload.cancel" : "upload.remove");
    item.remove.setAttribute("aria-label", `${item.remove.textContent} ${item.file.name}`);
  }

  function removeOrCancel(item) {
    if (item.busy) { item.controller.abort(); return; }
    items.splice(items.indexOf(item), 1);
    item.el.remove();
    settled();
  }

  function settled() {
    // while run() is still going, it reports at its end
    if (queue.onSettled && !items.some((i) => i.busy)) queue.onSettled(summary());
  }

  const sendOne = (file, opts) => (send ? send(file, opts) : api.upload(target, file, undefined, opts));

  async function one(item) {
    if (item.done || item.busy) return;
    item.busy = true;
    item.refused = false;
    item.held = false;
    item.controller = new AbortController();
    item.bar.value = 0;
    set(item, "uploading", t("upload.uploading"));
    try {
      const out = await sendOne(item.file, {
        signal: item.controller.signal,
        onProgress: (loaded, total) => {
          const pct = Math.min(100, Math.round((loaded / (total || 1)) * 100));
          item.bar.value = pct;
          item.state.textContent = `${t("upload.uploading")} ${pct}%`;
        },
      });
      item.done = true;
      set(item, "done", `✓ ${t("upload.done")}`);
      if (onUploaded) onUploaded(item.file, out);
    } catch (err) {
      if (err.code === "aborted") {
        item.held = true; // not sent again by the next run(), only by its own retry
        set(item, "cancelled", t("upload.cancelled"));
      } else {
        item.refused = refusedFor(err);
        set(item, "error", `✗ ${err.status || ""}`.trim(), err.message);
      }
    } finally {
      item.busy = false;
    }
  }

  /** only: some of the items (those just added), else all */
  async function run(ticketId, only) {
    target = ticketId;
    for (const item of only || [...items]) {
      if (!item.done && !item.refused && !item.held && items.includes(item)) await one(item);
    }
    return summary();
  }

  add(files);
  return queue;
}

/** Calls onFiles(files) for files dropped on `el`, which is marked while something is dragged over. */
export function dropTarget(el, onFiles) {
  let depth = 0; // dragenter/leave fire for every child crossed
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  el.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth += 1;
    el.classList.add("drag-over");
  });
  el.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  });
  el.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) el.classList.remove("drag-over");
  });
  el.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    el.classList.remove("drag-over");
    const files = [...e.dataTransfer.files];
    if (files.length) onFiles(files);
  });
  return el;
}

/**
 * A drop zone: "Drop files here or choose", the chooser being a real file input (keyboard:
 * Tab to it, Enter/Space opens it). Returns {zone, input}; onFiles(files) gets each choice.
 */
export function dropZone(onFiles, { multiple = true, buttonText, compact = false } = {}) {
  const input = h("input", { type: "file", multiple, accept: ACCEPT, class: "file-input", name: "file" });
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    if (files.length) onFiles(files);
  });
  const zone = h("div", { class: ["drop-zone", compact && "drop-zone-compact"] },
    icon("upload", 20),
    h("span", { class: "drop-text", text: t(multiple ? "upload.drop_here" : "upload.drop_one") }),
    h("label", { class: "btn btn-small file-button" }, buttonText || t("upload.choose"), input));
  dropTarget(zone, (files) => onFiles(multiple ? files : files.slice(0, 1)));
  return { zone, input };
}

/**
 * A file picker that collects files across several choices and drops, each removable, to be
 * uploaded once the ticket exists (the new-ticket form).
 */
export function filePicker() {
  const files = [];
  const list = h("ul", { class: "file-list" });
  const { zone, input } = dropZone((chosen) => { files.push(...chosen); draw(); });
  function draw() {
    list.replaceChildren(...files.map((f, i) => h("li", {},
      h("span", { class: "up-name", text: f.name }),
      h("span", { class: "muted", text: fmtSize(f.size) }),
      h("button", { type: "button", class: "btn btn-ghost btn-small", text: t("common.remove"),
        "aria-label": `${t("common.remove")} ${f.name}`,
        onClick: () => { files.splice(i, 1); draw(); } }))));
    list.hidden = !files.length;
  }
  draw();
  return { input, list, files, zone };
}

/**
 * The ticket page's uploader: files chosen or dropped wait in a list (each removable) until
 * "Upload attachments"; then each shows its progress, result, retry and remove.
 * onAllDone() when every file is up (the page then reloads).
 */
export function ticketUploader(tk, onAllDone) {
  const queue = uploadQueue([]);
  const go = h("button", { type: "button", class: "btn btn-small btn-primary up-go", hidden: true,
    text: t("detail.add_attachment") });
  const pending = () => queue.items.filter((i) => i.el.dataset.state === "pending");
  const refresh = () => { go.hidden = !pending().length; };
  const finish = (s) => { refresh(); if (!s.failed && queue.items.length) onAllDone(); };
  queue.onSettled = finish;
  const { zone } = dropZone((files) => { queue.add(files); refresh(); },
    { buttonText: `+ ${t("new.attach_add")}` });
  go.addEventListener("click", async () => {
    go.hidden = true;
    finish(await queue.run(tk.id, pending()));
  });
  return h("div", { class: "uploader" }, zone, queue.list, go);
}

/** Text inserted at the cursor of a textarea (with a space before it when needed). */
function insertAtCursor(textarea, text) {
  const at = textarea.selectionStart ?? textarea.value.length;
  const before = textarea.value.slice(0, at);
  const sep = before && !/\s$/.test(before) ? " " : "";
  textarea.value = `${before}${sep}${text} ${textarea.value.slice(at)}`;
}

/**
 * Files pasted into or dropped on a textarea go to `upload(files)`; a pasted image (a
 * screenshot has no name of its own, or a generic "image.png") is renamed
 * screenshot-YYYYMMDD-HHMMSS.png. A paste of text is left to the browser.
 */
function takeFiles(textarea, upload) {
  textarea.addEventListener("paste", (e) => {
    const files = [...((e.clipboardData && e.clipboardData.files) || [])];
    if (!files.length) return;
    e.preventDefault();
    const now = Date.now();
    upload(files.map((f, i) => (f.type.startsWith("image/")
      ? new File([f], screenshotName(new Date(now + i * 1000), f.type), { type: f.type })
      : f)));
  });
  dropTarget(textarea, upload);
}

/**
 * Pasted or dropped files on the reply box go up at once as attachments of the ticket
 * (internal when the reply is an internal note), their names put into the reply text.
 * Returns the hint and the list of those uploads, to be shown under the box.
 */
export function replyAttachments(textarea, tk, { internal } = {}) {
  const queue = uploadQueue([], {
    send: (file, opts) => api.upload(tk.id, file, undefined, { ...opts, internal: internal ? internal() : false }),
  });
  takeFiles(textarea, (files) => {
    insertAtCursor(textarea, files.map((f) => `[${f.name}]`).join(" "));
    queue.run(tk.id, queue.add(files));
  });
  textarea.setAttribute("aria-describedby",
    [textarea.getAttribute("aria-describedby"), "reply-paste-hint"].filter(Boolean).join(" "));
  return h("div", { class: "reply-uploads" },
    h("p", { class: "field-hint", id: "reply-paste-hint", text: t("upload.paste_hint") }), queue.list);
}

/**
 * A knowledge-base article's files while its body is edited: chosen, dropped on the zone or
 * the editor, or pasted into it; each one uploaded is linked into the Markdown at the cursor
 * (an image embedded). The article's files already stored are listed with their link.
 */
export function kbFiles(article, editor) {
  const link = (f) => `/api/v1/kb/files/${encodeURIComponent(f.id)}?redirect=1`;
  const markdown = (f) => `${(f.content_type || "").startsWith("image/") ? "!" : ""}[${f.filename}](${link(f)})`;
  const queue = uploadQueue([], {
    send: (file, opts) => api.uploadTo(`/kb/articles/${encodeURIComponent(article.id)}/files`, file, opts),
    onUploaded: (file, out) => { if (out) insertAtCursor(editor, markdown(out)); },
  });
  const upload = (files) => queue.run(null, queue.add(files));
  takeFiles(editor, upload);
  const { zone } = dropZone(upload);
  const stored = (article.files || []).map((f) => h("li", {},
    h("a", { href: link(f), target: "_blank", rel: "noopener", class: "up-name", text: f.filename }),
    h("span", { class: "muted", text: fmtSize(f.size) }),
    h("button", { type: "button", class: "btn btn-ghost btn-small", text: t("upload.insert"),
      "aria-label": `${t("upload.insert")} ${f.filename}`, onClick: () => insertAtCursor(editor, markdown(f)) })));
  return h("div", { class: "uploader kb-files", id: "kb-files" },
    h("p", { class: "field-hint", text: t("upload.kb_hint") }), zone, queue.list,
    stored.length ? h("ul", { class: "file-list" }, stored) : null);
}

/** onProgress for api.upload that writes "Uploading… 42%" into `el`. */
export function progressInto(el) {
  return (loaded, total) => {
    el.textContent = `${t("upload.uploading")} ${Math.min(100, Math.round((loaded / (total || 1)) * 100))}%`;
  };
}
