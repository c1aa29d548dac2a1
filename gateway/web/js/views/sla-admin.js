// SLA administration (#/admin/sla?tab=calendars|policies|preview), for administrators: the
// business calendars (time zone, working hours per weekday, Chinese statutory holidays,
// extra holidays and working days, closures, 24x7), the SLA policies (what they match,
// their calendar, targets in business minutes, warning share, escalation) with a dry run of
// a policy's form over past tickets, and the due-time preview on a calendar. The API's
// refusals land under the field they name (details.fields), in the page's language.
import { h, field, onSubmit, select, tabbed, messageBox, showErrors, clearErrors, busy, badge } from "../dom.js";
import { t, label, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { bodySchema, nested, queryEnum } from "../model.js";
import { dataTable, actButton } from "./webhooks.js";

const TABS = [["calendars", "slaadm.calendars"], ["policies", "slaadm.policies"], ["preview", "slaadm.preview"]];
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export const TARGETS = ["completeness", "response", "resolution", "update"];
const CAL = "/admin/sla/calendars";
const POL = "/admin/sla/policies";
const calPath = (id) => `${CAL}/${encodeURIComponent(id)}`;
const polPath = (id) => `${POL}/${encodeURIComponent(id)}`;
const DANGER = "btn btn-small btn-danger-ghost";
const td = (key, ...c) => h("td", { dataset: { label: t(key) } }, ...c);

// ---- small conversions --------------------------------------------------------------------

/** "09:00-12:00, 13:00-18:00" <-> [["09:00","12:00"],["13:00","18:00"]] */
export function parseRanges(text) {
  return text.replace(/\s*[-–~～]\s*/g, "-").split(/[,，;；\s]+/).filter(Boolean).map((r) => r.split("-"));
}
export const formatRanges = (ranges) => (ranges || []).map((r) => r.join("-")).join(", ");
const splitList = (text) => text.split(/[,，;；\s]+/).map((x) => x.trim()).filter(Boolean);

/** An ISO instant -> the value of a datetime-local input (the browser's time). */
function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
/** A datetime-local or date input's value -> an ISO instant (the browser's time), or the raw text. */
export function instant(value) {
  if (!value) return undefined;
  const d = new Date(/T/.test(value) ? value : `${value}T00:00`);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}
const number = (value) => (value === "" || value === null || value === undefined ? null : Number(value));

/** Business minutes for people: 90 -> "1.5 h", 30 -> "30 min". */
export function businessTime(min) {
  if (min === null || min === undefined) return t("common.none");
  if (min >= 120) return t("sla.hours", { n: Number((min / 60).toFixed(1)) });
  if (min < 1) return t("sla.seconds", { n: Math.round(min * 60) });
  return t("sla.minutes", { n: Number(min.toFixed(1)) });
}

function zoneList() {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return h("datalist", { id: "tz-list" }, ["Asia/Shanghai", "UTC", ...zones].map((z) => h("option", { value: z })));
}

function checkField(name, checked, text) {
  return h("div", { class: "field", dataset: { field: name } },
    h("label", { class: "check" }, h("input", { type: "checkbox", name, checked }), text),
    h("p", { class: "field-error", hidden: true }));
}

// ---- the page -----------------------------------------------------------------------------

export async function slaAdminView(root, ctx) {
  const { tab, tabs, body } = tabbed("/admin/sla", TABS, ctx.query);
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("slaadm.title") }),
    h("a", { href: "#/reports", class: "btn btn-ghost", text: t("nav.reports") })), tabs, body);
  const [doc, calendars] = await Promise.all([api.schema(), api.get(CAL).then((d) => d.items)]);
  if (!ctx.current()) return;
  if (tab === "calendars") calendarsTab(body, ctx, calendars);
  else if (tab === "policies") await policiesTab(body, ctx, doc, calendars);
  else previewTab(body, calendars);
}

// ---- calendars ----------------------------------------------------------------------------

function hoursSummary(cal) {
  if (cal.always_open) return h("span", { class: "chip", text: t("slaadm.always_open_short") });
  return h("ul", { class: "plain-list small" }, WEEKDAYS.filter((d) => (cal.hours[d] || []).length)
    .map((d) => h("li", {}, h("strong", { text: t(`slaadm.day.${d}`) }), " ", formatRanges(cal.hours[d]))));
}

