"""What the web client looks like, in a real browser, in Chinese and English, at desktop (1280 px)
and phone (390 px) width: the ticket page's cards (knowledge base without stray "null", SLA
table inside its card and not wrapped one character per line, one timeline entry per
assignment, labelled attachment entries), one date format everywhere, icons drawn as SVG (no
emoji that needs an emoji font), the administrator's pages under one drop-down so the menu
fits one row at 1280 px, and date filters as yyyy-mm-dd text in the page's language.

Browser fixtures from tests/support/web.py. Screenshots: /tmp/gongdan-polish-*.png.
"""
import re
import time

import pytest
from playwright.sync_api import expect

from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.web import field_service, go_admin, sign_in  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

# the one date format (gateway/web/js/i18n.js fmtDate): zh "2026-12-06 14:05", en "6 Dec 2026 14:05"
DATE = {"zh": re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?$"),
        "en": re.compile(r"^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}( \d{2}:\d{2})?$")}
# day/month or month/day numbers, the ambiguous forms the client must not show
SLASHED = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
# pictographic emoji (bell, gear, ...): shown as a box without an emoji font
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u26FF\u2700-\u27BF\uFE0F]")
LOCALES = {"zh": "zh-CN", "en": "en-US"}
WIDTHS = (1280, 390)


def _until(check, seconds=20):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _open(open_page, user, lang, width, route):
    page = open_page(locale=LOCALES[lang], width=width)  # the page's language: the browser's
    sign_in(page, user.phone, user.password)
    page.goto(page.url.split("#")[0] + "#" + route)
    return page


def _dates_ok(page, lang):
    """Every <time> on the page in the one format, and no slashed date anywhere in the text."""
    texts = page.locator("main time, .view time").all_inner_texts()
    bad = [s for s in texts if s.strip() and not DATE[lang].match(s.strip())]
    assert bad == [], bad
    assert SLASHED.findall(page.locator("body").inner_text()) == []
    return len(texts)


def _icons_ok(page):
    top = page.locator(".topbar")
    assert EMOJI.findall(top.inner_text()) == []
    expect(page.locator("#bell svg.icon-bell")).to_have_count(1)
    expect(page.locator("#prefs-link svg.icon-settings")).to_have_count(1)
    assert page.evaluate("document.querySelector('#bell svg').getBoundingClientRect().width") > 0


def test_ticket_page_cards_timeline_dates_and_icons(system, open_page, make_user, new_ticket,  # noqa: F811
                                                     field_service):  # noqa: F811
    customer, agent = make_user(), make_user("agent")
    engineer = field_service.engineer
    ticket = new_ticket(customer, title="界面检查 polish", product=field_service.product)
    tid = ticket["id"]
    up = customer.post(f"/tickets/{tid}/attachments", files={"file": ("server.log", b"boot ok\n")})
    assert up.status_code == 201, up.text
    assert agent.post(f"/tickets/{tid}/assign", {"engineer_id": engineer.user["id"]}).status_code == 200
    _until(lambda: agent.get(f"/tickets/{tid}").json()["status"] == "assigned")
    detail = agent.get(f"/tickets/{tid}").json()
    assert len(detail["assignments"]) == 1
    # the API: one timeline entry for the assignment (its status change is not repeated)
    kinds = [i["kind"] for i in detail["timeline"]]
    assert kinds.count("assigned") == 1
    assert [i for i in detail["timeline"] if i["kind"] == "status" and i.get("action") == "assign"] == []
    assert [(i["summary"], i["attachment_kind"]) for i in detail["timeline"]
            if i["kind"] == "attachment"] == [("server.log", "intake")]

    intake = {"zh": "server.log · 报修附件", "en": "server.log · Attached at intake"}
    assigned = {"zh": "已指派", "en": "Assigned"}  # the status label i18n.js gives "assigned"
    for lang in ("zh", "en"):
        for width in WIDTHS:
            page = _open(open_page, agent, lang, width, f"/tickets/{tid}")
            expect(page.locator("h1.ticket-title")).to_have_text("界面检查 polish")

            # knowledge-base card: loaded, and no "null" text in it
            kb = page.locator("#kb-ticket")
            none_linked = {"zh": "暂无关联的知识库文章。", "en": "No knowledge-base article is linked yet."}
            expect(kb.locator("p.muted")).to_have_text(none_linked[lang])
            expect(kb).not_to_contain_text("null")

            # SLA table: inside its card; no cell wrapped one character per line
            table = page.locator(".sla-card table.sla-table")
            expect(table).to_be_visible()
            fits = page.evaluate("""() => {
                const card = document.querySelector('.sla-card');
                const table = card.querySelector('table');
                // the fewest characters on one rendered line of each cell of two or more characters
                const walker = (cell) => document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                const lines = [...table.querySelectorAll('th, td')].map((cell) => {
                    const perLine = new Map();
                    for (let w = walker(cell), n = w.nextNode(); n; n = w.nextNode()) {
                        for (let i = 0; i < n.data.length; i++) {
                            if (!n.data[i].trim()) continue;
                            const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
                            const top = Math.round(r.getBoundingClientRect().top);
                            perLine.set(top, (perLine.get(top) || 0) + 1);
                        }
                    }
                    const counts = [...perLine.values()];
                    const total = counts.reduce((a, b) => a + b, 0);
                    return total < 2 ? 99 : Math.min(...counts);
                });
                const inner = card.getBoundingClientRect().right - parseFloat(getComputedStyle(card).paddingRight);
                return { table: table.getBoundingClientRect().right, card: inner,
                         scroll: card.scrollWidth, client: card.clientWidth, lines };
            }""")
            assert fits["table"] <= fits["card"] + 0.5, fits
            assert fits["scroll"] <= fits["client"], fits
            assert fits["lines"] and min(fits["lines"]) >= 2, fits

            # timeline: one entry for the assignment, the attachment labelled and localized
            timeline = page.locator("#timeline")
            expect(timeline.locator("li[data-kind=assigned]")).to_have_count(1)
            expect(timeline.locator("li[data-kind=status]", has_text=f"→ {assigned[lang]}")).to_have_count(0)
            expect(timeline.locator("li[data-kind=attachment] .event-summary")).to_have_text(intake[lang])
            expect(timeline).not_to_contain_text("(intake)")

            assert _dates_ok(page, lang) >= 3  # timeline, SLA due time, attachment
            _icons_ok(page)
            page.screenshot(path=f"/tmp/gongdan-polish-ticket-{lang}-{width}.png", full_page=True)
            page.locator(".sla-card").screenshot(path=f"/tmp/gongdan-polish-sla-{lang}-{width}.png")


