"""Every shipped notification template, rendered against the real events the running
services publish, in zh and en, shows no empty or missing value (issue 17: "工单 TS…（）已指派
给您。标题：\\n产品："). sla_warning / sla_breached are checked on the real events in
tests/test_sla.py; the digest and webhook_disabled messages in tests/test_notify.py; the leftover
messages in tests/test_leftovers.py."""
import time
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from services.notify import templates
from tests.support.system import Api
from tests.support.templates import render_for
from tests.test_flows import PDF, field_service, now, wait_for  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration

SOURCES = ("intake", "dispatch", "gateway")
ELSEWHERE = {"sla_warning", "sla_breached", "digest", "webhook_disabled", "follow_up_due",
             "leftover_assigned", "leftover_overdue"}  # tests/test_leftovers.py


class Tap:
    """A queue of our own bound to every event of the given services."""

    def __init__(self, amqp_uri):
        self.conn = Connection(amqp_uri)
        for source in SOURCES:  # declared by each publisher too (same kind): idempotent
            Exchange(f"{source}.events", type="topic", durable=True)(self.conn.channel()).declare()
        self.queue = Queue("test-tpl-" + uuid.uuid4().hex[:8], exclusive=True, auto_delete=True,
                           bindings=[Exchange(f"{s}.events", type="topic", durable=True)
                                     .binding(routing_key="#") for s in SOURCES])
        self.simple = self.conn.SimpleQueue(self.queue)
        self.seen = []

    def drain(self, until, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until(self.seen):
            try:
                msg = self.simple.get(timeout=0.3)
            except Exception:  # noqa: BLE001 - kombu's Empty
                continue
            msg.ack()
            self.seen.append(msg.payload)
        return self.seen

    def close(self):
        self.simple.close()
        self.conn.release()


def test_every_shipped_template_renders_whole_from_real_events(
        system, admin, make_user, new_ticket, field_service):
    tap = Tap(system.amqp_uri)
    try:
        company, boss, engineer, _ = field_service
        second = make_user("engineer", company=company)
        assert admin.put(f"/engineers/{second.user['id']}", {
            "provider_id": company["id"], "skills": [field_service.line]}).status_code == 200
        assert admin.post(f"/engineers/{second.user['id']}/certifications", {
            "product_line": field_service.line, "certificate_no": "C2-" + second.user["id"][:8],
            "valid_from": "2020-01-01", "valid_until": "2099-01-01"}).status_code == 201
        customer, agent = make_user(lang="zh"), make_user("agent")
        t = new_ticket(customer, type="repair", title="存储设备无法启动",
                       product=field_service.product, impact="company", urgency="critical")
        tid = t["id"]
        dup = new_ticket(customer, type="repair", title="存储设备无法启动（重复）",
                         product=field_service.product)
        assert agent.post(f"/tickets/{dup['id']}/merge", {"into": tid, "reason": "同一设备"}) \
            .status_code == 200
        assert agent.post(f"/tickets/{tid}/comments", {"body": "请提供日志"}).status_code == 201
        assert agent.post(f"/tickets/{tid}/request-info", {"reason": "缺少设备 SN"}) \
            .status_code == 200
        assert customer.post(f"/tickets/{tid}/provide-info", {"comment": "SN 见附件"}) \
            .status_code == 200
        assert agent.post(f"/tickets/{tid}/assign", {"engineer_id": engineer.user["id"]}) \
            .status_code == 200
        wait_for(engineer, tid, lambda x: x.get("status") == "assigned", seconds=60)
        assert customer.post(f"/tickets/{tid}/comments", {"body": "急，请尽快"}).status_code == 201
        assert agent.post(f"/tickets/{tid}/reassign", {
            "engineer_id": second.user["id"], "reason": "就近安排"}).status_code == 200
        wait_for(second, tid, lambda x: x.get("handler_id") == second.user["id"], seconds=60)
        assert second.post(f"/tickets/{tid}/start").status_code == 200
        assert second.post(f"/tickets/{tid}/attachments", params={"kind": "onsite_report"},
                           files={"file": ("现场服务报告.pdf", PDF)}).status_code == 201
        assert second.post(f"/tickets/{tid}/resolve", {
            "root_cause": "hardware_failure", "description": "更换电源模块", "completed_at": now(),
            "visited_at": t["created_at"]}).status_code == 200
        assert agent.post(f"/tickets/{tid}/close", {}).status_code == 200
        # one star: the low-rating alert
        assert customer.post(f"/tickets/{tid}/rating", {
            "product_score": 4, "service_score": 1, "comment": "响应太慢"}).status_code == 201
        # an installation on a product line nobody is certified for: automatic dispatch fails
        lonely = "X-" + uuid.uuid4().hex[:8]
        assert admin.post("/admin/products", {"code": lonely, "name": "无人认证的设备",
                                              "product_line": lonely.lower()}).status_code == 201
        new_ticket(customer, type="installation", title="新设备上架", product=lonely)
        # five wrong passwords lock an account
        locked = make_user()
        for _ in range(5):
            Api(system.base_url).post("/auth/login", {"login": locked.user["phone"],
                                                      "password": "wrong-password"})
        # a forgotten password: the link is mailed
        forgetful = make_user()
        assert Api(system.base_url).post("/auth/password-reset", {
            "login": forgetful.user["email"]}).status_code == 202
        wanted = set(templates.KINDS) - ELSEWHERE
        kinds = set()

        def done(seen):
            for envelope in seen[len(done.checked):]:
                kinds.update(render_for(envelope))
            done.checked = list(seen)
            return kinds >= wanted
        done.checked = []
        tap.drain(done, seconds=60)
        assert kinds >= wanted, wanted - kinds
    finally:
        tap.close()
