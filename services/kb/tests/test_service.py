"""The kb service in nameko containers on a real database (SQLite and PostgreSQL): two
instances on one database see each other's edits within a second; the close-flow consumer
is idempotent and tells an uncovered ticket from one an article already covers."""
import time
import uuid

import pytest
from nameko.testing.services import entrypoint_hook

from services.kb.service import KbService

WRITER = {"id": "agent-1", "role": "agent", "name": "Desk"}
CUSTOMER = {"id": "cust-1", "role": "customer"}


@pytest.fixture
def two_instances(container_factory, rabbit_config, service_database):
    url = service_database("kb", migrated=True)
    config = {"AMQP_URI": rabbit_config["AMQP_URI"], "DATABASES": {"kb": url},
              "OUTBOX": {"poll_interval": 0.2}, "KB": {"index_poll_interval": 0.1}}
    out = []
    for _ in range(2):
        container = container_factory(KbService, config)
        container.start()
        out.append(container)
    yield out
    for container in out:
        container.stop()


def call(container, name, *args):
    with entrypoint_hook(container, name) as hook:
        return hook(*args)


def ids(result):
    return [i["id"] for i in result["items"]]


def test_an_edit_on_one_instance_is_searchable_on_the_other_within_a_second(two_instances):
    a, b = two_instances
    article = call(a, "create_article", WRITER, {
        "title": "导出报表失败", "body": "导出时提示超时。", "visibility": "public",
        "product": "BI", "category": "function"})
    call(a, "transition", WRITER, article["id"], "publish")
    q = {"q": "导出报表"}

    def seen_on_b(query):
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if article["id"] in ids(call(b, "search", CUSTOMER, query)):
                return True
            time.sleep(0.05)
        return False

    assert article["id"] in ids(call(a, "search", CUSTOMER, q))  # the writer: at once
    assert seen_on_b(q)
    call(a, "update_article", WRITER, article["id"], {"body": "导出时提示超时，请调大网关超时。"})
    assert seen_on_b({"q": "网关超时"})
    call(a, "transition", WRITER, article["id"], "archive")
    deadline = time.monotonic() + 1.0
    while article["id"] in ids(call(b, "search", CUSTOMER, q)):
        assert time.monotonic() < deadline, "archived article still found on the other instance"
        time.sleep(0.05)


def _solved(ticket_id, title, product="BI", category="function"):
    return {"event_id": str(uuid.uuid4()), "type": "ticket_resolved", "source": "intake",
            "data": {"ticket": {"id": ticket_id, "number": "TS" + ticket_id[:6], "title": title,
                                "product": product, "product_line": "bi",
                                "category": category, "handler_id": "eng-1"},
                     "root_cause": "configuration", "description": "调大网关超时"}}


def test_close_flow_suggests_an_article_only_when_none_covers_the_ticket(two_instances):
    a, _b = two_instances
    covered = call(a, "create_article", WRITER, {
        "title": "导出报表超时", "body": "调大超时。", "product": "BI", "category": "function"})
    call(a, "transition", WRITER, covered["id"], "publish")

    new_problem = _solved(str(uuid.uuid4()), "打印机无法连接")
    for _ in range(2):  # a redelivery changes nothing
        call(a, "on_ticket_resolved", new_problem)
    ticket_id = new_problem["data"]["ticket"]["id"]
    out = call(a, "ticket_articles", WRITER, ticket_id)
    assert out["writing_suggestion"]["status"] == "open"
    assert out["writing_suggestion"]["root_cause"] == "configuration"
    listed = call(a, "list_writing_suggestions", WRITER, {})
    assert [s["ticket_id"] for s in listed["items"]].count(ticket_id) == 1

    known = _solved(str(uuid.uuid4()), "导出报表超时")
    call(a, "on_ticket_resolved", known)
    out = call(a, "ticket_articles", WRITER, known["data"]["ticket"]["id"])
    assert out["writing_suggestion"]["status"] == "covered"
    assert out["writing_suggestion"]["matched_article_id"] == covered["id"]

    other_product = _solved(str(uuid.uuid4()), "导出报表超时", product="OTHER")
    call(a, "on_ticket_resolved", other_product)
    out = call(a, "ticket_articles", WRITER, other_product["data"]["ticket"]["id"])
    assert out["writing_suggestion"]["status"] == "open"


def test_a_dictionary_edit_on_one_instance_ranks_on_the_other_within_a_second(two_instances):
    a, b = two_instances
    admin = {"id": "admin-1", "role": "admin", "name": "Admin"}
    article = call(a, "create_article", WRITER, {
        "title": "Quillpump pressure drops overnight", "body": "Reset the quillpump valve.",
        "visibility": "public", "language": "en"})
    call(a, "transition", WRITER, article["id"], "publish")
    q = {"q": "羽毛泵压力"}
    assert article["id"] not in ids(call(b, "search", CUSTOMER, q))
    group = call(a, "create_synonym", admin, {"terms": ["羽毛泵", "quillpump"], "weight": 0.9})
    assert article["id"] in ids(call(a, "search", CUSTOMER, q))  # the writer: at once
    deadline = time.monotonic() + 1.0
    while article["id"] not in ids(call(b, "search", CUSTOMER, q)):
        assert time.monotonic() < deadline, "dictionary edit not applied on the other instance"
        time.sleep(0.05)
    call(a, "delete_synonym", admin, group["id"])
    deadline = time.monotonic() + 1.0
    while article["id"] in ids(call(b, "search", CUSTOMER, q)):
        assert time.monotonic() < deadline, "deleted group still used on the other instance"
        time.sleep(0.05)
