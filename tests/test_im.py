"""Issue 13's IM and internal-systems parts with every service running:

- a service token with `tickets:create` files an installation ticket for a customer company
  it is allowed for, and the ticket dispatches itself; another company, or a token without
  the scope, is refused with a clear 403;
- WeCom, DingTalk and Feishu group robots of a customer company post its ticket notices to
  a local receiver that verifies each platform's signature and message shape; a failure is
  retried and the delivery log shows every attempt;
- an IM bridge's signed message: an unbound user gets instructions, a user binds with the
  portal's code, then opens a ticket and replies as themselves.

notify is restarted for this module with 127.0.0.1 allowed by the SSRF policy and short
backoffs (as tests/test_notify.py does), and put back afterwards.
"""
import json
import time

import pytest
import requests

from gongdan_common import signing
from services.notify.tests.robot_receiver import RobotReceiver
from tests.conftest import unique
from tests.test_flows import field_service  # noqa: F401 - fixture: a line, a certified engineer
from tests.test_notify import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def receiver(system):
    srv = RobotReceiver().start()
    system.stop_service("notify")
    system.start_service("notify", NOTIFY_WEBHOOK_ALLOW_NETWORKS="127.0.0.1/32",
                         NOTIFY_BACKOFF_BASE="0.3", NOTIFY_BACKOFF_CAP="1.5",
                         NOTIFY_POLL_INTERVAL="0.2", GONGDAN_PUBLIC_URL="http://gongdan.test")
    system.wait_service("notify")
    yield srv
    srv.shutdown()
    system.stop_service("notify")  # back to the configuration the other modules expect
    system.start_service("notify")
    system.wait_service("notify")


def service_api(system, token):
    from tests.support.system import Api
    return Api(system.base_url, token=token)


INSTALL = {"title": "新机房存储安装", "type": "installation", "category": "installation",
           "description": "服务系统下发的安装工单：两台存储节点上架与初始化",
           "contact_phone": "13800138000"}


def test_service_token_files_for_allowed_companies_only(system, admin, make_company,  # noqa: F811
                                                        make_user, field_service):
    product, engineer = field_service.product, field_service.good
    allowed, other = make_company(), make_company()
    r = admin.post("/admin/service-tokens", {"name": unique("crm-"),
                                             "scopes": ["tickets:create", "tickets:read"],
                                             "companies": [allowed["id"]]})
    assert r.status_code == 201, r.text
    token = r.json()
    assert token["companies"] == [allowed["id"]]
    crm = service_api(system, token["token"])
    r = crm.post("/tickets", dict(INSTALL, product=product, company_id=allowed["id"],
                                  company_name="(ignored: the gateway names it)"))
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["company_id"] == allowed["id"] and ticket["company_name"] == allowed["name"]
    # it dispatches itself, as installation tickets do
    wait_until(lambda: crm.get(f"/tickets/{ticket['id']}").json().get("handler_id")
               == engineer.user["id"], what="automatic installation dispatch")
    # the company's admin sees it
    boss = make_user("customer_admin", company=allowed)
    assert boss.get(f"/tickets/{ticket['id']}").status_code == 200
    # another company: refused, in both languages
    for lang, word in (("en", "may not open tickets for that company"), ("zh", "无权为该企业")):
        r = crm.post("/tickets", dict(INSTALL, product=product, company_id=other["id"]),
                     headers={"Accept-Language": lang})
        assert r.status_code == 403 and r.json()["error"]["code"] == "company_not_allowed"
        assert word in r.json()["error"]["message"]
    r = crm.post("/tickets", dict(INSTALL, product=product, company_id="no-such-company"))
    assert r.status_code == 403  # the same answer: ids cannot be probed
    r = crm.post("/tickets", dict(INSTALL, product=product))
    assert r.status_code == 400 and r.json()["error"]["code"] == "company_required"
    # tickets:write alone (what an internal system had before) lacks the scope
    r = admin.post("/admin/service-tokens", {"name": unique("old-"), "scopes": ["tickets:write"],
                                             "companies": [allowed["id"]]})
    writer = service_api(system, r.json()["token"])
    r = writer.post("/tickets", dict(INSTALL, product=product, company_id=allowed["id"]),
                    headers={"Accept-Language": "zh"})
    assert r.status_code == 403 and "tickets:create" in r.json()["error"]["message"]
    # the admin widens the token; the next request may file for the other company too
    r = admin.patch(f"/admin/service-tokens/{token['id']}",
                    {"companies": [allowed["id"], other["id"]]})
    assert r.status_code == 200, r.text
    r = crm.post("/tickets", dict(INSTALL, product=product, company_id=other["id"]))
    assert r.status_code == 201, r.text
    # bad input: a provider is not a customer company; an unknown token id
    provider = make_company("provider")
    r = admin.patch(f"/admin/service-tokens/{token['id']}", {"companies": [provider["id"]]})
    assert r.status_code == 400
    assert admin.patch("/admin/service-tokens/nope", {"companies": []}).status_code == 404
    assert boss.patch(f"/admin/service-tokens/{token['id']}", {"companies": []}) \
        .status_code == 403


