"""The dispatch pages of the web client in a real browser: a provider admin answers offers
(#/offers), an agent records follow-up visits (#/follow-ups), an administrator keeps the
routing rules (#/admin/routing-rules), and a provider admin manages their engineers'
skills, availability and certifications (#/engineers). What the pages do is checked against the
API, and the API's refusals must appear under the field they name.

Browser fixtures and the provider setup (`field_service`) come from tests/support/web.py.
Screenshots: /tmp/gongdan-offers.png, /tmp/gongdan-routing-rules.png, /tmp/gongdan-engineers.png.
"""
import datetime as dt
import time

import pytest
from playwright.sync_api import expect

from tests.support.system import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.web import (answer_confirm, confirmed, field_service,  # noqa: F401 - a fixture
                               go_admin, sign_in, unique_title)

pytestmark = pytest.mark.integration


def _day(offset):
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


def _until(check, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("the condition never held")


def _goto(page, route):
    page.goto(page.url.split("#")[0] + "#" + route)


def test_provider_admin_accepts_an_offer(system, open_page, make_user, new_ticket,  # noqa: F811
                                         field_service):  # noqa: F811
    company, engineer = field_service.company, field_service.engineer
    boss, agent, customer = make_user("provider_admin", company=company), make_user("agent"), make_user()
    title = unique_title("存储阵列告警")
    ticket = new_ticket(customer, type="repair", title=title, product=field_service.product,
                        device_sn="SN-OFFER-1", impact="department", urgency="high")
    offer = agent.post(f"/tickets/{ticket['id']}/offer", {"provider_id": company["id"]})
    assert offer.status_code == 201, offer.text
    _until(lambda: boss.get(f"/tickets/{ticket['id']}").status_code == 200)  # offered: readable

    page = open_page("en-US")
    sign_in(page, boss.phone, boss.password)
    nav = page.locator("nav.nav")
    expect(nav.locator("a[href='#/engineers']")).to_be_visible()
    expect(nav.locator("a[href='#/follow-ups']")).to_have_count(0)  # the desk's
    expect(nav.locator("a[href='#/admin/routing-rules']")).to_have_count(0)
    nav.locator("a[href='#/offers']").click()
    row = page.locator(f"#offer-table tr[data-offer-id='{offer.json()['id']}']")
    expect(row).to_contain_text(ticket["number"])
    expect(row).to_contain_text(title)
    expect(row.locator(".badge")).to_have_text(ticket["priority"])
    page.screenshot(path="/tmp/gongdan-offers.png", full_page=True)
    row.locator("button[data-act=accept]").click()  # naming the certified engineer at once
    form = page.locator(f"tr[data-accept-offer='{offer.json()['id']}'] form")
    form.locator(f"select[name=engineer_id] option[value='{engineer.user['id']}']").wait_for(state="attached")
    form.locator("select[name=engineer_id]").select_option(engineer.user["id"])
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text("accepted")
    answered = page.locator(f"#answered-table tr[data-offer-id='{offer.json()['id']}']")
    expect(answered).to_contain_text("Accepted")
    expect(page.locator(f"#offer-table tr[data-offer-id='{offer.json()['id']}']")).to_have_count(0)
    mine = boss.get("/offers", params={"ticket_id": ticket["id"]}).json()["items"]
    assert [(o["status"], o["engineer_id"]) for o in mine] == [("accepted", engineer.user["id"])]
    _until(lambda: boss.get(f"/tickets/{ticket['id']}").json()["status"] == "assigned")

    # the ticket shows the provider holding it and the engineer named
    answered.locator("a.ticket-link").click()
    expect(page.locator("h1.ticket-title")).to_have_text(title)
    expect(page.locator(".ticket-provider")).to_have_text(company["name"])
    expect(page.locator(".facts")).to_contain_text(engineer.user["name"])

    # the desk reads offers but does not answer them
    desk = open_page("en-US")
    sign_in(desk, agent.phone, agent.password)
    _goto(desk, "/offers")
    expect(desk.locator(f"#answered-table tr[data-offer-id='{offer.json()['id']}']")) \
        .to_contain_text(company["name"])
    expect(desk.locator("button[data-act=accept]")).to_have_count(0)


def test_provider_admin_declines_with_a_reason(system, open_page, make_user, new_ticket,  # noqa: F811
                                               field_service):  # noqa: F811
    company = field_service.company
    boss, agent = make_user("provider_admin", company=company), make_user("agent")
    ticket = new_ticket(make_user(), type="repair", product=field_service.product, device_sn="SN-2")
    offer = agent.post(f"/tickets/{ticket['id']}/offer", {"provider_id": company["id"]}).json()
    page = open_page("zh-CN")
    sign_in(page, boss.phone, boss.password)
    _goto(page, "/offers")
    row = page.locator(f"#offer-table tr[data-offer-id='{offer['id']}']")
    row.locator("button[data-act=decline]").click()
    form = page.locator(f"tr[data-decline-offer='{offer['id']}'] form")
    form.locator("input[name=reason]").fill("本周人手不足")
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text("已拒绝")
    expect(page.locator(f"#answered-table tr[data-offer-id='{offer['id']}']")).to_contain_text("本周人手不足")
    answered = boss.get("/offers", params={"ticket_id": ticket["id"]}).json()["items"]
    assert [(o["status"], o["reason"]) for o in answered if o["provider_id"] == company["id"]] \
        == [("declined", "本周人手不足")]

    # people outside the desk and the registry get neither the links nor the pages
    customer = make_user()
    outsider = open_page("en-US")
    sign_in(outsider, customer.phone, customer.password)
    for route in ("/offers", "/follow-ups", "/admin/routing-rules", "/engineers"):
        expect(outsider.locator(f"nav.nav a[href='#{route}']")).to_have_count(0)
        _goto(outsider, route)
        expect(outsider.locator(".view")).to_contain_text("You do not have access to this page.")


def test_agent_completes_a_follow_up(system, open_page, make_user, new_ticket,  # noqa: F811
                                     field_service):  # noqa: F811
    engineer, customer, agent = field_service.engineer, make_user(), make_user("agent")
    title = unique_title("数据库连接中断")
    ticket = new_ticket(customer, title=title, product=field_service.product,
                        impact="department", urgency="high")
    tid = ticket["id"]
    assert agent.post(f"/tickets/{tid}/assign", {"engineer_id": engineer.user["id"]}).status_code == 200
    _until(lambda: engineer.get(f"/tickets/{tid}").json().get("status") == "assigned")
    assert engineer.post(f"/tickets/{tid}/start").status_code == 200
    fix = {"root_cause": "configuration", "description": "调整连接池",
           "completed_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    assert engineer.post(f"/tickets/{tid}/resolve", fix).status_code == 200
    assert customer.post(f"/tickets/{tid}/confirm").json()["status"] == "closed"
    follow_up = _until(lambda: next((f for f in agent.get("/follow-ups", params={
        "status": "open", "page_size": 200}).json()["items"] if f["ticket_id"] == tid), None))

    page = open_page("en-US")
    sign_in(page, agent.phone, agent.password)
    page.click("nav.nav a[href='#/follow-ups']")
    row = page.locator(f"#follow-up-table tr[data-follow-up-id='{follow_up['id']}']")
    expect(row).to_contain_text(title)
    expect(row).to_contain_text(ticket["number"])
    row.locator("button[data-act=done]").click()
    form = page.locator(f"tr[data-done-follow-up='{follow_up['id']}'] form")
    form.locator("button[type=submit]").click()  # no note: refused under the note
    note_error = form.locator("[data-field=note] .field-error")
    expect(note_error).to_be_visible()
    assert note_error.inner_text().strip()
    form.locator("textarea[name=note]").fill("Customer satisfied; no further action.")
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text(ticket["number"])
    expect(page.locator(f"#follow-up-table tr[data-follow-up-id='{follow_up['id']}']")).to_have_count(0)
    page.click("#fu-tab-done")
    expect(page.locator(f"#follow-up-table tr[data-follow-up-id='{follow_up['id']}']")) \
        .to_contain_text("Customer satisfied")
    done = agent.get("/follow-ups", params={"status": "done", "page_size": 200}).json()["items"]
    assert [(f["status"], f["note"]) for f in done if f["id"] == follow_up["id"]] \
        == [("done", "Customer satisfied; no further action.")]


def test_admin_keeps_routing_rules(system, open_page, admin, field_service):  # noqa: F811
    company, line = field_service.company, field_service.line
    name = unique_title("Storage line")
    page = open_page("en-US")
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    go_admin(page, "/admin/routing-rules")
    page.click("#rule-new")
    form = page.locator("#rule-create")
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=ticket_type]").select_option("defect")
    form.locator("input[name=product_line]").fill("not a line!")
    form.locator("select[name=provider_id]").select_option(company["id"])
    form.locator("button[type=submit]").click()
    line_error = form.locator("[data-field=product_line] .field-error")
    expect(line_error).to_contain_text("product line")
    expect(form.locator("[data-field=name] .field-error")).to_be_hidden()
    assert [r for r in admin.get("/admin/routing-rules").json()["items"] if r["name"] == name] == []

    form.locator("input[name=product_line]").fill(line)
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text("saved")
    rule = next(r for r in admin.get("/admin/routing-rules").json()["items"] if r["name"] == name)
    assert (rule["ticket_type"], rule["product_line"], rule["provider_id"], rule["engineer_id"],
            rule["category"], rule["active"]) == ("defect", line, company["id"], None, None, True)
    row = page.locator(f"#routing-rule-table tr[data-rule-id='{rule['id']}']")
    expect(row).to_contain_text(company["name"])

    # edit: switched off; then deleted (after the confirmation)
    row.locator("button[data-act=edit]").click()
    edit = page.locator(f"tr[data-edit-rule='{rule['id']}'] form")
    edit.locator("input[name=active]").uncheck()
    edit.locator("button[type=submit]").click()
    expect(page.locator(f"#routing-rule-table tr.rule-off[data-rule-id='{rule['id']}']")).to_be_visible()
    assert next(r for r in admin.get("/admin/routing-rules").json()["items"]
                if r["id"] == rule["id"])["active"] is False
    page.screenshot(path="/tmp/gongdan-routing-rules.png", full_page=True)
    answer_confirm(page)
    page.locator(f"#routing-rule-table tr[data-rule-id='{rule['id']}'] button[data-act=delete]").click()
    assert confirmed(page)  # the page asked first
    expect(page.locator(f"tr[data-rule-id='{rule['id']}']")).to_have_count(0)
    assert rule["id"] not in [r["id"] for r in admin.get("/admin/routing-rules").json()["items"]]

    # an administrator picks the provider on the engineers page
    go_admin(page, "/engineers")
    page.locator("select[name=provider]").select_option(company["id"])
    expect(page.locator(f"#engineer-table tr[data-engineer-id='{field_service.engineer.user['id']}']")) \
        .to_contain_text(line)


def test_provider_admin_manages_engineers(system, open_page, make_user, field_service):  # noqa: F811
    company, engineer, line = field_service.company, field_service.engineer, field_service.line
    boss = make_user("provider_admin", company=company)
    eid = engineer.user["id"]
    page = open_page("en-US")
    sign_in(page, boss.phone, boss.password)
    page.click("nav.nav a[href='#/engineers']")
    row = page.locator(f"#engineer-table tr[data-engineer-id='{eid}']")
    expect(row).to_contain_text(line)  # certified today

    # availability: on leave, and back
    row_of = f"#engineer-table tr[data-engineer-id='{eid}']"
    row.locator("button[data-act=availability]").click()
    expect(page.locator(row_of)).to_have_attribute("data-availability", "on_leave")
    assert boss.get("/engineers", params={"availability": "on_leave"}).json()["items"][0]["id"] == eid
    page.locator(f"{row_of} button[data-act=availability]").click()
    expect(page.locator(row_of)).to_have_attribute("data-availability", "on_duty")

    # skills
    page.locator(f"#engineer-table tr[data-engineer-id='{eid}'] button[data-act=skills]").click()
    skills = page.locator(f"tr[data-skills-of='{eid}'] form")
    skills.locator("input[name=skills]").fill(f"{line}, 存储，network")
    skills.locator("button[type=submit]").click()
    expect(page.locator(f"#engineer-table tr[data-engineer-id='{eid}']")).to_contain_text("存储")
    assert boss.get("/engineers").json()["items"][0]["skills"] == [line, "存储", "network"]

    # certifications: the one on file, a period the wrong way round refused, one expiring soon
    page.locator(f"#engineer-table tr[data-engineer-id='{eid}'] button[data-act=certs]").click()
    panel = page.locator(f".cert-panel[data-engineer-id='{eid}']")
    expect(panel.locator(".cert-table tbody tr")).to_have_count(1)
    form = panel.locator("form.cert-form")
    number = "C-NEW-" + eid[:6]
    form.locator("input[name=product_line]").fill(line)
    form.locator("input[name=certificate_no]").fill(number)
    form.locator("input[name=valid_from]").fill(_day(0))
    form.locator("input[name=valid_until]").fill(_day(-5))
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-field=valid_until] .field-error")).to_contain_text("valid_until")
    form.locator("input[name=valid_until]").fill(_day(10))
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text(number)
    panel = page.locator(f".cert-panel[data-engineer-id='{eid}']")  # the list reads itself again
    expect(panel.locator(".cert-table tbody tr")).to_have_count(2)
    expect(panel.locator(".cert-table tr[data-status=expiring]")).to_contain_text(number)
    expect(panel.locator(".cert-table tr[data-status=expiring] .badge")).to_contain_text("Expires in 10 days")
    page.screenshot(path="/tmp/gongdan-engineers.png", full_page=True)
    certs = boss.get(f"/engineers/{eid}/certifications").json()["items"]
    assert [(c["certificate_no"], c["valid_until"]) for c in certs if c["certificate_no"] == number] \
        == [(number, _day(10))]
