// A ticket's SLA clocks (GET /tickets/{id}/sla): each target with its due time, what is left
// in business minutes, and whether it is paused, met or breached. Loaded after the ticket, so
// the page does not wait for sla; when sla has no clock for the ticket the card says so.
import { h } from "../dom.js";
import { t, fmtTime } from "../i18n.js";
import * as api from "../api.js";

function minutes(value) {
  if (value === null || value === undefined) return t("common.none");
  if (value < 1) return t("sla.seconds", { n: Math.round(value * 60) });
  if (value < 120) return t("sla.minutes", { n: Math.round(value) });
  return t("sla.hours", { n: (value / 60).toFixed(1) });
}

function stateText(clock) {
  if (clock.breached) return t("sla.state.breached");
  return t(`sla.state.${clock.state}`);
}

// Three columns fit the narrow side card: the state goes under the target's name, with the
// update clock's cycle (it restarts with every public staff reply).
function targetCell(clock) {
  const cycle = clock.cycle_started_at ? h("small", { class: "muted", text: ` · ${t("sla.cycle", { n: clock.cycle })}`,
    title: t("sla.cycle_since", { since: fmtTime(clock.cycle_started_at) }) }) : null;
  return h("th", { scope: "row" }, t(`sla.target.${clock.target}`), h("br"),
    h("small", { class: "sla-state", text: stateText(clock) }), cycle);
}

// a due time wraps, if it must, between its date and its time, never inside the date
function timeEl(iso) {
  const text = fmtTime(iso);
  const cut = text.lastIndexOf(" ");
  return h("time", { datetime: iso }, h("span", { text: text.slice(0, cut) }), " ", h("span", { text: text.slice(cut + 1) }));
}

function row(clock) {
  const cls = clock.breached ? "sla-breached" : clock.state === "paused" ? "sla-paused" : "";
  return h("tr", { class: cls, dataset: { target: clock.target } },
    targetCell(clock),
    h("td", {}, clock.due_at ? timeEl(clock.due_at) : clock.met_at ? timeEl(clock.met_at) : t("common.none")),
    h("td", { text: clock.met ? t("common.none") : minutes(clock.remaining_minutes) }));
}

export function slaCard(tk) {
  const body = h("div", { class: "sla-body muted", text: t("sla.loading") });
  const card = h("section", { class: "card sla-card", "aria-live": "polite" },
    h("h2", { text: t("sla.title") }), body);
  api.get(`/tickets/${encodeURIComponent(tk.id)}/sla`).then((sla) => {
    body.className = "sla-body";
    body.replaceChildren(h("table", { class: "sla-table" },
      h("thead", {}, h("tr", {},
        [`${t("sla.col.target")} / ${t("sla.col.state")}`, t("sla.col.due"), t("sla.col.left")]
          .map((text) => h("th", { scope: "col", text })))),
      h("tbody", {}, sla.clocks.map(row))));
  }).catch((err) => {
    body.textContent = err && err.status === 404 ? t("sla.none") : t("sla.unavailable");
  });
  return card;
}
