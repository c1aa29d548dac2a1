"""The knowledge base with every service running, over HTTP: an engineer resolves a ticket,
the close flow suggests writing it up, the article is written from the ticket, reviewed and
published, and the next customer's draft gets it suggested; internal articles never reach
customers; edits are searchable within a second; archived articles drop out of search;
feedback, views and the deflection report; and the bad inputs."""
import datetime as dt
import re
import time

import pytest
import requests

from services.kb.schemas import SearchHit
from tests.test_flows import field_service, now, wait_for  # noqa: F401 (a fixture)

pytestmark = pytest.mark.integration


def found(api, q, **params):
    r = api.get("/kb/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [hit["id"] for hit in r.json()["items"]]


def poll(check, seconds):
    """Seconds until check() held, or an AssertionError after `seconds`."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > seconds:
            raise AssertionError("not within %s s" % seconds)
        time.sleep(0.05)


def test_solved_ticket_becomes_an_article_that_deflects_the_next_one(
        system, admin, make_user, new_ticket, field_service):  # noqa: F811
    _company, _boss, engineer, other_engineer = field_service
    customer, agent = make_user(), make_user("agent")
    ticket = new_ticket(customer, product=field_service.product, category="permissions",
                        title="无法登录系统", description="登录时提示账号被锁定，已持续两天")
    tid = ticket["id"]

    # engineer works and resolves the ticket
    assert agent.post(f"/tickets/{tid}/assign",
                      {"engineer_id": engineer.user["id"]}).status_code == 200
    wait_for(engineer, tid, lambda t: t.get("status") == "assigned")
    assert engineer.post(f"/tickets/{tid}/start").status_code == 200
    early = engineer.post(f"/tickets/{tid}/kb", {})
    assert early.status_code == 409 and early.json()["error"]["code"] == "ticket_not_solved"
    fix = {"root_cause": "configuration", "completed_at": now(),
           "description": "在管理控制台解除账号锁定，并把密码错误锁定阈值调整为 10 次"}
    assert engineer.post(f"/tickets/{tid}/resolve", fix).json()["status"] == "resolved"

    # no article covers it: the close flow suggests writing one (kb consumed ticket_resolved)
    def suggestion():
        return engineer.get(f"/tickets/{tid}/kb").json()["writing_suggestion"]
    poll(lambda: suggestion() is not None, 20)
    assert suggestion()["status"] == "open"
    listed = agent.get("/kb/writing-suggestions").json()["items"]
    assert tid in [s["ticket_id"] for s in listed]
    assert "writing_suggestion" in customer.get(f"/tickets/{tid}/kb").json()
    assert customer.get(f"/tickets/{tid}/kb").json()["writing_suggestion"] is None

    # ... and the engineer writes it from the ticket: prefilled, linked both ways
    r = engineer.post(f"/tickets/{tid}/kb", {"visibility": "public"})
    assert r.status_code == 201, r.text
    article = r.json()
    aid = article["id"]
    assert article["status"] == "draft" and article["version"] == 1
    assert article["title"] == "无法登录系统" and article["language"] == "zh"
    assert "登录时提示账号被锁定" in article["body"] and "解除账号锁定" in article["body"]
    assert ticket["number"] in article["body"] and article["source_ticket_id"] == tid
    assert article["product"] == field_service.product and article["category"] == "permissions"
    assert [t["ticket_id"] for t in article["tickets"]] == [tid]
    on_ticket = engineer.get(f"/tickets/{tid}/kb").json()
    assert [a["id"] for a in on_ticket["articles"]] == [aid]
    assert on_ticket["writing_suggestion"]["status"] == "written"

    # a draft is nobody's answer yet; an engineer not on the ticket does not even see a
    # draft written from it (docs/kb.md), the provider's admin sees it but may not edit it;
    # the desk may
    draft = {"title": "登录失败", "description": "提示账号被锁定"}
    assert aid not in [i["id"] for i in customer.post("/kb/suggest", draft).json()["items"]]
    assert customer.get(f"/kb/articles/{aid}").status_code == 404
    r = other_engineer.patch(f"/kb/articles/{aid}", {"keywords": ["锁定"]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "article_not_found"
    assert other_engineer.get(f"/kb/articles/{aid}").status_code == 404
    assert _boss.get(f"/kb/articles/{aid}").status_code == 200
    r = _boss.patch(f"/kb/articles/{aid}", {"keywords": ["锁定"]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert engineer.post(f"/kb/articles/{aid}/publish").status_code == 403
    r = agent.patch(f"/kb/articles/{aid}", {"keywords": ["账号锁定", "登录"], "note": "审核",
                                            "expected_version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    r = engineer.patch(f"/kb/articles/{aid}", {"title": "x", "expected_version": 1})
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_version"
    r = agent.post(f"/kb/articles/{aid}/publish")
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert agent.post(f"/kb/articles/{aid}/publish").status_code == 409

    # the next customer's draft gets it suggested, highlighted
    other_customer = make_user()
    r = other_customer.post("/kb/suggest", draft)
    assert r.status_code == 200, r.text
    items, session = r.json()["items"], r.json()["session_id"]
    assert items and items[0]["id"] == aid
    assert set(items[0]) == set(SearchHit().fields)  # the hot path builds what it documents
    assert "<mark>登录</mark>" in items[0]["title_html"]
    assert "<mark>" in items[0]["snippet_html"]
    # typing on: the same session; the customer opens the article and gives up on the ticket
    r = other_customer.post("/kb/suggest", dict(draft, session_id=session,
                                                description="提示账号被锁定，怎么解锁"))
    assert r.json()["session_id"] == session
    assert other_customer.get(f"/kb/articles/{aid}").status_code == 200
    assert other_customer.post(f"/kb/suggest/{session}/opened",
                               {"article_id": aid}).status_code == 200
    assert other_customer.post(f"/kb/suggest/{session}/outcome",
                               {"submitted": False}).status_code == 200
    assert customer.post(f"/kb/suggest/{session}/outcome",
                         {"submitted": True}).status_code == 404  # not their session
    # a second customer still submits after reading
    third = make_user()
    s2 = third.post("/kb/suggest", draft).json()["session_id"]
    third.post(f"/kb/suggest/{s2}/opened", {"article_id": aid})
    t2 = new_ticket(third, product=field_service.product)
    third.post(f"/kb/suggest/{s2}/outcome", {"submitted": True, "ticket_id": t2["id"]})
    span = {"from": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat(),
            "to": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()}
    report = agent.get("/kb/reports/deflection", params=span).json()
    assert report["deflected"] >= 1 and report["opened_then_submitted"] >= 1
    assert 0 < report["deflection_rate"] < 1
    assert customer.get("/kb/reports/deflection", params=span).status_code == 403

    # feedback and views, per version
    r = other_customer.post(f"/kb/articles/{aid}/feedback", {"helpful": True})
    assert r.status_code == 200 and r.json()["helpful"] == 1 and r.json()["version"] == 2
    other_customer.post(f"/kb/articles/{aid}/feedback", {"helpful": False})  # replaces
    stats = agent.get(f"/kb/articles/{aid}", params={"count_view": "0"}).json()["stats"]
    assert (stats["helpful"], stats["not_helpful"]) == (0, 1) and stats["views"] >= 1
    versions = agent.get(f"/kb/articles/{aid}/versions").json()["items"]
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["note"] == "审核"
    assert versions[1]["author"]["id"] == agent.user["id"]
    assert agent.get(f"/kb/articles/{aid}/versions/1").json()["keywords"] == ["配置错误"]
    assert other_customer.get(f"/kb/articles/{aid}/versions").status_code == 404

    # internal articles never reach customers
    r = agent.post("/kb/articles", {"title": "登录失败排查手册（内部）", "visibility": "internal",
                                    "body": "检查 LDAP 同步与账号锁定策略。",
                                    "product": field_service.product})
    internal = r.json()["id"]
    agent.post(f"/kb/articles/{internal}/publish")
    assert internal in found(engineer, "登录失败")
    assert internal not in found(customer, "登录失败") and aid in found(customer, "登录失败")
    assert internal not in [i["id"] for i in customer.post("/kb/suggest", draft).json()["items"]]
    assert customer.get(f"/kb/articles/{internal}").status_code == 404
    assert customer.get("/kb/search", params={"q": "登录", "visibility": "internal"}) \
        .status_code == 403
    assert internal not in [a["id"] for a in customer.get("/kb/articles").json()["items"]]

    # an edit is searchable within a second
    r = agent.patch(f"/kb/articles/{aid}", {"body": article["body"] + "\n\n若出现蓝屏死机请联系管理员。"})
    assert r.status_code == 200
    assert poll(lambda: aid in found(customer, "蓝屏死机"), 1.0) < 1.0

    # archived articles drop out of search (staff can still find them on purpose)
    assert agent.post(f"/kb/articles/{aid}/archive").json()["status"] == "archived"
    assert aid not in found(customer, "登录失败") and aid not in found(engineer, "登录失败")
    assert aid in found(engineer, "登录失败", status="archived")
    assert customer.get(f"/kb/articles/{aid}").status_code == 404

    # the events went out through the outbox
    def published():
        rows = system.sql("kb", "SELECT type FROM outbox WHERE published_at IS NOT NULL")
        return {"article_published", "article_updated"} <= {r[0] for r in rows}
    poll(published, 10)


def test_kb_bad_input(system, make_user):
    engineer, customer = make_user("engineer"), make_user("customer", lang="zh")
    # empty, huge and unknown-filter queries: clear 400s in one shape, in the caller's language
    for params in ({"q": ""}, {"q": "   "}, {"q": "x" * 5001}, {}, {"q": "x", "colour": "red"},
                   {"q": "x", "language": "fr"}, {"q": "x", "page": "0"},
                   {"q": "x", "page_size": "500"}):
        r = customer.get("/kb/search", params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["code"] == "validation_failed"
    assert "字段" in customer.get("/kb/search", params={"q": ""}).json()["error"]["message"]
    assert customer.get("/kb/search", params={"q": "的 了"}).json()["items"] == []
    for body in ({}, {"title": " ", "description": ""}, {"title": "x", "description": "长" * 5001},
                 {"title": "x", "limit": 99}, {"title": "x", "shown": []}):
        r = customer.post("/kb/suggest", body)
        assert r.status_code == 400, (body, r.text)
    assert customer.post("/kb/suggest", {"title": "x", "session_id": "nope"}).status_code == 200

    # Markdown with script injection is stored as text and rendered harmless
    r = engineer.post("/kb/articles", {
        "title": "XSS test", "body": "<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
        "<img src=x onerror=alert(1)> **ok**"})
    assert r.status_code == 201, r.text
    html = r.json()["body_html"]
    tags = re.findall(r"<[a-z][^>]*>", html)  # real tags; escaped text is only text
    assert not any(t.startswith("<script") or re.search(r"\son\w+\s*=", t) or
                   "javascript:" in t for t in tags), html
    assert "<strong>ok</strong>" in html
    assert r.json()["language"] == "en" and r.json()["visibility"] == "internal"
    aid = r.json()["id"]

    # bad articles, wrong roles, unknown things
    for body in ({"title": "", "body": "x"}, {"title": "x"}, {"title": "x", "body": "y",
                                                              "visibility": "everyone"},
                 {"title": "x", "body": "y", "keywords": ["k"] * 21}, {"title": "x" * 201,
                                                                     "body": "y"},
                 {"title": "x", "body": "y", "status": "published"}):
        assert engineer.post("/kb/articles", body).status_code == 400, body
    assert engineer.patch(f"/kb/articles/{aid}", {}).status_code == 400
    r = customer.post("/kb/articles", {"title": "x", "body": "y"})
    assert r.status_code == 403 and "只能阅读" in r.json()["error"]["message"]
    assert engineer.get("/kb/articles/no-such-id").status_code == 404
    assert engineer.get(f"/kb/articles/{aid}", params={"version": "9"}).status_code == 404
    assert engineer.get(f"/kb/articles/{aid}", params={"version": "abc"}).status_code == 404
    assert engineer.post(f"/kb/articles/{aid}/feedback", {"helpful": "maybe"}).status_code == 400
    assert engineer.post("/kb/suggest/no-such/opened", {"article_id": aid}).status_code == 404
    assert engineer.get("/kb/reports/deflection", params={"from": "x"}).status_code in (400, 403)
    assert engineer.post("/tickets/no-such/kb", {}).status_code == 404
    huge = {"title": "x", "body": "y" * (2 * 1024 * 1024)}
    assert engineer.post("/kb/articles", huge).status_code == 413
    # images and files go to object storage; links only for those who may read the article
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 2000
    up = engineer.post(f"/kb/articles/{aid}/files", files={"file": ("截图.png", png)})
    assert up.status_code == 201, up.text
    assert up.json()["content_type"] == "image/png" and up.json()["size"] == len(png)
    link = engineer.get(f"/kb/files/{up.json()['id']}")
    assert link.status_code == 200 and requests.get(link.json()["url"], timeout=10).content == png
    assert customer.get(f"/kb/files/{up.json()['id']}").status_code == 404
    assert customer.post(f"/kb/articles/{aid}/files", files={"file": ("a.png", png)}) \
        .status_code == 404  # an internal draft does not exist for a customer
    bad = engineer.post(f"/kb/articles/{aid}/files", files={"file": ("a.exe", b"MZ" + png)})
    assert bad.status_code in (400, 415)
    # a never-published draft can be deleted by its author; then it is gone
    assert engineer.delete(f"/kb/articles/{aid}").status_code == 200
    assert engineer.get(f"/kb/articles/{aid}").status_code == 404
