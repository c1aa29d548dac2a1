// The work lifecycle on the ticket page: the forms behind suspend / resolve / reopen, the
// rating, the work log, assignment and the timeline. Each piece takes the ticket and a small
// environment {user, reload(message)} and returns a node (or null when it does not apply).
import { h, field, messageBox, showMessage, showErrors, clearErrors, busy, select, uid } from "../dom.js";
import { t, label, fmtTime, getLang } from "../i18n.js";
import * as api from "../api.js";
import { isDesk } from "../model.js";
import { withLeftovers } from "./leftovers.js";
import { dropTarget, progressInto } from "./uploads.js";

export const FIELD_TYPES = new Set(["repair", "inspection", "installation"]);
export const REQUIRED_REPORTS = {
  repair: ["onsite_report"],
  inspection: ["onsite_report", "inspection_report"],
  installation: ["acceptance_report", "implementation_report"],
};
const REQUESTER_ROLES = new Set(["customer", "customer_admin"]);
const ASSIGNERS = new Set(["agent", "admin", "provider_admin"]);

const enc = encodeURIComponent;

/** "2026-11-22T10:30:05" for an <input type=datetime-local>, in local time. */
export function localInput(date = new Date()) {
  const d = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 19);
}

/** The value of a datetime-local input as an ISO timestamp (UTC), or null when empty. */
export function isoFrom(input) {
  if (!input.value) return null;
  const d = new Date(input.value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function when(value, name) {
  return h("input", { type: "datetime-local", name, value: value || "", step: "1" });
}

// ---- action forms -------------------------------------------------------------------------

/** Fields and a body builder for actions whose payload is more than reason + comment. */
export function actionFields(action, tk, form) {
  if (action === "suspend") return suspendFields();
  // the closing report and the desk's close may carry leftover items (遗留问题)
  if (action === "resolve") return withLeftovers(resolveFields(tk, form));
  if (action === "close") return withLeftovers(null);
  return null;
}

function suspendFields() {
  const start = when("", "planned_start");
  const end = when("", "planned_end");
  end.required = true;
  const reason = h("input", { type: "text", name: "reason", maxLength: 2000, required: true });
  return {
    nodes: [
      h("div", { class: "form-row" },
        field(t("work.planned_start"), start, { name: "planned_start" }),
        field(t("work.planned_end"), end, { name: "planned_end", required: true })),
      field(t("work.suspend_reason"), reason, { name: "reason", required: true }),
    ],
    focus: end,
    body: () => ({ planned_start: isoFrom(start), planned_end: isoFrom(end), reason: reason.value.trim() }),
  };
}

let rootCauses = null;
function rootCauseList() {
  if (!rootCauses) {
    rootCauses = api.get("/root-causes").then((d) => d.items || [])
      .catch((e) => { rootCauses = null; throw e; });
  }
  return rootCauses;
}

function resolveFields(tk) {
  const cause = select([], { name: "root_cause", placeholder: t("work.root_cause_pick"), required: true });
  rootCauseList().then((items) => {
    const zh = getLang() === "zh";
    items.filter((c) => c.active !== false).forEach((c) => cause.append(
      h("option", { value: c.code, text: (zh ? c.name_zh : c.name_en) || c.code })));
  }).catch(() => {});
  const description = h("textarea", { name: "description", rows: 4, maxLength: 20000, required: true });
  const completed = when(localInput(), "completed_at");
  const field_work = FIELD_TYPES.has(tk.type);
  const visited = field_work ? when("", "visited_at") : null;
  return {
    nodes: [
      reportChecklist(tk),
      field(t("work.root_cause"), cause, { name: "root_cause", required: true }),
      field(t("work.resolution"), description, { name: "description", required: true, wide: true }),
      h("div", { class: "form-row" },
        field(t("work.completed_at"), completed, { name: "completed_at", required: true }),
        visited ? field(t("work.visited_at"), visited, { name: "visited_at", required: true }) : null),
    ],
    focus: cause,
    body: () => {
      const out = { root_cause: cause.value, description: description.value.trim(),
        completed_at: isoFrom(completed) };
      if (visited) out.visited_at = isoFrom(visited);
      return out;
    },
  };
}

/** The closing reports the type demands: ticked when uploaded, each with its own upload. */
function reportChecklist(tk) {
  const kinds = REQUIRED_REPORTS[tk.type] || [];
  if (!kinds.length) return null;
  const have = new Set((tk.attachments || []).map((a) => a.kind));
  const items = kinds.map((kind) => {
    const done = have.has(kind);
    const box = messageBox("error");
    const input = h("input", { type: "file", name: kind, id: uid("report"), class: "report-file" });
    const state = h("span", { class: ["report-state", done ? "report-done" : "report-missing"],
      text: t(done ? "work.report_uploaded" : "work.report_missing") });
    const send = async (file) => {
      showMessage(box, "");
      state.textContent = t("upload.uploading");
      try {
        await api.upload(tk.id, file, kind, { onProgress: progressInto(state) });
        state.textContent = t("work.report_uploaded");
        state.className = "report-state report-done";
        item.classList.add("report-ok");
        item.querySelector(".report-check").textContent = "☑";
      } catch (err) {
        state.textContent = t(done ? "work.report_uploaded" : "work.report_missing");
        showMessage(box, err.message);
      }
    };
    input.addEventListener("change", () => { if (input.files && input.files[0]) send(input.files[0]); });
    const item = h("li", { class: ["report-item", done && "report-ok"], dataset: { kind } },
      h("span", { class: "report-check", "aria-hidden": "true", text: done ? "☑" : "☐" }),
      h("span", { class: "report-name", text: label("report", kind) }),
      state,
      h("label", { class: "btn btn-small file-button", htmlFor: input.id }, t("work.report_upload"), input),
      box);
    dropTarget(item, (files) => send(files[0])); // a report dropped on its line
    return item;
  });
  return h("div", { class: "report-checklist" },
    h("h3", { text: t("work.reports_needed") }),
    h("ul", { class: "report-list" }, items));
}

// ---- rating ---------------------------------------------------------------------------------

export function canRate(tk, user) {
  if (!REQUESTER_ROLES.has(user.role)) return false;
  if (!["resolved", "closed"].includes(tk.status) || !(tk.resolution_round >= 1)) return false;
  return !(tk.ratings || []).some((r) => r.round === tk.resolution_round);
}

function stars(name, legend) {
  const group = h("fieldset", { class: "stars", dataset: { field: name } },
    h("legend", {}, legend, h("span", { class: "req", "aria-hidden": "true", text: " *" })));
  const row = h("div", { class: "star-row" });
  for (let v = 5; v >= 1; v -= 1) { // reversed in the DOM so CSS can light the lower stars
    const id = uid("star");
    row.append(
      h("input", { type: "radio", name, value: String(v), id, class: "star-input" }),
      h("label", { htmlFor: id, class: "star", dataset: { score: String(v) },
        title: t("work.stars", { n: v }), "aria-label": t("work.stars", { n: v }), text: "★" }));
  }
  group.append(row, h("p", { class: "field-error", hidden: true }));
  return group;
}

export function ratingCard(tk, env) {
  if (!canRate(tk, env.user)) return null;
  const box = messageBox("error");
  const comment = h("textarea", { name: "comment", rows: 3, maxLength: 5000 });
  const send = h("button", { type: "submit", class: "btn btn-primary", text: t("work.rate_send") });
  const form = h("form", { class: "rating-form", id: "rating-form", novalidate: true },
    box,
    h("div", { class: "form-row" }, stars("product_score", t("work.product_score")),
      stars("service_score", t("work.service_score"))),
    field(t("work.rating_comment"), comment, { name: "comment" }),
    h("div", { class: "form-actions" }, send));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    const score = (n) => {
      const c = form.querySelector(`input[name=${n}]:checked`);
      return c ? Number(c.value) : null;
    };
    busy(send, true);
    try {
      await api.post(`/tickets/${enc(tk.id)}/rating`, { product_score: score("product_score"),
        service_score: score("service_score"), comment: comment.value.trim() || null });
      await env.reload(t("work.rated"));
    } catch (err) {
      busy(send, false);
      showErrors(form, box, err);
    }
  });
  return h("section", { class: "card rating-card" },
    h("h2", { text: t("work.rate_title") }),
    h("p", { class: "muted", text: t("work.rate_hint") }),
    form);
}

