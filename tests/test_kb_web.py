"""The knowledge base in the web client (headless Chromium, the real system): a customer
typing a new ticket gets a published article suggested, searches the knowledge base, reads
the article (sanitized body, no script runs) and says it helped."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.test_web import browser, open_page, sign_in  # noqa: F401 (fixtures)

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
