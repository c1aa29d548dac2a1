// The shell: top bar, hash router (#/tickets, #/tickets/new, #/tickets/<id>, #/admin/users,
// #/kb, #/kb/suggestions, #/kb/dictionary, #/notifications, #/me/preferences, #/webhooks, #/admin/notifications, #/offers,
// #/follow-ups, #/admin/routing-rules, #/engineers, #/admin/sla, #/admin/mail, #/reports, #/robots, #/canned,
// #/dashboard, #/exports, #/leftovers, #/login, #/register, #/forgot, #/reset/<token>) and short notices.
import { h, icon, messageBox, showMessage } from "./dom.js";
import { t, getLang, setLang, onLangChange, LANGS, label } from "./i18n.js";
import * as api from "./api.js";
import { loginView, registerView } from "./views/auth.js";
import { forgotView, resetView } from "./views/recovery.js";
import { listView } from "./views/list.js";
import { newTicketView } from "./views/new-ticket.js";
import { detailView } from "./views/detail.js";
import { adminView } from "./views/admin.js";
import { kbSearchView, kbArticleView, kbSuggestionsView } from "./views/kb.js";
import { kbDictionaryView } from "./views/kb-dictionary.js";
import { inboxView, bell } from "./views/inbox.js";
import { preferencesView } from "./views/preferences.js";
import { webhooksView, webhookView } from "./views/webhooks.js";
import { notifyAdminView } from "./views/notify-admin.js";
import { offersView, followUpsView, routingRulesView } from "./views/dispatch.js";
import { engineersView } from "./views/engineers.js";
import { slaAdminView } from "./views/sla-admin.js";
import { reportsView } from "./views/reports.js";
import { dashboardView, DASHBOARD_HOME_ROLES } from "./views/dashboard.js";
import { exportsView } from "./views/exports.js";
import { mailAdminView } from "./views/mail-admin.js";
import { robotsView, ROBOT_ROLES } from "./views/im.js";
import { leftoversView } from "./views/leftovers.js";
import { cannedView } from "./views/canned.js";
import { navMenu } from "./views/nav-menu.js";
import "./date-fields.js"; // every date input as yyyy-mm-dd text in the page language
import { canCreate, isStaff, CREATOR_ROLES, WEBHOOK_ROLES, DESK_ROLES, OFFER_ROLES, REGISTRY_ROLES,
  STAFF_ROLES } from "./model.js";

const ROUTES = [
  { re: /^\/login$/, view: loginView, public: true },
  { re: /^\/register$/, view: registerView, public: true },
  { re: /^\/forgot$/, view: forgotView, public: true },
  // a reset link works whoever is signed in on this browser
  { re: /^\/reset\/([A-Za-z0-9_-]{20,128})$/, view: resetView, public: true, anyone: true },
  { re: /^\/tickets$/, view: listView, nav: "tickets" },
  { re: /^\/tickets\/new$/, view: newTicketView, nav: "new", roles: CREATOR_ROLES },
  { re: /^\/tickets\/([^/]+)$/, view: detailView, nav: "tickets" },
  { re: /^\/admin\/users$/, view: adminView, nav: "admin", roles: ["admin"] },
  { re: /^\/kb$/, view: kbSearchView, nav: "kb" },
  { re: /^\/kb\/suggestions$/, view: kbSuggestionsView, nav: "kb", roles: STAFF_ROLES },
  { re: /^\/kb\/dictionary$/, view: kbDictionaryView, nav: "kb", roles: STAFF_ROLES },
  { re: /^\/kb\/([^/]+)$/, view: kbArticleView, nav: "kb" },
  { re: /^\/notifications$/, view: inboxView, nav: "notifications" },
  { re: /^\/me\/preferences$/, view: preferencesView, nav: "prefs" },
  { re: /^\/webhooks$/, view: webhooksView, nav: "webhooks", roles: WEBHOOK_ROLES },
  { re: /^\/webhooks\/([^/]+)$/, view: webhookView, nav: "webhooks", roles: WEBHOOK_ROLES },
  { re: /^\/admin\/notifications$/, view: notifyAdminView, nav: "notify-admin", roles: ["admin"] },
  { re: /^\/offers$/, view: offersView, nav: "offers", roles: OFFER_ROLES },
  { re: /^\/follow-ups$/, view: followUpsView, nav: "follow-ups", roles: DESK_ROLES },
  { re: /^\/admin\/routing-rules$/, view: routingRulesView, nav: "routing-rules", roles: ["admin"] },
  { re: /^\/engineers$/, view: engineersView, nav: "engineers", roles: REGISTRY_ROLES },
  { re: /^\/admin\/sla$/, view: slaAdminView, nav: "sla-admin", roles: ["admin"] },
  { re: /^\/admin\/mail$/, view: mailAdminView, nav: "mail-admin", roles: ["admin"] },
  { re: /^\/reports$/, view: reportsView, nav: "reports", roles: STAFF_ROLES },
  { re: /^\/dashboard$/, view: dashboardView, nav: "dashboard", roles: STAFF_ROLES },
  { re: /^\/exports$/, view: exportsView, nav: "exports" },
  { re: /^\/robots$/, view: robotsView, nav: "robots", roles: ROBOT_ROLES },
  { re: /^\/leftovers$/, view: leftoversView, nav: "leftovers" },
  { re: /^\/canned$/, view: cannedView, nav: "canned", roles: STAFF_ROLES },
];

