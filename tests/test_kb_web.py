"""The knowledge base in the web client (headless Chromium, the real system): a customer
typing a new ticket gets a published article suggested, searches the knowledge base, reads
the article (sanitized body, no script runs) and says it helped; the desk finds a solved
ticket on the "articles to write" page and writes it up from there, which customers cannot
open."""
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.test_flows import field_service, now, wait_for  # noqa: F401 (a fixture)
from tests.support.web import sign_in

pytestmark = pytest.mark.integration


def test_customer_is_offered_and_reads_an_article(system, open_page, make_user,  # noqa: F811
                                                  new_ticket):
    agent, customer = make_user("agent"), make_user()
    word = "蓝牙耳机" + uuid.uuid4().hex[:4]
    r = agent.post("/kb/articles", {
        "title": f"{word}无法配对", "visibility": "public",
        "body": f"## 解决方法\n\n关闭{word}后重新打开。\n\n<script>window.__xss = 1</script>\n\n"
                "![x](javascript:alert(1)) [帮助](https://example.com/help)"})
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert agent.post(f"/kb/articles/{aid}/publish").status_code == 200

    page = open_page("zh-CN")
    sign_in(page, customer.phone, customer.password)
    page.goto(page.url.split("#")[0] + "#/tickets/new")
    page.fill("#new-ticket [name=title]", f"{word}配对失败")
    panel = page.locator("#kb-suggest")
    expect(panel).to_be_visible()
    expect(panel.locator("a.kb-hit-title")).to_contain_text(f"{word}无法配对")
    expect(panel.locator("mark").first).to_be_visible()

    page.click("nav.nav a[href='#/kb']")
    page.fill("input[name=q]", word)
    page.click(".kb-search button[type=submit]")
    expect(page.locator("#kb-results a.kb-hit-title")).to_have_count(1)
    page.click("#kb-results a.kb-hit-title")
    body = page.locator("#kb-body")
    expect(body.locator("h2")).to_have_text("解决方法")
    expect(body.locator("a[href='https://example.com/help']")).to_have_count(1)
    assert body.locator("script").count() == 0
    assert page.evaluate("window.__xss") is None
    assert body.locator("[href^='javascript'], [src^='javascript'], img").count() == 0
    page.click("#kb-yes")
    expect(page.locator(".kb-feedback [role=status]")).to_have_text("感谢您的反馈。")
    stats = agent.get(f"/kb/articles/{aid}", params={"count_view": "0"}).json()["stats"]
    assert stats["helpful"] == 1 and stats["views"] >= 1

    # the ticket page has a knowledge-base card; customers get no "write one" button
    ticket = new_ticket(customer)
    page.goto(page.url.split("#")[0] + f"#/tickets/{ticket['id']}")
    expect(page.locator("#kb-ticket")).to_contain_text("暂无关联的知识库文章。")
    expect(page.locator("#kb-write")).to_have_count(0)


def test_desk_writes_up_a_suggested_ticket(system, open_page, make_user, new_ticket,  # noqa: F811
                                           field_service):  # noqa: F811
    _company, _boss, engineer, _lapsed = field_service
    customer, agent = make_user(), make_user("agent")
    title = "打印机卡纸" + uuid.uuid4().hex[:6]
    ticket = new_ticket(customer, product=field_service.product, category="function", title=title)
    tid = ticket["id"]
    assert agent.post(f"/tickets/{tid}/assign", {"engineer_id": engineer.user["id"]}).status_code == 200
    wait_for(engineer, tid, lambda t: t.get("status") == "assigned")
    assert engineer.post(f"/tickets/{tid}/start").status_code == 200
    assert engineer.post(f"/tickets/{tid}/resolve", {
        "root_cause": "configuration", "completed_at": now(),
        "description": "更换搓纸轮"}).json()["status"] == "resolved"
    deadline = time.monotonic() + 20  # kb consumes ticket_resolved asynchronously
    while tid not in [s["ticket_id"] for s in agent.get("/kb/writing-suggestions").json()["items"]]:
        assert time.monotonic() < deadline, "no writing suggestion"
        time.sleep(0.2)

    page = open_page("zh-CN")
    sign_in(page, agent.phone, agent.password)
    page.goto(page.url.split("#")[0] + "#/kb")
    page.click("#kb-suggestions-link")
    row = page.locator(f"#kb-suggestions tr[data-ticket-id='{tid}']")
    expect(row).to_contain_text(title)
    expect(row).to_contain_text(field_service.product)
    expect(row).to_contain_text("待写")
    expect(row.locator(f"a[href='#/tickets/{tid}']")).to_have_text(ticket["number"])
    row.locator("button[data-act=write]").click()
    expect(page.locator("h1")).to_have_text(title)  # the draft written from the ticket
    expect(page.locator("#kb-body")).to_contain_text("更换搓纸轮")
    page.goto(page.url.split("#")[0] + "#/kb/suggestions?tab=written")
    expect(page.locator(f"#kb-suggestions tr[data-ticket-id='{tid}']")).to_contain_text("已写")

    other = open_page("en-US")
    sign_in(other, customer.phone, customer.password)
    other.goto(other.url.split("#")[0] + "#/kb")
    expect(other.locator("h1")).to_have_text("Knowledge base")
    expect(other.locator("#kb-suggestions-link")).to_have_count(0)
    other.goto(other.url.split("#")[0] + "#/kb/suggestions")
    expect(other.locator(".view")).to_contain_text("You do not have access to this page.")
    expect(other.locator("#kb-suggestions")).to_have_count(0)


def test_admin_edits_the_search_dictionary_and_staff_read_it(system, open_page,  # noqa: F811
                                                             make_user):
    from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD
    word = "pelicanpump" + uuid.uuid4().hex[:6]
    page = open_page("zh-CN")
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.goto(page.url.split("#")[0] + "#/kb")
    page.click("#kb-dictionary-link")
    expect(page.locator("h1")).to_have_text("搜索词典")
    page.fill("#kb-dict-terms", f"鹈鹕泵，{word}")
    page.click("#kb-dict-add button[type=submit]")  # then the page shows the new group
    expect(page.locator("input[name=q]")).to_have_value("鹈鹕泵")
    row = page.locator("#kb-dictionary tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"鹈鹕泵, {word}")
    expect(row.locator("button[data-act=delete]")).to_be_visible()

    agent = make_user("agent")
    other = open_page("en-US")
    sign_in(other, agent.phone, agent.password)
    other.goto(other.url.split("#")[0] + f"#/kb/dictionary?q={word}")
    expect(other.locator("#kb-dictionary tbody tr")).to_contain_text(word)
    expect(other.locator("#kb-dict-add")).to_have_count(0)  # staff read, admins edit
    expect(other.locator("#kb-dictionary button")).to_have_count(0)