function calendarsTab(body, ctx, calendars) {
  const box = messageBox("error");
  const slot = h("div", { class: "sla-form-slot" });
  const reload = () => ctx.navigate("/admin/sla", { tab: "calendars" });
  const open = (cal) => {
    slot.replaceChildren(calendarForm(cal, () => {
      ctx.flash(t(cal ? "slaadm.calendar_saved" : "slaadm.calendar_created"), "ok", true);
      reload();
    }, () => slot.replaceChildren()));
    slot.querySelector("input").focus();
  };
  const rows = calendars.map((cal) => h("tr", { dataset: { calendarId: cal.id } },
    td("slaadm.name", h("strong", { class: "cal-name", text: cal.name }), h("div", { class: "muted small mono", text: cal.id })),
    td("slaadm.tz", h("span", { class: "mono", text: cal.tz })),
    td("slaadm.hours", hoursSummary(cal)),
    td("slaadm.days_off", h("div", { class: "small" },
      cal.chinese_holidays ? h("div", { text: t("slaadm.chinese_holidays_short") }) : null,
      cal.holidays.length ? h("div", { text: t("slaadm.n_holidays", { n: cal.holidays.length }) }) : null,
      cal.workdays.length ? h("div", { text: t("slaadm.n_workdays", { n: cal.workdays.length }) }) : null,
      cal.closures.length ? h("div", { text: t("slaadm.n_closures", { n: cal.closures.length }) }) : null)),
    td("hooks.actions", h("div", { class: "row-actions" },
      actButton("edit", t("common.edit"), async () => open(cal), box),
      actButton("delete", t("common.delete"), async () => {
        if (!window.confirm(t("slaadm.delete_calendar_confirm", { name: cal.name }))) return;
        await api.request("DELETE", calPath(cal.id));
        ctx.flash(t("slaadm.calendar_deleted", { name: cal.name }), "ok", true);
        reload();
      }, box, DANGER)))));
  body.replaceChildren(
    h("div", { class: "page-head" }, h("p", { class: "muted", text: t("slaadm.calendars_intro") }),
      h("button", { type: "button", class: "btn btn-primary", id: "calendar-new", text: t("slaadm.new_calendar"), onClick: () => open(null) })),
    box, slot,
    calendars.length ? dataTable("calendar-table", ["slaadm.name", "slaadm.tz", "slaadm.hours", "slaadm.days_off", "hooks.actions"], rows)
      : h("div", { class: "card empty" }, h("p", { text: t("slaadm.no_calendars") })));
}

function closureRow(c = {}) {
  const row = h("div", { class: "closure-row" },
    h("input", { type: "datetime-local", name: "closure_start", value: localInput(c.start), "aria-label": t("slaadm.closure_start") }),
    h("input", { type: "datetime-local", name: "closure_end", value: localInput(c.end), "aria-label": t("slaadm.closure_end") }),
    h("input", { type: "text", name: "closure_reason", value: c.reason || "", maxLength: 200, placeholder: t("slaadm.closure_reason") }),
    h("button", { type: "button", class: "btn btn-small btn-ghost", text: t("common.remove"), onClick: () => row.remove() }));
  return row;
}