def test_group_robots_post_signed_messages_retry_and_log(system, admin, make_company,
                                                         make_user, new_ticket, receiver):
    company = make_company()
    boss = make_user("customer_admin", company=company)
    customer = make_user(company=company)
    base = receiver.base()
    receiver.keys["/wecom/send"] = "wk-" + company["id"][:8]
    receiver.secrets["/dingtalk/send"] = "SEC-ding-" + company["id"][:8]
    receiver.secrets["/feishu/hook/" + company["id"]] = "fs-" + company["id"][:8]
    receiver.fail["/feishu/hook/" + company["id"]] = 2  # two 500s before it takes one
    made = {}
    for platform, url, secret in (
            ("wecom", f"{base}/wecom/send?key=wk-{company['id'][:8]}", None),
            ("dingtalk", f"{base}/dingtalk/send?access_token=at-1",
             "SEC-ding-" + company["id"][:8]),
            ("feishu", f"{base}/feishu/hook/{company['id']}", "fs-" + company["id"][:8])):
        r = boss.post("/robots", {"platform": platform, "name": f"{platform} 群", "url": url,
                                  "secret": secret, "language": "both"})
        assert r.status_code == 201, r.text
        made[platform] = r.json()
        assert "***" in r.json()["url"]
    # nobody else's: a customer may not, another company's admin sees none of them
    assert customer.get("/robots").status_code == 403
    stranger = make_user("customer_admin")
    assert stranger.get("/robots").json()["items"] == []
    assert stranger.get(f"/robots/{made['wecom']['id']}").status_code == 404
    ticket = new_ticket(customer, title="机器人通知测试")
    for prefix in ("/wecom/send", "/dingtalk/send", "/feishu/hook/" + company["id"]):
        calls = wait_until(lambda: [c for c in receiver.calls_to(prefix)
                                    if c["status"] == 200 and ticket["number"] in
                                    json.dumps(c["body"], ensure_ascii=False)],
                           what=f"a delivered message at {prefix}")
        assert all(c["ok"] for c in receiver.calls_to(prefix)), receiver.calls_to(prefix)
        assert "机器人通知测试" in json.dumps(calls[0]["body"], ensure_ascii=False)
    log = wait_until(lambda: [d for d in boss.get(f"/robots/{made['feishu']['id']}/deliveries")
                              .json()["items"] if d["status"] == "sent"],
                     what="the feishu delivery recorded as sent")
    assert [a["status_code"] for a in log[0]["log"]] == [500, 500, 200]
    # the test button goes through the same loop
    assert boss.post(f"/robots/{made['wecom']['id']}/test").status_code == 202
    wait_until(lambda: any("配置成功" in json.dumps(c["body"], ensure_ascii=False)
                           for c in receiver.calls_to("/wecom/send")), what="the test message")
    # bad input through HTTP: unknown platform, a private address
    r = boss.post("/robots", {"platform": "qq", "name": "x", "url": f"{base}/x"},
                  headers={"Accept-Language": "zh"})
    assert r.status_code == 400 and "platform" in r.json()["error"]["details"]["fields"]
    r = boss.post("/robots", {"platform": "wecom", "name": "x", "url": "http://10.1.2.3/x"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "webhook_url_refused"
    assert boss.delete(f"/robots/{made['dingtalk']['id']}").status_code == 204
    assert boss.get(f"/robots/{made['dingtalk']['id']}").status_code == 404


def signed_post(system, channel, secret, body, ts=None, lang=None):
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json",
               "Gongdan-Signature": signing.signature_header(secret, ts or int(time.time()),
                                                             raw)}
    if lang:
        headers["Accept-Language"] = lang
    return requests.post(f"{system.base_url}/api/v1/channels/{channel}/messages", data=raw,
                         headers=headers, timeout=60)


def test_im_bridge_binding_then_tickets_and_replies(system, admin, make_company, make_user,
                                                    product):
    channel = unique("wecom-").lower()
    r = admin.put(f"/admin/im-bridges/{channel}", {"default_product": product})
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    company = make_company()
    customer = make_user(company=company)
    im_user = unique("wx-")

    def say(text, **extra):
        return signed_post(system, channel, secret, dict(
            {"message_id": unique("m-"), "user_id": im_user, "text": text}, **extra))

    # signatures: missing, wrong, stale, unknown channel - clear 401/404 JSON
    body = {"message_id": "x", "user_id": im_user, "text": "hi"}
    r = requests.post(f"{system.base_url}/api/v1/channels/{channel}/messages", json=body,
                      timeout=60)
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_invalid"
    assert signed_post(system, channel, "wrong", body).status_code == 401
    r = signed_post(system, channel, secret, body, ts=int(time.time()) - 3600, lang="zh")
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_stale"
    assert "时钟" in r.json()["error"]["message"]
    assert signed_post(system, "no-such-channel", secret, body).status_code == 404
    r = signed_post(system, channel, secret, {"message_id": "x", "user_id": im_user})
    assert r.status_code == 400 and "text" in r.json()["error"]["details"]["fields"]
    # unbound: instructions, nothing created
    before = customer.get("/tickets").json()["total"]
    r = say("服务器无法启动")
    assert r.status_code == 200 and r.json()["action"] == "unbound", r.text
    assert "IM" in r.json()["reply"]["zh"] and "IM" in r.json()["reply"]["en"]
    # the customer binds on the portal; the code comes back through the IM bridge
    r = customer.post("/me/im-bindings", {"channel": channel, "im_user_id": im_user})
    assert r.status_code == 201, r.text
    assert say("服务器无法启动").json()["action"] == "unbound"  # pending can do nothing
    assert say(f"bind {r.json()['code']}").json()["action"] == "bound"
    assert [b["status"] for b in customer.get("/me/im-bindings").json()["items"]] == \
        ["confirmed"]
    # now a message opens a ticket as the customer, and a reply naming it lands on it
    r = say("服务器无法启动\n开机后风扇狂转，无显示")
    assert r.status_code == 200 and r.json()["action"] == "ticket_created", r.text
    number = r.json()["ticket"]["number"]
    ticket = customer.get(f"/tickets/{r.json()['ticket']['id']}").json()
    assert ticket["submitter_id"] == customer.user["id"] and ticket["title"] == "服务器无法启动"
    assert customer.get("/tickets").json()["total"] == before + 1
    r = say(f"补充 {number}：更换电源后依旧")
    assert r.json()["action"] == "replied", r.text
    comments = customer.get(f"/tickets/{ticket['id']}").json()["comments"]
    assert [c["body"] for c in comments][-1] == f"补充 {number}：更换电源后依旧"
    assert comments[-1]["author_id"] == customer.user["id"]
    # a ticket that is not theirs: refused as on the portal (404), nothing written
    other = make_user()
    theirs = other.post("/tickets", {"title": "别人的工单", "type": "consult", "product": product,
                                     "category": "consultation", "description": "x",
                                     "contact_phone": "13800138000"}).json()
    r = say("reply", reply_to=theirs["number"])
    assert r.status_code == 404
    assert other.get(f"/tickets/{theirs['id']}").json()["comments"] == []
    # unbinding ends it
    binding = customer.get("/me/im-bindings").json()["items"][0]
    assert customer.delete(f"/me/im-bindings/{binding['id']}").status_code == 204
    assert say("还在吗").json()["action"] == "unbound"