const topbar = document.getElementById("topbar");
const main = document.getElementById("main");
const notice = document.getElementById("notice");
let pendingNotice = null;
let noticeTimer = null;

// the home page: the dashboard for the desk and provider admins, the ticket list for others
const home = () => (DASHBOARD_HOME_ROLES.includes((api.currentUser() || {}).role) ? "/dashboard" : "/tickets");

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = raw.split("?");
  return { raw, path: path && path !== "/" ? path : home(), query: new URLSearchParams(qs || "") };
}

export function navigate(path, query) {
  const qs = query ? new URLSearchParams(
    Object.entries(query).filter(([, v]) => v !== "" && v !== null && v !== undefined),
  ).toString() : "";
  const target = `#${path}${qs ? `?${qs}` : ""}`;
  if (location.hash === target) render();
  else location.hash = target;
}

/** A short notice under the top bar; kind "ok" or "error". Survives one navigation. */
export function flash(text, kind = "ok", afterNavigation = false) {
  if (afterNavigation) { pendingNotice = { text, kind }; return; }
  clearTimeout(noticeTimer);
  notice.className = `notice notice-${kind}`;
  notice.textContent = text;
  notice.hidden = false;
  noticeTimer = setTimeout(() => { notice.hidden = true; }, kind === "error" ? 8000 : 4000);
}

