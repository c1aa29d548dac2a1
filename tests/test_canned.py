"""Canned replies and "someone else is replying", over HTTP with the real system: scopes,
variables filled per ticket, unknown variables refused at save time; presence delivered only
to people who may open the ticket, internal-note typing never to customers."""
import json
import threading
import time

import pytest
import requests

from tests.test_notify import wait_until

pytestmark = pytest.mark.integration


def test_canned_replies_scopes_and_variables(system, admin, make_user, new_ticket,
                                             make_field_service):
    agent, other_agent, customer = make_user("agent"), make_user("agent"), make_user()
    fs = make_field_service(lapsed=False)
    ticket = new_ticket(customer, title="打印机卡纸", contact_name="王五")

    r = agent.post("/canned-replies", {
        "title": "收到", "scope": "desk",
        "body_zh": "{customer_name} 您好，工单 {ticket_number}「{title}」已收到（{company_name}）。",
        "body_en": "Hello {customer_name}, we got ticket {ticket_number} ({title})."})
    assert r.status_code == 201, r.text
    shared = r.json()
    mine = agent.post("/canned-replies", {"title": "私人", "body_en": "Regards, {engineer_name}!"})
    assert mine.status_code == 201 and mine.json()["scope"] == "personal"
    mine = mine.json()

    # filled for the ticket, in the language asked for (or the one the reply has)
    r = agent.post(f"/tickets/{ticket['number']}/canned-replies/{shared['id']}/render",
                   {"language": "zh"})
    assert r.status_code == 200, r.text
    assert r.json()["body"] == (f"王五 您好，工单 {ticket['number']}「打印机卡纸」已收到"
                                f"（{customer.company['name']}）。")
    en = agent.post(f"/tickets/{ticket['id']}/canned-replies/{shared['id']}/render",
                    {"language": "en"}).json()
    assert en["language"] == "en" and ticket["number"] in en["body"]
    only_en = agent.post(f"/tickets/{ticket['id']}/canned-replies/{mine['id']}/render",
                         {"language": "zh"}).json()
    assert only_en["language"] == "en" and only_en["body"] == "Regards, !"  # nobody assigned

    # who sees what: personal for its owner, desk for agents, provider for its people
    assert {c["id"] for c in other_agent.get("/canned-replies").json()["items"]} >= {shared["id"]}
    assert mine["id"] not in {c["id"] for c in other_agent.get("/canned-replies").json()["items"]}
    assert other_agent.patch(f"/canned-replies/{mine['id']}", {"title": "x"}).status_code == 404
    assert fs.engineer.get("/canned-replies").json()["items"] == []
    r = fs.boss.post("/canned-replies", {"title": "上门", "scope": "provider",
                                         "body_zh": "工程师 {engineer_name} 将上门。"})
    assert r.status_code == 201, r.text
    assert [c["title"] for c in fs.engineer.get("/canned-replies").json()["items"]] == ["上门"]
    assert fs.boss.get("/canned-replies").json()["items"][0]["editable"] is True
    assert fs.engineer.get("/canned-replies").json()["items"][0]["editable"] is False
    assert fs.engineer.post("/canned-replies", {"title": "x", "scope": "desk",
                                                "body_zh": "y"}).status_code == 403
    assert customer.get("/canned-replies").status_code == 403
    r = admin.post("/canned-replies", {"title": "x", "scope": "provider", "body_zh": "y"})
    assert r.status_code == 400 and "provider_id" in r.json()["error"]["details"]["fields"]
    r = admin.post("/canned-replies", {"title": "全体服务商", "scope": "provider", "body_zh": "y",
                                       "provider_id": fs.company["id"]})
    assert r.status_code == 201 and r.json()["provider_id"] == fs.company["id"]
    assert customer.post(f"/tickets/{ticket['id']}/canned-replies/{shared['id']}/render",
                         {}).status_code == 403

    # unknown variables and empty bodies are refused at save time, in both languages
    for lang, words in (("zh", "未知的变量"), ("en", "Unknown variable")):
        r = agent.post("/canned-replies", {"title": "坏", "body_zh": "您好 {customer} {title}"},
                       headers={"Accept-Language": lang})
        assert r.status_code == 400, r.text
        msg = r.json()["error"]["details"]["fields"]["body_zh"][0]
        assert words in msg and "{customer}" in msg
    assert agent.post("/canned-replies", {"title": "空"}).status_code == 400
    assert agent.patch(f"/canned-replies/{shared['id']}",
                       {"body_en": "{oops}"}).status_code == 400

    # change, search, delete
    r = agent.patch(f"/canned-replies/{shared['id']}", {"title": "已收到"})
    assert r.status_code == 200 and r.json()["title"] == "已收到"
    assert [c["id"] for c in agent.get("/canned-replies", params={"q": "已收到"}).json()["items"]] \
        == [shared["id"]]
    assert agent.delete(f"/canned-replies/{mine['id']}").json()["deleted"] is True
    assert agent.delete(f"/canned-replies/{mine['id']}").status_code == 404


