"""A walk through every page of the web client in Chinese and English, at desktop (1280 px) and
phone (390 px) width, each as a role that may open it: nothing wider than the screen
(document.scrollingElement.scrollWidth <= innerWidth), the top menu not cut off at desktop
width, no i18n key shown instead of its text
(every "group.name" word on the page checked against the dictionaries of gateway/web/js/i18n.js),
no snake_case API value shown as plain text instead of its label, no "null" / "undefined"
written for an absent value, no day/month or month/day date, no uncaught script error (the open_page fixture).

Screenshots: /tmp/gongdan-walk-<route>-<lang>-<width>.png (look at them after a UI change).
"""
import re

import pytest
from playwright.sync_api import expect

from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.web import needs_chromium, sign_in

pytestmark = [pytest.mark.integration, needs_chromium]

LOCALES = {"zh": "zh-CN", "en": "en-US"}
WIDTHS = (1280, 390)
SLASHED = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")

# route -> who opens it ("{ticket}" and "{article}" filled in below)
CUSTOMER_ROUTES = ["/tickets", "/tickets/new", "/tickets/{ticket}", "/kb", "/kb/{article}",
                   "/notifications", "/me/preferences", "/leftovers"]
AGENT_ROUTES = ["/tickets", "/tickets/{ticket}", "/kb/{article}", "/kb/suggestions",
                "/kb/dictionary", "/offers", "/follow-ups", "/reports", "/dashboard", "/leftovers"]
ADMIN_ROUTES = ["/admin/users", "/admin/routing-rules", "/admin/notifications", "/admin/sla",
                "/admin/mail", "/webhooks", "/engineers", "/robots"]
PUBLIC_ROUTES = ["/login", "/register", "/forgot"]

PAGE_STATE = """() => {
    const text = document.body.innerText;
    const words = text.match(/\\b[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+\\b/g) || [];
    const nav = document.querySelector('nav.nav');
    return { scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth,
             navCut: nav && window.innerWidth > 760 ? nav.scrollWidth - nav.clientWidth : 0,
             keys: [...new Set(words)].filter((w) => window.__i18nKeys.has(w)),
             codes: (() => {  // snake_case words outside code-styled text: an API value unlabelled
                 const out = new Set();
                 const w = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
                 for (let n = w.nextNode(); n; n = w.nextNode()) {
                     const s = n.data.trim();
                     if (/^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(s) && n.parentElement.offsetParent !== null
                         && !n.parentElement.closest('.mono, code, pre')) out.add(s);
                 }
                 return [...out];
             })(),
             absent: text.match(/\b(null|undefined|NaN)\b|\\[object Object\\]/g) || [],
             slashed: text.match(/\\b\\d{1,2}\\/\\d{1,2}\\/\\d{2,4}\\b/g) || [],
             wide: [...document.querySelectorAll('main *')].filter((el) => {
                 const r = el.getBoundingClientRect();
                 return r.width > 0 && r.right > window.innerWidth + 1 && !el.closest('.table-wrap, .tabs, pre');
             }).slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                                + (el.className && el.className.baseVal === undefined ? '.' + el.className : '')) };
}"""


def _load_keys(page):
    page.evaluate("""async () => {
        const m = await import('/web/js/i18n.js');
        window.__i18nKeys = new Set([...Object.keys(m.DICT.zh), ...Object.keys(m.DICT.en)]);
    }""")


def _slug(route):
    return re.sub(r"[^a-z0-9]+", "-", route.strip("/").lower()).strip("-") or "home"


def _visit(page, route, name, lang, width, problems):
    page.goto(page.url.split("#")[0] + "#" + route)
    try:  # the view has drawn: no "loading…" left
        page.wait_for_function("() => document.querySelector('.view') && "
                               "!document.querySelector('.view .loading')", timeout=15_000)
    except Exception:  # noqa: BLE001 - reported below with the rest
        problems.append(f"{name} {lang} {width}: still loading")
    page.wait_for_timeout(150)  # late cards (knowledge base, SLA) settle
    _load_keys(page)
    state = page.evaluate(PAGE_STATE)
    page.screenshot(path=f"/tmp/gongdan-walk-{_slug(name)}-{lang}-{width}.png", full_page=True)
    where = f"{name} {lang} {width}"
    if state["scroll"] > state["inner"]:
        problems.append(f"{where}: page {state['scroll']} px wide in {state['inner']} ({state['wide']})")
    if state["navCut"] > 0:  # a desktop menu scrolls on a phone only
        problems.append(f"{where}: the menu is cut off by {state['navCut']} px")
    if state["keys"]:
        problems.append(f"{where}: i18n keys shown {state['keys']}")
    if state["codes"]:
        problems.append(f"{where}: codes instead of labels {state['codes']}")
    if state["absent"]:
        problems.append(f"{where}: an absent value written out {state['absent']}")
    if state["slashed"]:
        problems.append(f"{where}: slashed dates {state['slashed']}")


def test_every_page_fits_and_shows_text_not_keys(system, open_page, admin, make_user,
                                                 new_ticket):
    customer, agent = make_user(), make_user("agent")
    ticket = new_ticket(customer, title="走查页面 walk")
    customer.post(f"/tickets/{ticket['id']}/comments", {"body": "第一条回复 first reply"})
    article = agent.post("/kb/articles", {"title": "走查文章 walk article", "visibility": "public",
                                          "body": "## 步骤\n\n重启服务。Restart the service."})
    assert article.status_code == 201, article.text
    aid = article.json()["id"]
    assert agent.post(f"/kb/articles/{aid}/publish").status_code == 200
    fill = {"ticket": ticket["id"], "article": aid}

    problems = []
    for lang in ("zh", "en"):
        for width in WIDTHS:
            page = open_page(locale=LOCALES[lang], width=width)
            for route in PUBLIC_ROUTES:
                _visit(page, route, route, lang, width, problems)
            for who, login, password, routes in (
                    ("customer", customer.phone, customer.password, CUSTOMER_ROUTES),
                    ("agent", agent.phone, agent.password, AGENT_ROUTES),
                    ("admin", ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_ROUTES)):
                sign_in(page, login, password)
                for route in routes:
                    name = f"{who}{route.replace('{ticket}', 'ticket').replace('{article}', 'article')}"
                    _visit(page, route.format(**fill), name, lang, width, problems)
                page.click("#logout")
                expect(page.locator("#login-form")).to_be_visible()
    assert problems == [], "\n".join(problems)