function renderTopbar(active) {
  const user = api.currentUser();
  const langSelect = h("select", {
    id: "lang-switch", class: "lang-switch", "aria-label": t("lang.label"),
    onChange: (e) => setLang(e.target.value),
  }, LANGS.map(([v, text]) => h("option", { value: v, text, selected: v === getLang() })));
  const brand = h("a", { class: "brand", href: user ? `#${home()}` : "#/login" },
    h("img", { src: "/web/icon.svg", alt: "", width: "22", height: "22" }),
    h("span", { text: t("app.name") }));
  let nav = null;
  let who = null;
  if (user) {
    const link = (key, href, name) => h("a", {
      href, class: ["nav-link", active === name && "active"],
      "aria-current": active === name ? "page" : null, text: t(key),
    });
    // an administrator's settings pages sit under one "管理 / Admin" drop-down, so that the
    // menu fits one row at 1280 px in English too; other roles keep theirs as links
    const admin = user.role === "admin";
    const engineers = REGISTRY_ROLES.includes(user.role) ? link("nav.engineers", "#/engineers", "engineers") : null;
    const webhooks = WEBHOOK_ROLES.includes(user.role) ? link("nav.webhooks", "#/webhooks", "webhooks") : null;
    const robots = ROBOT_ROLES.includes(user.role) ? link("nav.robots", "#/robots", "robots") : null;
    nav = h("nav", { class: "nav", "aria-label": t("nav.main") },
      ["agent", "provider_admin"].includes(user.role) ? link("nav.dashboard", "#/dashboard", "dashboard") : null,
      link("nav.tickets", "#/tickets", "tickets"),
      canCreate(user) ? link("nav.new", "#/tickets/new", "new") : null,
      link("nav.kb", "#/kb", "kb"),
      OFFER_ROLES.includes(user.role) ? link("nav.offers", "#/offers", "offers") : null,
      DESK_ROLES.includes(user.role) ? link("nav.follow_ups", "#/follow-ups", "follow-ups") : null,
      user.role !== "system" ? link("nav.leftovers", "#/leftovers", "leftovers") : null,
      admin ? null : engineers,
      isStaff(user) ? link("nav.reports", "#/reports", "reports") : null,
      admin ? null : webhooks,
      admin ? null : robots,
      admin ? navMenu(t("nav.manage"), [
        link("nav.admin", "#/admin/users", "admin"),
        link("nav.routing_rules", "#/admin/routing-rules", "routing-rules"),
        link("nav.notify_admin", "#/admin/notifications", "notify-admin"),
        link("nav.sla_admin", "#/admin/sla", "sla-admin"),
        link("nav.mail_admin", "#/admin/mail", "mail-admin"),
        engineers, webhooks, robots], { id: "admin-menu" }) : null);
    who = h("div", { class: "who" },
      user.role !== "system" ? bell() : null,
      // exports as an icon beside the bell: one more word would push the menu past 1280 px
      user.role !== "system" ? h("a", { href: "#/exports", id: "exports-link", title: t("nav.exports"),
        "aria-label": t("nav.exports"), class: ["prefs-link", active === "exports" && "active"] }, icon("download")) : null,
      user.role !== "system" ? h("a", { href: "#/me/preferences", id: "prefs-link", title: t("nav.prefs"),
        "aria-label": t("nav.prefs"), class: ["prefs-link", active === "prefs" && "active"] }, icon("settings")) : null,
      h("span", { class: "who-name", text: user.name || "" }),
      h("span", { class: "who-role", text: label("role", user.role) }),
      h("button", { type: "button", class: "btn btn-ghost btn-small", id: "logout", text: t("nav.logout"),
        onClick: async () => { await api.logout(); navigate("/login"); } }));
  }
  topbar.replaceChildren(h("div", { class: "topbar-inner" },
    brand, nav, h("div", { class: "topbar-right" }, langSelect, who)));
}

let renderSeq = 0;

export async function render() {
  const seq = ++renderSeq;
  const { raw, path, query } = parseHash();
  if (raw === "/" && api.signedIn()) { location.replace(`#${home()}`); return; }  // the role's home
  const route = ROUTES.find((r) => r.re.test(path));
  const user = api.currentUser();
  document.title = t("app.title");
  if (route && !route.public && !api.signedIn()) {
    navigate("/login", { next: raw });
    return;
  }
  if (route && route.public && !route.anyone && api.signedIn()) {
    navigate(home());
    return;
  }
  renderTopbar(route && route.nav);
  const view = h("div", { class: "view" });
  main.replaceChildren(view);
  main.classList.toggle("main-narrow", Boolean(route && route.public));
  if (pendingNotice) { flash(pendingNotice.text, pendingNotice.kind); pendingNotice = null; }
  if (!route || (route.roles && !route.roles.includes(user.role))) {
    view.append(h("div", { class: "card empty" },
      h("p", { text: t(route ? "error.forbidden_page" : "error.not_found_page") }),
      h("a", { href: "#/tickets", class: "btn", text: t("detail.back") })));
    return;
  }
  const params = path.match(route.re).slice(1).map(decodeURIComponent);
  const ctx = { params, query, user, navigate, flash, current: () => seq === renderSeq };
  try {
    await route.view(view, ctx);
  } catch (err) {
    if (seq !== renderSeq) return;
    const box = messageBox("error");
    showMessage(box, err.message || String(err));
    view.replaceChildren(box);
  }
}

window.addEventListener("hashchange", render);
window.addEventListener("gongdan:signedout", (e) => {
  flash((e.detail && e.detail.message) || t("error.signed_out"), "error", true);
  navigate("/login", { next: parseHash().raw });
});
onLangChange(() => render());
render();