// ---- work log -------------------------------------------------------------------------------

export function worklogCard(tk, env) {
  const entries = tk.worklogs || [];
  const total = entries.reduce((n, e) => n + (Number(e.minutes) || 0), 0);
  const rows = entries.map((e) => h("li", { class: "worklog", dataset: { entryId: e.id } },
    h("div", { class: "worklog-top" },
      h("span", { class: "worklog-title", text: e.title }),
      e.on_site ? h("span", { class: "chip chip-onsite", text: t("work.on_site") }) : null,
      h("span", { class: "worklog-minutes", text: t("work.minutes", { n: e.minutes }) })),
    h("div", { class: "muted small" },
      (e.handler && e.handler.name) || "", " · ", fmtTime(e.started_at), " – ", fmtTime(e.ended_at)),
    e.description ? h("div", { class: "prewrap worklog-desc", text: e.description }) : null));
  const canLog = tk.status === "in_progress" && (env.user.id === tk.handler_id || isDesk(env.user));
  return h("section", { class: "card worklogs", id: "worklogs" },
    h("h2", {}, t("work.worklogs"), h("span", { class: "count", text: String(entries.length) })),
    tk.worklogs === null ? h("p", { class: "muted", text: t("work.worklogs_unavailable") }) : null,
    rows.length ? h("ol", { class: "worklog-list" }, rows) : null,
    h("p", { class: "worklog-total" }, t("work.total"), " ",
      h("strong", { id: "worklog-total", text: t("work.minutes", { n: total }) })),
    canLog ? worklogForm(tk, env) : null);
}

