// My notification preferences (#/me/preferences), for every signed-in person: the language
// of my messages, which channels each kind of message uses (or "as the rule says"), and quiet
// hours in a time zone; a customer company admin also the daily digest. The choices (kinds, channels) come from GET /me/preferences itself;
// what the server refuses is shown under the field it names, in the UI's language.
import { h, field, select, messageBox, showErrors, clearErrors, busy } from "../dom.js";
import { t, label, fmtTime } from "../i18n.js";
import * as api from "../api.js";
import { imBindingsSection } from "./im.js";

// the kinds of message a customer normally receives; the others are folded away for them
const CUSTOMER_KINDS = ["accepted", "reply", "needs_info", "resolved", "closed"];
const CUSTOMER_ROLES = ["customer", "customer_admin"];

function timeZones() {
  try { return Intl.supportedValuesOf("timeZone"); } catch (e) { return ["Asia/Shanghai", "UTC"]; }
}

/** One row per kind: "as the rule says", or exactly the ticked channels (none = muted). */
function kindRow(kind, chosen, channels) {
  const custom = Array.isArray(chosen);
  const own = h("input", { type: "checkbox", name: `custom-${kind}`, checked: custom,
    "aria-label": t("prefs.custom_for", { kind: label("notifykind", kind) }) });
  const boxes = channels.map((c) => h("input", { type: "checkbox", value: c, disabled: !custom,
    checked: custom && chosen.includes(c), dataset: { channel: c },
    "aria-label": `${label("notifykind", kind)}: ${label("channel", c)}` }));
  own.addEventListener("change", () => boxes.forEach((b) => { b.disabled = !own.checked; }));
  const err = h("p", { class: "field-error", hidden: true });
  // showErrors() puts the API's message for channels.<kind>.value into this row
  const row = h("tr", { dataset: { kind, field: `channels.${kind}.value` } },
    h("th", { scope: "row", text: label("notifykind", kind) }),
    h("td", {}, h("label", { class: "check" }, own, t("prefs.custom"))),
    ...boxes.map((b, i) => h("td", { class: "c-check", dataset: { label: label("channel", channels[i]) } }, b)),
    h("td", { class: "c-err" }, err));
  return { row, value: () => (own.checked ? boxes.filter((b) => b.checked).map((b) => b.value) : undefined) };
}

export async function preferencesView(root, ctx) {
  const prefs = await api.get("/me/preferences");
  if (!ctx.current()) return;
  const channels = prefs.available_channels;
  const language = select([["zh", "中文"], ["en", "English"]],
    { name: "language", value: prefs.language || "", placeholder: t("prefs.language_account") });
  const quietStart = h("input", { type: "time", name: "quiet_start", value: prefs.quiet_start || "" });
  const quietEnd = h("input", { type: "time", name: "quiet_end", value: prefs.quiet_end || "" });
  const zones = h("datalist", { id: "tz-list" }, timeZones().map((z) => h("option", { value: z })));
  const timezone = h("input", { type: "text", name: "timezone", value: prefs.timezone || "",
    placeholder: "Asia/Shanghai", list: "tz-list", maxLength: 64, autocomplete: "off" });
  const rows = prefs.kinds.map((k) => [k, kindRow(k, prefs.channels[k], channels)]);
  const folded = CUSTOMER_ROLES.includes(ctx.user.role);
  const head = () => h("thead", {}, h("tr", {},
    h("th", { scope: "col", text: t("prefs.col.kind") }),
    h("th", { scope: "col", text: t("prefs.col.custom") }),
    channels.map((c) => h("th", { scope: "col", text: label("channel", c) })),
    h("th", { scope: "col" })));
  const table = (list) => h("div", { class: "table-wrap" }, h("table", { class: "prefs-table" },
    head(), h("tbody", {}, list.map(([, r]) => r.row))));
  const mine = rows.filter(([k]) => !folded || CUSTOMER_KINDS.includes(k) || Array.isArray(prefs.channels[k]));
  const others = rows.filter((r) => !mine.includes(r));
  // the daily digest: customer company admins only (the API refuses it for anyone else)
  const digest = prefs.digest || {};
  const digestOn = h("input", { type: "checkbox", name: "digest_enabled", id: "digest-enabled",
    checked: !!digest.enabled });
  const digestTime = h("input", { type: "time", name: "digest_time", id: "digest-time",
    value: digest.time || "08:00" });
  const digestSection = ctx.user.role === "customer_admin" ? h("fieldset",
    { class: "card form-section", id: "digest-section" }, h("legend", { text: t("prefs.digest") }),
    h("p", { class: "muted", text: t("prefs.digest_hint") }),
    h("label", { class: "check" }, digestOn, " ", t("prefs.digest_enabled")),
    field(t("prefs.digest_time"), digestTime, { name: "digest" }),
    digest.enabled && digest.next_at ? h("p", { class: "muted", id: "digest-next",
      text: t("prefs.digest_next", { at: fmtTime(digest.next_at) }) }) : null) : null;
  const box = messageBox("error");
  const save = h("button", { type: "submit", class: "btn btn-primary", id: "prefs-save", text: t("common.save") });
  const form = h("form", { class: "stack", id: "prefs-form", novalidate: true },
    box,
    h("div", { class: "card form-section" },
      field(t("prefs.language"), language, { name: "language", hint: t("prefs.language_hint") })),
    h("fieldset", { class: "card form-section" }, h("legend", { text: t("prefs.channels") }),
      h("p", { class: "muted", text: t("prefs.channels_hint") }),
      table(mine),
      others.length ? h("details", { class: "prefs-more" },
        h("summary", { text: t("prefs.more_kinds") }), table(others)) : null),
    h("fieldset", { class: "card form-section" }, h("legend", { text: t("prefs.quiet") }),
      h("p", { class: "muted", text: t("prefs.quiet_hint") }),
      h("div", { class: "grid grid-3" },
        field(t("prefs.quiet_start"), quietStart, { name: "quiet_start" }),
        field(t("prefs.quiet_end"), quietEnd, { name: "quiet_end" }),
        field(t("prefs.timezone"), timezone, { name: "timezone", hint: t("prefs.timezone_hint") })),
      zones),
    digestSection,
    h("div", { class: "form-actions" }, save));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    const chosen = {};
    for (const [k, r] of rows) {
      const v = r.value();
      if (v !== undefined) chosen[k] = v;
    }
    busy(save, true, t("common.saving"));
    try {
      await api.request("PUT", "/me/preferences", { body: {
        language: language.value || null, channels: chosen,
        quiet_start: quietStart.value || null, quiet_end: quietEnd.value || null,
        timezone: timezone.value.trim() || null,
        ...(digestSection ? { digest: digestOn.checked
          ? { enabled: true, time: digestTime.value || "08:00" } : null } : {}) } });
      ctx.flash(t("prefs.saved"));
      ctx.navigate("/me/preferences");
    } catch (err) {
      busy(save, false);
      showErrors(form, box, err);
    }
  });
  root.classList.add("page-medium");
  root.append(h("div", { class: "page-head" }, h("h1", { text: t("prefs.title") }),
    h("a", { href: "#/notifications", class: "btn btn-ghost", text: t("inbox.title") })), form,
    imBindingsSection(ctx));
}
