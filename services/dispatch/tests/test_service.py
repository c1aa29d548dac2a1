"""Dispatch's registry through the real service container over RPC (RabbitMQ), on SQLite and
PostgreSQL: the calls demo data will make, the dict shapes callers get back, the
engineer_certified event on `dispatch.events`, and bad input as AppErrors."""
import datetime as dt
import secrets
import zoneinfo

import pytest
from kombu import Connection, Exchange, Queue

from gongdan_common.errors import AppError
from gongdan_common.events import utcnow
from services.dispatch.service import DispatchService

from .conftest import ADMIN, AGENT, provider_admin

DAY = dt.timedelta(days=1)


def status(err):
    """nameko 2.14 turns the ints in an exception's args into strings on the wire
    (`safe_for_serialization`): over RPC an AppError's status arrives as "404"."""
    return int(err.value.status)


@pytest.fixture
def dispatch(start_service, rpc_proxy):
    start_service(DispatchService)
    return rpc_proxy("dispatch")


def test_a_provider_with_certified_engineers(dispatch, rabbit_config):
    today = utcnow().astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
    exchange = Exchange("dispatch.events", type="topic", durable=True)
    queue = Queue(f"test-dispatch-{secrets.token_hex(4)}", exchange,
                  routing_key="engineer_certified", exclusive=True, auto_delete=True)
    with Connection(rabbit_config["AMQP_URI"]) as conn, conn.SimpleQueue(queue) as inbox:
        provider = dispatch.upsert_provider(ADMIN, {
            "id": "prov-1", "name": "上海某某信息技术服务有限公司", "regions": ["上海", "江苏"],
            "product_lines": ["AnyBackup", "AnyShare"]})
        assert set(provider) == {"id", "name", "regions", "product_lines", "active",
                                 "created_at", "updated_at"}
        assert provider["active"] is True and provider["created_at"].endswith("Z")

        pa = provider_admin("prov-1")
        zhang = dispatch.upsert_engineer(pa, {"id": "user-zhang", "provider_id": "prov-1",
                                              "name": "张三", "skills": ["AnyBackup", "Oracle"]})
        assert set(zhang) == {"id", "provider_id", "name", "skills", "availability",
                              "created_at", "updated_at"}
        dispatch.upsert_engineer(pa, {"id": "user-li", "provider_id": "prov-1", "name": "李四"})

        cert = dispatch.add_certification(ADMIN, "user-zhang", {
            "product_line": "AnyBackup", "certificate_no": "ACE-AB-0001",
            "certificate_name": "AnyBackup 认证工程师",
            "valid_from": (today - 10 * DAY).isoformat(),
            "valid_until": (today + 355 * DAY).isoformat()})
        assert set(cert) == {"id", "engineer_id", "product_line", "certificate_no",
                             "certificate_name", "valid_from", "valid_until", "created_at",
                             "status"}
        assert cert["status"] == "valid"
        dispatch.add_certification(pa, "user-li", {
            "product_line": "AnyBackup", "certificate_no": "ACE-AB-0002",
            "valid_from": (today - 400 * DAY).isoformat(),
            "valid_until": (today - DAY).isoformat()})  # expired yesterday

        first = inbox.get(timeout=10)
        first.ack()
        second = inbox.get(timeout=10)
        second.ack()
    assert first.payload["type"] == "engineer_certified"
    assert first.payload["data"]["certification_id"] == cert["id"]
    assert first.payload["data"]["engineer_name"] == "张三"
    assert second.payload["data"]["engineer_id"] == "user-li"

    out = dispatch.qualified_engineers(AGENT, "AnyBackup")
    assert out["at"] == today.isoformat()
    assert [e["id"] for e in out["items"]] == ["user-zhang"]
    assert out["items"][0]["certification"]["certificate_no"] == "ACE-AB-0001"
    assert out["items"][0]["skill_match"] == 1
    before = dispatch.qualified_engineers(AGENT, "AnyBackup", at=(today - 5 * DAY).isoformat(),
                                          provider_id="prov-1")
    # five days ago Li was still certified; Zhang lists the AnyBackup skill, so ranks first
    assert [e["id"] for e in before["items"]] == ["user-zhang", "user-li"]

    assert dispatch.set_availability(pa, "user-zhang", "on_leave")["availability"] == "on_leave"
    assert dispatch.qualified_engineers(pa, "AnyBackup")["items"] == []

    listed = dispatch.list_engineers(pa, {"product_line": "AnyBackup"})
    assert listed["total"] == 2
    assert {e["id"]: e["certified_product_lines"] for e in listed["items"]} == \
        {"user-zhang": ["AnyBackup"], "user-li": []}
    assert [c["status"] for c in dispatch.list_certifications(pa, "user-li")] == ["expired"]
    assert [p["id"] for p in dispatch.list_providers(pa)] == ["prov-1"]


def test_bad_input_comes_back_as_app_errors(dispatch):
    dispatch.upsert_provider(ADMIN, {"id": "prov-1", "name": "甲", "product_lines": ["AnyShare"]})
    dispatch.upsert_provider(ADMIN, {"id": "prov-2", "name": "乙"})
    dispatch.upsert_engineer(ADMIN, {"id": "user-2", "provider_id": "prov-2", "name": "王五"})

    with pytest.raises(AppError) as err:  # inverted validity
        dispatch.add_certification(ADMIN, "user-2", {
            "product_line": "AnyShare", "certificate_no": "C-1",
            "valid_from": "2026-06-01", "valid_until": "2026-05-31"})
    assert (status(err), err.value.code) == (400, "validation_failed")
    assert err.value.render("zh")["error"]["details"]["fields"]["valid_until"] == \
        ["认证有效期的截止日期不能早于起始日期（valid_until 须不早于 valid_from）。"]

    with pytest.raises(AppError) as err:  # unknown engineer
        dispatch.add_certification(ADMIN, "user-404", {
            "product_line": "AnyShare", "certificate_no": "C-1",
            "valid_from": "2026-01-01", "valid_until": "2026-12-31"})
    assert (status(err), err.value.code) == (404, "engineer_not_found")

    with pytest.raises(AppError) as err:  # unknown provider
        dispatch.upsert_engineer(ADMIN, {"id": "user-3", "provider_id": "prov-404", "name": "x"})
    assert (status(err), err.value.code) == (404, "provider_not_found")

    other = provider_admin("prov-1")
    for call in (lambda: dispatch.set_availability(other, "user-2", "on_leave"),
                 lambda: dispatch.upsert_engineer(other, {"id": "user-2", "name": "改名"}),
                 lambda: dispatch.add_certification(other, "user-2", {
                     "product_line": "AnyShare", "certificate_no": "C-9",
                     "valid_from": "2026-01-01", "valid_until": "2026-12-31"}),
                 lambda: dispatch.list_certifications(other, "user-2")):
        with pytest.raises(AppError) as err:  # provider_admin on another provider's engineer
            call()
        assert (status(err), err.value.code) == (403, "forbidden")

    with pytest.raises(AppError) as err:
        dispatch.list_providers({"id": "c", "role": "customer", "company_id": "x"})
    assert status(err) == 403
    assert dispatch.list_engineers(ADMIN, {"provider_id": "prov-2"})["items"][0]["name"] == "王五"