function calendarForm(cal, onDone, onCancel) {
  const box = messageBox("error");
  const name = h("input", { type: "text", name: "name", value: cal ? cal.name : "", maxLength: 100, required: true });
  const tz = h("input", { type: "text", name: "tz", value: cal ? cal.tz : "Asia/Shanghai", list: "tz-list", autocomplete: "off" });
  const hours = cal ? cal.hours : { mon: [["09:00", "18:00"]], tue: [["09:00", "18:00"]], wed: [["09:00", "18:00"]],
    thu: [["09:00", "18:00"]], fri: [["09:00", "18:00"]] };
  const dayInputs = WEEKDAYS.map((d) => h("input", { type: "text", name: `hours-${d}`, value: formatRanges(hours[d]),
    placeholder: "09:00-12:00, 13:00-18:00" }));
  const holidays = h("input", { type: "text", name: "holidays", value: cal ? cal.holidays.join(", ") : "", placeholder: "2026-01-01, 2026-05-01" });
  const workdays = h("input", { type: "text", name: "workdays", value: cal ? cal.workdays.join(", ") : "", placeholder: "2026-02-28" });
  const closures = h("div", { class: "closure-rows" }, (cal ? cal.closures : []).map(closureRow));
  const save = h("button", { type: "submit", class: "btn btn-primary", id: "calendar-save", text: t(cal ? "common.save" : "slaadm.create") });
  const form = h("form", { class: "card sla-form", id: cal ? "calendar-edit" : "calendar-create", novalidate: true },
    h("h2", { class: "h3", text: cal ? t("slaadm.edit_calendar", { name: cal.name }) : t("slaadm.new_calendar") }),
    box, zoneList(),
    h("div", { class: "grid" },
      field(t("slaadm.name"), name, { name: "name", required: true }),
      field(t("slaadm.tz"), tz, { name: "tz", hint: t("slaadm.tz_hint") }),
      h("div", { class: "stack" },
        checkField("always_open", cal ? cal.always_open : false, t("slaadm.always_open")),
        checkField("chinese_holidays", cal ? cal.chinese_holidays : true, t("slaadm.chinese_holidays")))),
    h("fieldset", { class: "field form-section", dataset: { field: "hours" } },
      h("legend", { text: t("slaadm.hours") }),
      h("p", { class: "field-hint", text: t("slaadm.hours_hint") }),
      h("div", { class: "grid grid-3" }, WEEKDAYS.map((d, i) => field(t(`slaadm.day.${d}`), dayInputs[i], { name: `hours.${d}` }))),
      h("p", { class: "field-error", hidden: true })),
    h("div", { class: "grid" },
      field(t("slaadm.holidays"), holidays, { name: "holidays", hint: t("slaadm.dates_hint") }),
      field(t("slaadm.workdays"), workdays, { name: "workdays", hint: t("slaadm.workdays_hint") })),
    h("fieldset", { class: "field form-section", dataset: { field: "closures" } },
      h("legend", { text: t("slaadm.closures") }),
      h("p", { class: "field-hint", text: t("slaadm.closures_hint") }),
      closures,
      h("div", {}, h("button", { type: "button", class: "btn btn-small", id: "closure-add", text: t("slaadm.add_closure"),
        onClick: () => closures.append(closureRow()) })),
      h("p", { class: "field-error", hidden: true })),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn btn-ghost", text: t("common.cancel"), onClick: onCancel }), save));
  onSubmit(form, box, save, async () => {
    const spec = {
      name: name.value.trim(), tz: tz.value.trim(),
      always_open: form.querySelector("input[name=always_open]").checked,
      chinese_holidays: form.querySelector("input[name=chinese_holidays]").checked,
      hours: Object.fromEntries(WEEKDAYS.map((d, i) => [d, parseRanges(dayInputs[i].value)]).filter(([, r]) => r.length)),
      holidays: splitList(holidays.value), workdays: splitList(workdays.value),
      closures: [...closures.querySelectorAll(".closure-row")].map((row) => {
        const c = { start: instant(row.querySelector("[name=closure_start]").value) || "",
          end: instant(row.querySelector("[name=closure_end]").value) || "" };
        const reason = row.querySelector("[name=closure_reason]").value.trim();
        return reason ? { ...c, reason } : c;
      }),
    };
    const out = cal ? await api.request("PATCH", calPath(cal.id), { body: spec }) : await api.post(CAL, spec);
    onDone(out);
  });
  return form;
}

// ---- policies -----------------------------------------------------------------------------

async function policiesTab(body, ctx, doc, calendars) {
  const [policies, companies] = await Promise.all([api.get(POL).then((d) => d.items),
    api.get("/admin/companies").then((d) => d.items).catch(() => [])]);
  if (!ctx.current()) return;
  const calName = Object.fromEntries(calendars.map((c) => [c.id, c.name]));
  const companyName = Object.fromEntries(companies.map((c) => [c.id, c.name]));
  const box = messageBox("error");
  const slot = h("div", { class: "sla-form-slot" });
  const reload = () => ctx.navigate("/admin/sla", { tab: "policies" });
  const open = (policy) => {
    slot.replaceChildren(policyForm(policy, { doc, calendars, companies }, () => {
      ctx.flash(t(policy ? "slaadm.policy_saved" : "slaadm.policy_created"), "ok", true);
      reload();
    }, () => slot.replaceChildren()));
    slot.querySelector("input").focus();
  };
  const any = (v, text) => (v ? text : h("span", { class: "muted", text: t("common.any") }));
  const rows = policies.map((p) => h("tr", { dataset: { policyId: p.id }, class: !p.active && "rule-off" },
    td("slaadm.name", h("strong", { class: "policy-name", text: p.name }), " ",
      p.active ? null : badge("rule", "off", t("slaadm.inactive")),
      h("div", { class: "muted small", text: t("slaadm.rank_n", { n: p.rank }) })),
    td("slaadm.matches", h("div", { class: "small" },
      h("div", {}, `${t("slaadm.company")}: `, any(p.company_id, companyName[p.company_id] || p.company_id)),
      h("div", {}, `${t("slaadm.ticket_type")}: `, any(p.ticket_type, label("type", p.ticket_type))),
      h("div", {}, `${t("slaadm.priority")}: `, any(p.priority, p.priority)))),
    td("slaadm.calendar", calName[p.calendar_id] || h("span", { class: "mono", text: p.calendar_id })),
    td("slaadm.targets", h("ul", { class: "plain-list small" }, TARGETS.filter((x) => p[`${x}_minutes`])
      .map((x) => h("li", { dataset: { target: x } }, `${t(`sla.target.${x}`)}: `, businessTime(p[`${x}_minutes`]))))),
    td("slaadm.escalation", h("div", { class: "small" }, label("slaadm.action", p.escalation.action),
      p.escalation.notify && p.escalation.notify.length
        ? h("div", { class: "muted", text: p.escalation.notify.map((r) => label("role", r)).join(", ") }) : null,
      p.escalation.team ? h("div", { class: "muted", text: p.escalation.team }) : null,
      h("div", { class: "muted", text: t("slaadm.warn_at", { n: Math.round(p.warn_share * 100) }) }))),
    td("hooks.actions", h("div", { class: "row-actions" },
      actButton("edit", t("common.edit"), async () => open(p), box),
      actButton("delete", t("common.delete"), async () => {
        if (!window.confirm(t("slaadm.delete_policy_confirm", { name: p.name }))) return;
        await api.request("DELETE", polPath(p.id));
        ctx.flash(t("slaadm.policy_deleted", { name: p.name }), "ok", true);
        reload();
      }, box, DANGER)))));
  body.replaceChildren(
    h("div", { class: "page-head" }, h("p", { class: "muted", text: t("slaadm.policies_intro") }),
      h("button", { type: "button", class: "btn btn-primary", id: "policy-new", text: t("slaadm.new_policy"),
        disabled: !calendars.length, onClick: () => open(null) })),
    box, slot,
    policies.length ? dataTable("policy-table", ["slaadm.name", "slaadm.matches", "slaadm.calendar", "slaadm.targets", "slaadm.escalation", "hooks.actions"], rows)
      : h("div", { class: "card empty" }, h("p", { text: t("slaadm.no_policies") })));
}

function policyForm(policy, { doc, calendars, companies }, onDone, onCancel) {
  const props = bodySchema(doc, `/api/v1${POL}`).properties;
  const esc = nested(doc, props.escalation).properties;
  const actions = (esc.action && esc.action.enum) || ["notify", "raise_priority", "handoff"];
  const notifyRoles = (esc.notify && esc.notify.items && esc.notify.items.enum) || [];
  const types = queryEnum(doc, "/api/v1/tickets", "type");
  const priorities = queryEnum(doc, "/api/v1/tickets", "priority");
  const p = policy || { warn_share: 0.8, rank: 100, active: true, escalation: { action: "notify", notify: ["provider_admin"] } };
  const box = messageBox("error");
  const name = h("input", { type: "text", name: "name", value: p.name || "", maxLength: 100, required: true });
  const company = select(companies.filter((c) => c.kind === "customer").map((c) => [c.id, c.name]),
    { name: "company_id", placeholder: t("common.any"), value: p.company_id || "" });
  if (p.company_id && company.value !== p.company_id) { // a company the list does not show
    company.append(h("option", { value: p.company_id, text: p.company_id }));
    company.value = p.company_id;
  }
  const type = select(types.map((v) => [v, label("type", v)]), { name: "ticket_type", placeholder: t("common.any"), value: p.ticket_type || "" });
  const priority = select(priorities.map((v) => [v, v]), { name: "priority", placeholder: t("common.any"), value: p.priority || "" });
  const calendar = select(calendars.map((c) => [c.id, c.name]), { name: "calendar_id", value: p.calendar_id || calendars[0].id });
  const minutes = Object.fromEntries(TARGETS.map((x) => [x, h("input", { type: "number", name: `${x}_minutes`,
    min: "0", step: "any", value: p[`${x}_minutes`] === null || p[`${x}_minutes`] === undefined ? "" : String(p[`${x}_minutes`]) })]));
  const warn = h("input", { type: "number", name: "warn_share", min: "0", max: "1", step: "0.05", value: String(p.warn_share) });
  const rank = h("input", { type: "number", name: "rank", step: "1", value: String(p.rank) });
  const action = select(actions.map((v) => [v, label("slaadm.action", v)]), { name: "escalation.action", value: p.escalation.action });
  const team = h("input", { type: "text", name: "escalation.team", value: p.escalation.team || "", maxLength: 100 });
  const notify = h("fieldset", { class: "field check-group", dataset: { field: "escalation.notify" } },
    h("legend", { text: t("slaadm.notify") }),
    notifyRoles.map((r) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "notify", value: r, checked: (p.escalation.notify || []).includes(r) }), label("role", r))),
    h("p", { class: "field-error", hidden: true }));
  const from = h("input", { type: "date", name: "created_from" });
  const to = h("input", { type: "date", name: "created_to" });
  const save = h("button", { type: "submit", class: "btn btn-primary", id: "policy-save", text: t(policy ? "common.save" : "slaadm.create") });
  const dry = h("button", { type: "button", class: "btn", id: "policy-dry-run", text: t("slaadm.dry_run") });
  const result = h("div", { class: "dry-run-result", id: "dry-run-result", "aria-live": "polite" });
  const form = h("form", { class: "card sla-form", id: policy ? "policy-edit" : "policy-create", novalidate: true },
    h("h2", { class: "h3", text: policy ? t("slaadm.edit_policy", { name: policy.name }) : t("slaadm.new_policy") }),
    box,
    h("div", { class: "grid" },
      field(t("slaadm.name"), name, { name: "name", required: true }),
      field(t("slaadm.calendar"), calendar, { name: "calendar_id", required: true }),
      field(t("slaadm.rank"), rank, { name: "rank", hint: t("slaadm.rank_hint") }),
      checkField("active", p.active, t("slaadm.active"))),
    h("fieldset", { class: "form-section" }, h("legend", { text: t("slaadm.matches") }),
      h("p", { class: "field-hint", text: t("slaadm.matches_hint") }),
      h("div", { class: "grid" },
        field(t("slaadm.company"), company, { name: "company_id" }),
        field(t("slaadm.ticket_type"), type, { name: "ticket_type" }),
        field(t("slaadm.priority"), priority, { name: "priority" }))),
    h("fieldset", { class: "form-section" }, h("legend", { text: t("slaadm.targets") }),
      h("p", { class: "field-hint", text: t("slaadm.targets_hint") }),
      h("div", { class: "grid" },
        TARGETS.map((x) => field(t(`sla.target.${x}`), minutes[x], { name: `${x}_minutes` })),
        field(t("slaadm.warn_share"), warn, { name: "warn_share", hint: t("slaadm.warn_share_hint") }))),
    h("fieldset", { class: "form-section" }, h("legend", { text: t("slaadm.escalation") }),
      h("div", { class: "grid" },
        field(t("slaadm.escalation_action"), action, { name: "escalation.action" }),
        notify,
        field(t("slaadm.team"), team, { name: "escalation.team", hint: t("slaadm.team_hint") }))),
    h("fieldset", { class: "form-section" }, h("legend", { text: t("slaadm.dry_run") }),
      h("p", { class: "field-hint", text: t("slaadm.dry_run_hint") }),
      h("div", { class: "grid" },
        field(t("slaadm.created_from"), from, { name: "created_from" }),
        field(t("slaadm.created_to"), to, { name: "created_to" }))),
    result,
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn btn-ghost", text: t("common.cancel"), onClick: onCancel }), dry, save));
  const values = () => {
    const escalation = { action: action.value,
      notify: [...notify.querySelectorAll("input:checked")].map((x) => x.value) };
    if (team.value.trim()) escalation.team = team.value.trim();
    return {
      name: name.value.trim(), company_id: company.value || null, ticket_type: type.value || null,
      priority: priority.value || null, calendar_id: calendar.value,
      ...Object.fromEntries(TARGETS.map((x) => [`${x}_minutes`, number(minutes[x].value)])),
      warn_share: number(warn.value), rank: number(rank.value),
      active: form.querySelector("input[name=active]").checked, escalation,
    };
  };
  onSubmit(form, box, save, async () => {
    const out = policy ? await api.request("PATCH", polPath(policy.id), { body: values() }) : await api.post(POL, values());
    onDone(out);
  });
  dry.addEventListener("click", async () => {
    clearErrors(form, box);
    result.replaceChildren();
    busy(dry, true, t("slaadm.dry_running"));
    try {
      const out = await api.post("/admin/sla/dry-run", { policy_id: policy ? policy.id : undefined, changes: values(),
        created_from: instant(from.value), created_to: instant(to.value) });
      result.replaceChildren(dryRunResult(out));
    } catch (err) { showErrors(form, box, err); } finally { busy(dry, false); }
  });
  return form;
}