def test_admin_menu_one_row_and_date_filters_not_clipped(system, open_page):  # noqa: F811
    """The admin's pages sit under one "管理 / Admin" drop-down, so the menu fits one row at
    1280 px without anything cut off; at 390 px the menu row scrolls and the drop-down opens
    inside the screen. Date filters are yyyy-mm-dd text in the page's language (Chromium's
    own date input follows the operating system's locale, not the page)."""
    top_level = "nav.nav > a.nav-link, nav.nav > .nav-menu > .nav-menu-button"
    for lang in ("zh", "en"):
        for width in WIDTHS:
            page = open_page(locale=LOCALES[lang], width=width)
            sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
            expect(page.locator("html")).to_have_attribute("lang", re.compile(f"^{lang}"))
            expect(page.locator("#admin-menu button")).to_have_text({"zh": "管理", "en": "Admin"}[lang])
            tops = page.evaluate(f"""() => [...document.querySelectorAll('{top_level}')]
                .map((a) => Math.round(a.getBoundingClientRect().top))""")
            if width == 1280:
                assert len(set(tops)) == 1, tops  # every entry on one row
                bar = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
                assert bar < 70, bar  # the top bar itself one row high
                nav = page.evaluate("(() => { const n = document.querySelector('nav.nav');"
                                    " return [n.scrollWidth, n.clientWidth]; })()")
                assert nav[0] <= nav[1], nav  # nothing cut off at the end ("Not…")
            # the drop-down opens within the screen and each admin page is one click away
            page.click("#admin-menu button")
            panel = page.locator("#admin-menu .nav-menu-panel")
            expect(panel).to_be_visible()
            box = panel.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
            expect(panel.locator("a")).to_have_count(8)  # settings, engineers, webhooks, robots
            page.screenshot(path=f"/tmp/gongdan-polish-menu-{lang}-{width}.png")
            page.keyboard.press("Escape")
            expect(panel).to_be_hidden()
            go_admin(page, "/admin/mail")
            expect(page.locator("#admin-menu button")).to_have_class(re.compile(r"\bactive\b"))
            _icons_ok(page)

            # the date filters of the ticket list and the reports: yyyy-mm-dd text, not clipped
            for route, selector in (("/tickets", "#filters input.date-text"),
                                    ("/reports", "input.date-text")):
                page.goto(page.url.split("#")[0] + "#" + route)
                inputs = page.locator(selector)
                expect(inputs.first).to_be_visible()
                expect(inputs.first).to_have_attribute(
                    "placeholder", {"zh": "年-月-日", "en": "yyyy-mm-dd"}[lang])
                widths = page.evaluate(f"""() => [...document.querySelectorAll('{selector}')]
                    .map((i) => ({{ name: i.name, scroll: i.scrollWidth, client: i.clientWidth }}))""")
                assert widths, route
                clipped = [w for w in widths if w["scroll"] > w["client"]]
                assert clipped == [], (route, clipped)
                _dates_ok(page, lang)
                page.screenshot(path=f"/tmp/gongdan-polish-{route.strip('/')}-{lang}-{width}.png",
                                full_page=True)


def test_date_filter_typed_and_picked(system, open_page, make_user):  # noqa: F811
    """A date typed loosely is tidied to yyyy-mm-dd; one picked in the browser's calendar lands
    in the text; the list filters by it."""
    agent = make_user("agent")
    page = _open(open_page, agent, "zh", 1280, "/tickets")
    start = page.locator("#filters input[name=created_from]")
    start.fill("2026/1/5")
    start.press("Tab")
    expect(start).to_have_value("2026-01-05")
    # the picker: the hidden native date input beside the text gets the browser's choice
    page.evaluate("""() => {
        const native = document.querySelector('#filters input[name=created_to] ~ input.date-native');
        native.value = '2026-02-01';
        native.dispatchEvent(new Event('change'));
    }""")
    expect(page.locator("#filters input[name=created_to]")).to_have_value("2026-02-01")
    page.locator("#filters button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"created_from=2026-01-05.*created_to=2026-02-01|"
                                        r"created_to=2026-02-01.*created_from=2026-01-05"))
    expect(page.locator("#filters input[name=created_from]")).to_have_value("2026-01-05")
    start = page.locator("#filters input[name=created_from]")
    start.fill("5.1.2026")  # not a date the field understands: said so, in the page's language
    start.press("Tab")
    assert page.evaluate("document.querySelector('#filters input[name=created_from]')"
                         ".validationMessage") == "请按 年-月-日 填写日期，例如 2026-12-07。"
