// A drop-down of links in the top bar (the administrator's pages under one "管理 / Admin"
// entry): the main menu then fits one row at 1280 px in either language, and at phone width
// it sits in the sideways-scrolling menu like any link. The panel is positioned fixed under
// its button, because the menu row scrolls (overflow) and would clip it otherwise.
import { h, icon } from "../dom.js";

let openMenu = null;

function close(menu, focusButton = false) {
  if (!menu) return;
  menu.panel.hidden = true;
  menu.button.setAttribute("aria-expanded", "false");
  if (focusButton) menu.button.focus();
  if (openMenu === menu) openMenu = null;
}

function place(menu) {
  const r = menu.button.getBoundingClientRect();
  const width = menu.panel.offsetWidth;
  const left = Math.max(8, Math.min(r.left, window.innerWidth - width - 8));
  menu.panel.style.top = `${Math.round(r.bottom + 4)}px`;
  menu.panel.style.left = `${Math.round(left)}px`;
}

document.addEventListener("click", (e) => {
  if (openMenu && !openMenu.root.contains(e.target) && !openMenu.panel.contains(e.target)) close(openMenu);
});
document.addEventListener("keydown", (e) => { if (e.key === "Escape" && openMenu) close(openMenu, true); });
window.addEventListener("resize", () => close(openMenu));
window.addEventListener("hashchange", () => close(openMenu));
// the menu row scrolls sideways on a phone: the panel follows its button (scroll events do not
// bubble, so they are caught on the way down)
document.addEventListener("scroll", (e) => { if (openMenu && !openMenu.panel.contains(e.target)) place(openMenu); }, true);

/**
 * navMenu(text, links, {active, id}) -> element; links: [a.nav-link, ...] (nulls skipped).
 * Returns null when no link is left. The button is marked active when one of its links is.
 */
export function navMenu(text, links, { id } = {}) {
  const items = links.filter(Boolean);
  if (!items.length) return null;
  const active = items.some((a) => a.classList.contains("active"));
  const panelId = `${id || "nav-menu"}-panel`;
  const button = h("button", { type: "button", class: ["nav-link", "nav-menu-button", active && "active"],
    id: `${id || "nav-menu"}-button`, "aria-haspopup": "true", "aria-expanded": "false", "aria-controls": panelId },
  h("span", { text }), icon("chevron", 14));
  const panel = h("div", { class: "nav-menu-panel", id: panelId, hidden: true },
    items.map((a) => { a.classList.add("nav-menu-item"); return a; }));
  const root = h("div", { class: "nav-menu", id }, button, panel);
  const menu = { root, button, panel };
  button.addEventListener("click", () => {
    if (!panel.hidden) { close(menu); return; }
    close(openMenu);
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    place(menu);
    openMenu = menu;
  });
  panel.addEventListener("keydown", (e) => { // arrow keys move between the items
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    const i = items.indexOf(document.activeElement);
    const next = items[(i + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length];
    next.focus();
  });
  button.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { e.preventDefault(); if (panel.hidden) button.click(); items[0].focus(); }
  });
  panel.addEventListener("click", (e) => { if (e.target.closest("a")) close(menu); });
  return root;
}