function dryRunResult(out) {
  const facts = [["tickets", out.tickets], ["clocks", out.clocks], ["breached_now", out.breached_now],
    ["breached_then", out.breached_then], ["newly_breached", out.newly_breached], ["no_longer_breached", out.no_longer_breached]];
  const yes = (v) => (v ? badge("sla", "breached", t("slaadm.breached")) : h("span", { class: "muted", text: t("slaadm.in_time") }));
  return h("div", { class: "msg msg-warn dry-run" },
    h("dl", { class: "facts facts-inline", id: "dry-run-facts" }, facts.map(([k, v]) => h("div", { dataset: { fact: k } },
      h("dt", { text: t(`slaadm.dry.${k}`) }), h("dd", { text: String(v) })))),
    out.items.length ? dataTable("dry-run-table", ["slaadm.dry.ticket", "sla.col.target", "slaadm.dry.now", "slaadm.dry.then", "slaadm.dry.breached_at"],
      out.items.map((row) => h("tr", { dataset: { ticketId: row.ticket_id, target: row.target } },
        td("slaadm.dry.ticket", h("a", { href: `#/tickets/${encodeURIComponent(row.ticket_id)}`, text: row.number || row.ticket_id.slice(0, 8) })),
        td("sla.col.target", t(`sla.target.${row.target}`)),
        td("slaadm.dry.now", yes(row.breached_now)),
        td("slaadm.dry.then", yes(row.breached_then)),
        td("slaadm.dry.breached_at", row.breached_at ? fmtTime(row.breached_at) : t("common.none")))))
      : h("p", { text: t("slaadm.dry.none") }));
}