function worklogForm(tk, env) {
  const box = messageBox("error");
  // by default: from when work (last) began, or an hour ago if that was longer ago
  const begun = (tk.history || []).filter((c) => c.to_status === "in_progress").map((c) => c.at);
  const since = new Date(begun.length ? begun[begun.length - 1] : tk.created_at).getTime();
  const from = new Date(Math.min(Date.now(),
    Math.max(Number.isNaN(since) ? 0 : since, Date.now() - 3600000)));
  const started = when(localInput(from), "started_at");
  const ended = when(localInput(), "ended_at");
  // left as it was, the end is "now" at the moment of saving
  ended.addEventListener("input", () => { ended.dataset.touched = "1"; });
  const title = h("input", { type: "text", name: "title", maxLength: 200, required: true });
  const description = h("textarea", { name: "description", rows: 3, maxLength: 20000, required: true });
  const onSite = h("input", { type: "checkbox", name: "on_site", checked: FIELD_TYPES.has(tk.type) });
  const send = h("button", { type: "submit", class: "btn btn-primary", text: t("work.log_add") });
  const form = h("form", { class: "worklog-form", id: "worklog-form", novalidate: true },
    h("h3", { text: t("work.log_new") }),
    box,
    h("div", { class: "form-row" },
      field(t("work.started_at"), started, { name: "started_at", required: true }),
      field(t("work.ended_at"), ended, { name: "ended_at", required: true })),
    field(t("work.log_title"), title, { name: "title", required: true }),
    field(t("work.log_description"), description, { name: "description", required: true }),
    h("label", { class: "check" }, onSite, " ", t("work.on_site")),
    h("div", { class: "form-actions" }, send));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    if (!ended.dataset.touched) ended.value = localInput();
    busy(send, true);
    try {
      await api.post(`/tickets/${enc(tk.id)}/worklogs`, { started_at: isoFrom(started),
        ended_at: isoFrom(ended), title: title.value.trim(), description: description.value.trim(),
        on_site: onSite.checked });
      await env.reload(t("work.logged"));
    } catch (err) {
      busy(send, false);
      showErrors(form, box, err);
    }
  });
  return form;
}

// ---- assignment -----------------------------------------------------------------------------

