"""SLA over HTTP with every service running: bad input, the preview, then one ticket's
response clock through pause/resume, a priority change (spent and paused time kept), the
warning with two sla instances running (published once, within a second), the breach while
sla is down (fires once after the restart), the escalation raising the priority in intake,
the list filter / sort by nearest breach, the report and the dry run.

Targets are seconds long (fractional minutes on a 24x7 calendar) so the flow takes about
half a minute per database backend."""
import datetime as dt
import secrets
import time

import pytest
from kombu import Connection, Exchange, Queue, binding

from tests.support.templates import render_for
from tests.test_flows import wait_for

pytestmark = pytest.mark.integration


def instant(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class SlaListener:
    """A queue of our own on `sla.events` for sla_warning and sla_breached."""

    def __init__(self, amqp_uri):
        self.conn = Connection(amqp_uri)
        exchange = Exchange("sla.events", type="topic", durable=True)
        queue = Queue("test-sla-" + secrets.token_hex(4), exclusive=True, auto_delete=True,
                      bindings=[binding(exchange, routing_key=k)
                                for k in ("sla_warning", "sla_breached")])
        self.simple = self.conn.SimpleQueue(queue)
        self.seen = []

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                msg = self.simple.get(timeout=0.3)
            except Exception:  # noqa: BLE001 - kombu's Empty
                continue
            msg.ack()
            self.seen.append((time.time(), msg.payload))

    def wait(self, ticket_id, type_, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.of(ticket_id, type_)
            if found:
                return found
            self.drain(0.5)
        raise AssertionError(f"no {type_} for {ticket_id}: {self.seen}")

    def of(self, ticket_id, type_):
        return [(t, p) for t, p in self.seen
                if p["type"] == type_ and p["data"]["ticket_id"] == ticket_id]

    def close(self):
        self.simple.close()
        self.conn.release()


def test_bad_input_and_preview(admin, make_user):
    zh = admin.__class__(admin.base_url, token=admin.token, lang="zh")
    for body, code in (
            ({"hours": {"mon": [["09:00", "12:00"], ["11:30", "14:00"]]}}, "overlapping_hours"),
            ({"hours": {"mon": [["18:00", "09:00"]]}}, "inverted_hours"),
            ({"tz": "Asia/Atlantis", "always_open": True}, "unknown_time_zone"),
            ({"hours": {"mon": [["9am", "5pm"]]}}, "validation_failed")):
        r = zh.post("/admin/sla/calendars", dict(body, name="bad"))
        assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text
    r = zh.post("/admin/sla/calendars", {"name": "bad", "hours": {"mon": [["18:00", "09:00"]]}})
    assert "早于" in r.json()["error"]["message"]
    # the refusal names the field it concerns, as validation errors do (forms show it there)
    error = r.json()["error"]
    assert error["details"]["fields"] == {"hours": {"mon": [error["message"]]}}
    base = {"name": "bad", "calendar_id": "cal-24x7"}
    for body, code in (({"response_minutes": 0}, "validation_failed"),
                       ({"response_minutes": -1}, "validation_failed"),
                       ({"response_minutes": 5, "priority": "P7"}, "policy_matches_nothing"),
                       ({}, "policy_without_target"),
                       ({"response_minutes": 5, "calendar_id": "no-such"},
                        "calendar_not_found")):
        r = admin.post("/admin/sla/policies", dict(base, **body))
        assert r.status_code in (400, 404) and r.json()["error"]["code"] == code, r.text
    customer = make_user()
    assert customer.post("/admin/sla/policies", dict(base, response_minutes=5)) \
        .status_code == 403
    assert customer.get("/admin/sla/policies").status_code == 403

    # the preview: stored China calendar across National Day 2025, and an inline one
    r = customer.post("/sla/preview", {"calendar_id": "cal-china-business",
                                       "start": "2025-09-30T09:30:00Z", "minutes": 60})
    assert r.status_code == 200 and r.json()["due_at"] == "2025-10-09T01:30:00Z", r.text
    r = admin.post("/sla/preview", {"calendar": {"tz": "Europe/Berlin", "hours": {
        "fri": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]}},
        "start": "2025-10-24T14:00:00Z", "end": "2025-10-27T09:00:00Z"})
    # Fri 16:00-17:00 CEST, then Mon 09:00-10:00 CET (the clocks went back on Sunday)
    assert r.status_code == 200 and r.json()["business_minutes"] == 120, r.text
    r = admin.post("/sla/preview", {"calendar": {"tz": "Asia/Shanghai"}, "start": "x"})
    assert r.status_code == 400
    # issue 17: the shipped policies follow the support guide (docs/sla.md): every level has
    # a resolution target; P1 is wall-clock (24x7), P4's "24 h" is one business day
    shipped = {p["id"]: p for p in admin.get("/admin/sla/policies").json()["items"]
               if p["id"].startswith("pol-default-")}
    assert {pid: (p["calendar_id"], p["response_minutes"], p["resolution_minutes"])
            for pid, p in shipped.items()} == {
        "pol-default-p1": ("cal-24x7", 15, 1440),
        "pol-default-p2": ("cal-china-business", 30, 960),
        "pol-default-p3": ("cal-china-business", 60, 2400),
        "pol-default-p4": ("cal-china-business", 480, 4800)}
    # issue 17: +N business days (end of the Nth working day; National Day is off), long
    # durations, a zero duration outside hours (start itself), a reversed interval (negative)
    china = {"calendar_id": "cal-china-business"}
    r = customer.post("/sla/preview", dict(china, start="2025-09-30T09:30:00+08:00",
                                           business_days=1))
    assert r.json()["due_at_local"] == "2025-10-09T18:00:00+08:00", r.text
    r = customer.post("/sla/preview", dict(china, start="2025-09-30T01:30:00Z",
                                           minutes=400 * 24 * 60))
    assert r.status_code == 200 and r.json()["due_at"] > "2029-", r.text
    r = customer.post("/sla/preview", dict(china, start="2025-10-04T03:00:00Z", minutes=0))
    assert r.json()["due_at"] == "2025-10-04T03:00:00Z", r.text
    r = customer.post("/sla/preview", dict(china, start="2025-09-30T06:00:00Z",
                                           end="2025-09-30T02:00:00Z"))
    assert r.json()["business_minutes"] == -180, r.text  # 10:00-12:00 and 13:00-14:00
    for bad in ({"business_days": 0}, {"business_days": 1, "minutes": 5}, {"minutes": 1e9}):
        r = customer.post("/sla/preview", dict(china, start="2025-09-30T01:30:00Z", **bad))
        assert r.status_code == 400, r.text


def test_clock_pause_priority_warning_restart_breach_escalation(
        system, admin, make_user, new_ticket):
    customer = make_user()
    agent = make_user("agent")
    company = customer.company["id"]
    r = admin.post("/admin/sla/calendars", {"name": "24x7-" + secrets.token_hex(3),
                                            "tz": "Asia/Shanghai", "always_open": True})
    assert r.status_code == 201, r.text
    calendar = r.json()["id"]
    fast = admin.post("/admin/sla/policies", {
        "name": "fast-" + secrets.token_hex(3), "company_id": company, "calendar_id": calendar,
        "response_minutes": 0.15, "resolution_minutes": 600, "update_minutes": 600,
        "warn_share": 0.5, "escalation": {"action": "raise_priority"}})
    assert fast.status_code == 201, fast.text
    slow = admin.post("/admin/sla/policies", {
        "name": "slow-" + secrets.token_hex(3), "company_id": company, "priority": "P4",
        "calendar_id": calendar, "response_minutes": 10, "resolution_minutes": 600})
    assert slow.status_code == 201, slow.text

    listener = SlaListener(system.amqp_uri)
    system.start_service("sla", label="sla-2")  # two instances from here on
    try:
        ticket = new_ticket(customer, impact="individual", urgency="low")   # P4: slow
        other = new_ticket(customer, impact="individual", urgency="low")
        tid = ticket["id"]

        def sla():
            deadline = time.monotonic() + 15
            while True:
                r = agent.get(f"/tickets/{tid}/sla")
                if r.status_code == 200 or time.monotonic() > deadline:
                    assert r.status_code == 200, r.text
                    return r.json(), {c["target"]: c for c in r.json()["clocks"]}
                time.sleep(0.2)

        body, clocks = sla()
        assert set(clocks) == {"response", "resolution"}
        assert clocks["response"]["state"] == "running"
        assert clocks["response"]["target_minutes"] == 10
        created = instant(ticket["created_at"])
        assert abs(instant(clocks["response"]["due_at"]) - created
                   - dt.timedelta(minutes=10)) < dt.timedelta(seconds=2)
        assert customer.get(f"/tickets/{tid}/sla").status_code == 200
        assert make_user().get(f"/tickets/{tid}/sla").status_code == 404  # not theirs

        # needs_info pauses, providing it resumes
        assert agent.post(f"/tickets/{tid}/request-info", {"reason": "请提供日志"}) \
            .status_code == 200
        deadline = time.monotonic() + 10
        while sla()[1]["response"]["state"] != "paused" and time.monotonic() < deadline:
            time.sleep(0.2)
        paused = sla()[1]["response"]
        assert paused["state"] == "paused" and paused["paused"] and paused["due_at"] is None
        time.sleep(1.5)
        assert customer.post(f"/tickets/{tid}/provide-info", {"comment": "日志已上传"}) \
            .status_code == 200

        # P4 -> P3: the fast policy applies, keeping what was spent and paused
        r = agent.patch(f"/tickets/{tid}", {"priority": "P3", "reason": "影响扩大"})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 10
        while sla()[1]["response"]["target_minutes"] != 0.15 and time.monotonic() < deadline:
            time.sleep(0.2)
        response = sla()[1]["response"]
        assert response["target_minutes"] == 0.15 and response["state"] == "running"
        assert response["paused_minutes"] >= 1.4 / 60
        assert response["spent_minutes"] > 0
        # due = now + what is left of the 9 s, i.e. created + 9 s + the paused time
        due = instant(response["due_at"])
        assert due > created + dt.timedelta(seconds=9 + 1.4)

        # the warning (50%) fires once across both instances, within a second
        (arrived, warning), = listener.wait(tid, "sla_warning", 15)
        assert warning["data"]["target"] == "response"
        assert render_for(warning) == {"sla_warning"}  # its message shows every value
        assert arrived - instant(warning["data"]["warned_at"]).timestamp() < 1.0

        # both sla instances go down before the breach; the restarted one fires it
        system.stop_service("sla-2")
        system.stop_service("sla")
        wait_s = (due - dt.datetime.now(dt.timezone.utc)).total_seconds() + 0.5
        time.sleep(max(wait_s, 0))
        system.start_service("sla")
        system.wait_service("sla")
        (_, breach), = listener.wait(tid, "sla_breached", 20)
        assert breach["data"]["escalation"]["action"] == "raise_priority"
        assert breach["data"]["priority"] == "P3"
        assert render_for(breach) == {"sla_breached"}

        # escalation: intake raises the priority; sla recomputes, no second breach notice
        wait_for(agent, tid, lambda t: t["priority"] == "P2")
        deadline = time.monotonic() + 10
        while sla()[0]["priority"] != "P2" and time.monotonic() < deadline:
            time.sleep(0.2)
        body, clocks = sla()
        assert clocks["response"]["breached"] and body["priority"] == "P2"

        # lists: filter by breach, sort by the nearest due time
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            page = agent.get("/tickets", params={"sla_breached": "true",
                                                 "company_id": company}).json()
            if [i["id"] for i in page["items"]] == [tid]:
                break
            time.sleep(0.3)
        assert [i["id"] for i in page["items"]] == [tid], page
        ordered = agent.get("/tickets", params={"sort": "sla_due_at",
                                                "company_id": company}).json()["items"]
        assert [i["id"] for i in ordered] == [tid, other["id"]]
        assert ordered[0]["sla_breached"] and ordered[1]["sla_due_at"]

        # the update interval: the first public staff reply starts its first cycle
        assert agent.post(f"/tickets/{tid}/comments",
                          {"body": "正在排查 / investigating"}).status_code == 201
        deadline = time.monotonic() + 10
        while sla()[1]["update"]["cycle"] != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        update = sla()[1]["update"]
        assert update["state"] == "running" and update["target_minutes"] == 600, update
        assert abs(instant(update["due_at"]) - instant(update["cycle_started_at"])
                   - dt.timedelta(minutes=600)) < dt.timedelta(seconds=1)

        # report and dry run; days are the business time zone's (Asia/Shanghai)
        by_day = agent.get("/reports/sla", params={"group_by": "day", "target": "response",
                                                   "created_from": ticket["created_at"]})
        local_day = instant(ticket["created_at"]).astimezone(
            dt.timezone(dt.timedelta(hours=8))).date().isoformat()
        assert by_day.json()["tz"] == "Asia/Shanghai"
        assert local_day in [row["group"] for row in by_day.json()["rows"]], by_day.text
        report = agent.get("/reports/sla", params={"group_by": "priority",
                                                   "target": "response"}).json()
        assert any(row["breached"] >= 1 for row in report["rows"]), report
        assert agent.get("/reports/sla", params={"group_by": "colour"}).status_code == 400
        dry = admin.post("/admin/sla/dry-run", {"policy_id": fast.json()["id"],
                                                "changes": {"response_minutes": 60},
                                                "created_from": ticket["created_at"]})
        assert dry.status_code == 200 and dry.json()["no_longer_breached"] >= 1, dry.text

        listener.drain(1.5)
        assert len(listener.of(tid, "sla_warning")) == 1
        assert len(listener.of(tid, "sla_breached")) == 1
    finally:
        listener.close()
        system.stop_service("sla-2")
        if "sla" not in system.procs:
            system.start_service("sla")
            system.wait_service("sla")