// ---- preview ------------------------------------------------------------------------------

function previewTab(body, calendars) {
  const box = messageBox("error");
  const calendar = select(calendars.map((c) => [c.id, c.name]), { name: "calendar_id" });
  const start = h("input", { type: "datetime-local", name: "start", value: localInput(new Date().toISOString()) });
  const minutes = h("input", { type: "number", name: "minutes", min: "0", step: "any", value: "240" });
  const run = h("button", { type: "submit", class: "btn btn-primary", id: "preview-run", text: t("slaadm.preview_run") });
  const out = h("div", { id: "preview-result", "aria-live": "polite" });
  const form = h("form", { class: "card sla-form", id: "preview-form", novalidate: true },
    h("p", { class: "muted", text: t("slaadm.preview_intro") }), box,
    h("div", { class: "grid" },
      field(t("slaadm.calendar"), calendar, { name: "calendar_id", required: true }),
      field(t("slaadm.start"), start, { name: "start", required: true, hint: t("slaadm.start_hint") }),
      field(t("slaadm.business_minutes"), minutes, { name: "minutes", required: true })),
    h("div", { class: "form-actions" }, run), out);
  onSubmit(form, box, run, async () => {
    out.replaceChildren();
    const r = await api.post("/sla/preview", { calendar_id: calendar.value, start: instant(start.value) || "",
      minutes: number(minutes.value) });
    out.replaceChildren(h("dl", { class: "facts" },
      h("div", {}, h("dt", { text: t("slaadm.due_at") }), h("dd", { id: "preview-due", text: fmtTime(r.due_at) })),
      h("div", {}, h("dt", { text: t("slaadm.due_at_local", { tz: r.tz }) }), h("dd", { id: "preview-due-local", class: "mono", text: r.due_at_local }))));
  });
  body.replaceChildren(calendars.length ? form : h("div", { class: "card empty" }, h("p", { text: t("slaadm.no_calendars") })));
}