export function assignCard(tk, env) {
  const user = env.user;
  if (!ASSIGNERS.has(user.role) || !["new", "assigned", "in_progress"].includes(tk.status)) return null;
  if (!tk.product_line) return null;
  const re = tk.status !== "new";
  const box = messageBox("error");
  const engineer = select([], { name: "engineer_id", placeholder: t("work.engineer_pick"), required: true });
  const reason = h("input", { type: "text", name: "reason", maxLength: 500, required: re });
  const send = h("button", { type: "submit", class: "btn btn-primary", text: t(re ? "work.reassign" : "work.assign") });
  const form = h("form", { class: "assign-form", id: "assign-form", novalidate: true },
    box,
    field(t("work.engineer"), engineer, { name: "engineer_id", required: true }),
    field(t("work.assign_reason"), reason, { name: "reason", required: re }),
    h("div", { class: "form-actions" }, send));
  const provider = user.role === "provider_admin" ? user.company_id : tk.provider_id;
  api.get("/qualified-engineers", { product_line: tk.product_line, provider_id: provider || "" })
    .then((d) => {
      const items = (d.items || []).filter((e) => e.id !== tk.handler_id);
      items.forEach((e) => engineer.append(h("option", { value: e.id,
        text: t("work.engineer_row", { name: e.name || e.id, load: e.open_load ?? 0 }) })));
      if (!items.length) showMessage(box, t("work.no_engineers"));
    })
    .catch((err) => showMessage(box, err.message));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    busy(send, true);
    try {
      const body = { engineer_id: engineer.value };
      if (reason.value.trim()) body.reason = reason.value.trim();
      await api.post(`/tickets/${enc(tk.id)}/${re ? "reassign" : "assign"}`, body);
      // the ticket follows dispatch's decision by event: wait a little for it to land
      for (let i = 0; i < 30; i += 1) {
        const now = await api.get(`/tickets/${enc(tk.id)}`);
        if (now.handler_id === body.engineer_id && now.status !== "new") break;
        await new Promise((r) => { setTimeout(r, 300); });
      }
      await env.reload(t("work.assigned"));
    } catch (err) {
      busy(send, false);
      showErrors(form, box, err);
    }
  });
  return h("section", { class: "card assign-card" },
    h("h2", { text: t(re ? "work.reassign" : "work.assign") }), form);
}

// ---- closing reports and the timeline -------------------------------------------------------

export function closingCard(tk) {
  const reports = tk.closing_reports || [];
  if (!reports.length) return null;
  const r = reports[reports.length - 1];
  const cause = h("dd", { class: "root-cause", text: r.root_cause });
  rootCauseList().then((items) => {
    const c = items.find((x) => x.code === r.root_cause);
    if (c) cause.textContent = (getLang() === "zh" ? c.name_zh : c.name_en) || r.root_cause;
  }).catch(() => {});
  return h("section", { class: "card closing-card" },
    h("h2", { text: t("work.closing_report") }),
    h("dl", { class: "facts" },
      h("dt", { text: t("work.root_cause") }), cause,
      h("dt", { text: t("work.completed_at") }), h("dd", { text: fmtTime(r.completed_at) }),
      r.visited_at ? [h("dt", { text: t("work.visited_at") }), h("dd", { text: fmtTime(r.visited_at) })] : null,
      h("dt", { text: t("work.round") }), h("dd", { text: String(r.round) })),
    h("div", { class: "prewrap", text: r.description }));
}

export function timelineCard(tk) {
  const items = (tk.timeline || []).map((i) => h("li", { class: ["event", `event-${i.kind}`], dataset: { kind: i.kind } },
    h("div", { class: "event-action" },
      h("span", { class: "event-kind", text: i.kind === "status" && i.action ? label("action", i.action) : label("timeline", i.kind) }),
      h("time", { class: "muted small event-time", datetime: i.at, text: fmtTime(i.at) })),
    i.summary ? h("div", { class: "event-summary", text: eventSummary(i) }) : null,
    h("div", { class: "muted small event-actor", text: i.actor || "" }),
    i.reason ? h("div", { class: "event-reason", text: ["status", "suspension", "assigned", "reassigned"].includes(i.kind)
      ? t("detail.reason_label", { reason: i.reason }) : i.reason }) : null));
  return h("section", { class: "card history", id: "timeline" },
    h("h2", {}, t("work.timeline"), h("span", { class: "count", text: String(items.length) })),
    h("ol", { class: "timeline" }, items));
}

function eventSummary(i) {
  if (i.kind === "status") return statusLine(i.summary);
  if (i.kind === "attachment" && i.attachment_kind) {
    return `${i.summary} · ${i.attachment_kind === "intake" ? t("timeline.intake_attachment") : label("report", i.attachment_kind)}`;
  }
  if (i.kind === "suspension") {
    const [from, to] = String(i.summary).split(" -> ");
    if (to !== undefined) return `${fmtTime(from)} → ${fmtTime(to)}`;
  }
  return i.summary;
}

function statusLine(summary) {
  const [from, to] = String(summary).split(" -> ");
  if (to === undefined) return summary;
  return `${from === "-" ? "" : `${label("status", from)} → `}${label("status", to)}`;
}
