"""Merge, links, canned replies and "someone else is replying" in a real browser, in Chinese
and English, at desktop (1280 px) and phone (390 px) width.

Browser fixtures from tests/support/web.py. Screenshots: /tmp/gongdan-merge-*.png.
"""
import pytest
from playwright.sync_api import expect

from tests.support.web import answer_confirm, confirmed, sign_in

pytestmark = pytest.mark.integration
LOCALES = {"zh": "zh-CN", "en": "en-US"}


def _open(open_page, user, lang, width, route):
    page = open_page(locale=LOCALES[lang], width=width)
    sign_in(page, user.phone, user.password)
    page.goto(page.url.split("#")[0] + "#" + route)
    return page


def _fits(page, width):
    """Nothing wider than the screen, and no stray "null" printed for an absent part."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert "null" not in page.locator(".view").inner_text().split()


@pytest.mark.parametrize("lang,width", [("zh", 1280), ("en", 390)])
def test_link_merge_and_canned_reply_on_the_ticket_page(open_page, make_user, make_company,
                                                        new_ticket, lang, width):
    company = make_company()
    first, second = make_user(company=company), make_user(company=company)
    a = new_ticket(first, title=f"打印失败 A {lang}")
    b = new_ticket(second, title=f"打印失败 B {lang}", contact_name="王五")
    related = new_ticket(second, title=f"相关工单 {lang}")
    agent = make_user("agent")
    r = agent.post("/canned-replies", {"title": f"收到 {lang}", "scope": "personal",
                                       "body_zh": "{customer_name} 您好，工单 {ticket_number} 已收到。",
                                       "body_en": "Hello {customer_name}, we got {ticket_number}."})
    assert r.status_code == 201, r.text
    words = {"zh": ("关联工单", "相关", "正在回复", "本工单与"), "en": ("Linked tickets", "Related",
                                                                 "is replying", "This ticket")}[lang]

    page = _open(open_page, agent, lang, width, f"/tickets/{b['id']}")
    links = page.locator("#links")
    expect(links.locator("h2")).to_contain_text(words[0])
    links.locator("#link-form input[name=other]").fill(related["number"])
    links.locator("#link-form button[type=submit]").click()
    row = links.locator(".link-row", has_text=related["number"])
    expect(row).to_contain_text(words[1])

    # a canned reply inserted into the reply box, filled for this ticket
    picker = page.locator("#canned-picker")
    expect(picker.locator("option", has_text=f"收到 {lang}")).to_have_count(1)
    canned_id = picker.locator("option", has_text=f"收到 {lang}").get_attribute("value")
    picker.select_option(canned_id)
    want = {"zh": f"王五 您好，工单 {b['number']} 已收到。",
            "en": f"Hello 王五, we got {b['number']}."}[lang]
    expect(page.locator("#reply-form textarea[name=body]")).to_have_value(want)
    _fits(page, width)
    page.screenshot(path=f"/tmp/gongdan-merge-links-{lang}-{width}.png", full_page=True)

    # merge A into B from A's page: A closes and shows the banner
    page.goto(page.url.split("#")[0] + f"#/tickets/{a['id']}")
    form = page.locator("#merge-form")
    form.locator("input[name=into]").fill(b["number"])
    answer_confirm(page)
    form.locator("button[type=submit]").click()
    banner = page.locator("#merge-banner")
    expect(banner).to_contain_text(b["number"])
    assert b["number"] in confirmed(page)
    expect(banner.locator("a")).to_have_attribute("href", f"#/tickets/{b['id']}")
    expect(page.locator("#merge-form")).to_have_count(0)
    expect(page.locator("#timeline")).to_contain_text({"zh": "合并", "en": "Merge"}[lang])
    _fits(page, width)
    page.screenshot(path=f"/tmp/gongdan-merge-banner-{lang}-{width}.png", full_page=True)

    # the customer still reads A, with the banner (no link: B is a colleague's ticket)
    mine = _open(open_page, first, lang, width, f"/tickets/{a['id']}")
    expect(mine.locator("#merge-banner")).to_contain_text(words[3])
    expect(mine.locator("#merge-banner a")).to_have_count(0)
    expect(mine.locator("#merge-form, #link-form, #canned-picker")).to_have_count(0)
    _fits(mine, width)
    mine.screenshot(path=f"/tmp/gongdan-merge-customer-{lang}-{width}.png", full_page=True)


@pytest.mark.parametrize("lang,width", [("zh", 390), ("en", 1280)])
def test_someone_else_is_replying(open_page, make_user, new_ticket, lang, width):
    customer, agent = make_user(), make_user("agent")
    ticket = new_ticket(customer, title=f"回复提示 {lang}")
    name = agent.get("/me").json()["name"]
    watching = _open(open_page, customer, lang, width, f"/tickets/{ticket['id']}")
    expect(watching.locator("#reply-form")).to_be_visible()
    typing = _open(open_page, agent, "en" if lang == "zh" else "zh", 1280, f"/tickets/{ticket['id']}")
    box = typing.locator("#reply-form textarea[name=body]")
    # an internal note is never announced to the customer ...
    typing.locator("#reply-internal").check()
    box.press_sequentially("内部备注", delay=30)
    watching.wait_for_timeout(2500)
    expect(watching.locator("#presence")).to_be_hidden()
    box.fill("")
    typing.locator("#reply-internal").uncheck()
    typing.wait_for_timeout(3100)  # past the ping throttle
    # ... a public reply is
    box.press_sequentially("您好，正在处理", delay=30)
    line = watching.locator("#presence")
    expect(line).to_be_visible()
    expect(line).to_contain_text(name)
    expect(line).to_contain_text({"zh": "正在回复", "en": "is replying"}[lang])
    _fits(watching, width)
    watching.screenshot(path=f"/tmp/gongdan-merge-presence-{lang}-{width}.png", full_page=True)


def test_canned_page(open_page, make_user):
    agent = make_user("agent")
    for lang, width in (("zh", 1280), ("en", 390)):
        page = _open(open_page, agent, lang, width, "/canned")
        page.click("#canned-new")
        form = page.locator("#canned-form")
        form.locator("input[name=title]").fill(f"模板 {lang}")
        form.locator("textarea[name=body_zh]").fill("您好 {客户}")
        form.locator("button[type=submit]").click()
        expect(form.locator(".msg-error, .field-error").first).to_be_visible()
        expect(form).to_contain_text({"zh": "未知的变量", "en": "Unknown variable"}[lang])
        form.locator("textarea[name=body_zh]").fill("{customer_name} 您好")
        form.locator("select[name=scope]").select_option("desk")
        form.locator("button[type=submit]").click()
        item = page.locator(".canned-item", has_text=f"模板 {lang}")
        expect(item).to_contain_text("{customer_name} 您好")
        expect(item).to_contain_text({"zh": "支持团队共享", "en": "Shared with the desk"}[lang])
        _fits(page, width)
        page.screenshot(path=f"/tmp/gongdan-merge-canned-{lang}-{width}.png", full_page=True)