class Listener:
    """One presence stream, read in a thread; `seen` is every presence payload so far."""

    def __init__(self, system, api, ticket_id):
        self.seen, self.done = [], threading.Event()
        self.response = requests.get(
            f"{system.base_url}/api/v1/tickets/{ticket_id}/presence",
            params={"access_token": api.token}, stream=True, timeout=30)
        self.status = self.response.status_code
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):  # closes the stream itself (at its next line) once told to stop
        with self.response:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("data: "):
                    self.seen.append(json.loads(line[6:])["replying"])
                if self.done.is_set():
                    return

    def names(self):
        return {r["name"] for r in (self.seen[-1] if self.seen else [])}

    def close(self):
        self.done.set()


def test_presence_reaches_only_people_who_may_open_the_ticket(system, make_user, new_ticket):
    customer, stranger = make_user(), make_user()
    agent, other_agent = make_user("agent"), make_user("agent")
    ticket = new_ticket(customer)
    me = agent.get("/me").json()["name"]

    assert Listener(system, stranger, ticket["id"]).status == 404
    r = stranger.post(f"/tickets/{ticket['id']}/presence", {"replying": True})
    assert r.status_code == 404
    assert agent.post(f"/tickets/{ticket['id']}/presence", {"replying": "maybe"}).status_code == 400

    watch_customer = Listener(system, customer, ticket["id"])
    watch_agent = Listener(system, other_agent, ticket["id"])
    try:
        wait_until(lambda: watch_customer.seen and watch_agent.seen, what="both streams open")
        # an internal note being typed: staff see it, the customer does not
        assert agent.post(f"/tickets/{ticket['id']}/presence",
                          {"replying": True, "internal": True}).status_code == 200
        wait_until(lambda: me in watch_agent.names(), what="the agent told")
        time.sleep(1.5)
        assert me not in watch_customer.names()
        assert watch_agent.seen[-1][0]["internal"] is True
        # a public reply: both see it, and "done" clears it
        started = time.monotonic()
        agent.post(f"/tickets/{ticket['id']}/presence", {"replying": True, "internal": False})
        wait_until(lambda: me in watch_customer.names(), what="the customer told")
        # the stream polls the store every second: shown within about that
        print(f"presence shown after {time.monotonic() - started:.2f} s")
        assert time.monotonic() - started < 5
        r = customer.post(f"/tickets/{ticket['id']}/presence", {"replying": True,
                                                                 "internal": True})
        assert r.status_code == 200 and [x["name"] for x in r.json()["replying"]] == [me]
        wait_until(lambda: any(x["internal"] is False and x["name"] != me
                               for x in (watch_agent.seen[-1] if watch_agent.seen else [])),
                   what="the customer's typing, never internal")
        agent.post(f"/tickets/{ticket['id']}/presence", {"replying": False})
        wait_until(lambda: me not in watch_customer.names(), what="cleared")
    finally:
        watch_customer.close()
        watch_agent.close()
