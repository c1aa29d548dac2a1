"""Who may do what with articles, what a search may see, and the deflection figures."""
import pytest

from services.kb import domain

ENGINEER = {"id": "e1", "role": "engineer"}
OTHER_ENGINEER = {"id": "e2", "role": "engineer"}
AGENT = {"id": "a1", "role": "agent"}
CUSTOMER = {"id": "c1", "role": "customer"}


def art(status="draft", visibility="public", author="e1", published_at=None):
    return {"status": status, "visibility": visibility, "author_id": author,
            "published_at": published_at}


def from_ticket(status="draft", author="e1", provider="p1", handler="e1"):
    """An article written from a ticket of customer c1 (company co1), held by provider p1."""
    return dict(art(status, "internal", author), source_ticket_id="t1",
                source_submitter_id="c1", source_company_id="co1",
                source_provider_id=provider, source_handler_id=handler)


@pytest.mark.parametrize("actor, may", [
    (AGENT, True), ({"id": "ad", "role": "admin"}, True), ({"id": "s", "role": "system"}, True),
    (ENGINEER, True),                                                   # author and handler
    ({"id": "pa1", "role": "provider_admin", "provider_id": "p1"}, True),  # the ticket's provider
    ({"id": "pa2", "role": "provider_admin", "provider_id": "p2"}, False),
    (OTHER_ENGINEER, False),                                            # not on the ticket
    (CUSTOMER, False), ({"id": "ca", "role": "customer_admin", "company_id": "co1"}, False),
])
def test_an_unpublished_article_from_a_ticket_is_read_by_those_who_may_see_the_ticket(actor,
                                                                                     may):
    assert domain.can_read(actor, from_ticket()) is may
    assert domain.can_read(actor, from_ticket("archived")) is may


def test_the_author_reads_their_draft_after_the_ticket_moved_on():
    moved = from_ticket(provider="p2", handler="e9")
    assert domain.can_read(ENGINEER, moved)
    assert not domain.can_read({"id": "pa1", "role": "provider_admin", "provider_id": "p1"},
                               moved)


def test_a_published_article_from_a_ticket_is_read_as_any_article():
    published = from_ticket("published")
    assert domain.can_read(OTHER_ENGINEER, published)
    assert not domain.sees_source(OTHER_ENGINEER, published)  # but not told its ticket
    assert domain.sees_source(ENGINEER, published)
    assert not domain.can_read(CUSTOMER, published)  # internal


def refused(fn, *args):
    with pytest.raises(domain.Refused) as err:
        fn(*args)
    return err.value.key


def test_customers_read_public_published_only():
    assert domain.can_read(CUSTOMER, art("published", "public"))
    assert not domain.can_read(CUSTOMER, art("published", "internal"))
    assert not domain.can_read(CUSTOMER, art("draft", "public"))
    assert not domain.can_read(CUSTOMER, art("archived", "public"))
    assert domain.can_read(ENGINEER, art("draft", "internal"))
    assert not domain.can_read({"role": "stranger"}, art("draft", "internal"))


def test_editing_another_authors_draft_needs_the_desk():
    domain.check_edit(ENGINEER, art())
    assert refused(domain.check_edit, OTHER_ENGINEER, art()) == "not_author"
    domain.check_edit(AGENT, art())
    assert refused(domain.check_edit, CUSTOMER, art()) == "cannot_write"
    assert refused(domain.check_edit, ENGINEER, art("archived")) == "wrong_status"


def test_publish_and_archive():
    assert domain.check_transition(AGENT, art(), "publish") == "published"
    assert refused(domain.check_transition, ENGINEER, art(), "publish") == "desk_only"
    assert refused(domain.check_transition, AGENT, art("published"), "publish") == "wrong_status"
    assert domain.check_transition(AGENT, art("published"), "archive") == "archived"
    assert domain.check_transition(AGENT, art("archived"), "publish") == "published"


def test_only_never_published_drafts_are_deleted():
    domain.check_delete(ENGINEER, art())
    assert refused(domain.check_delete, ENGINEER, art("published")) == "wrong_status"
    assert refused(domain.check_delete, ENGINEER, art("draft", published_at="x")) == "wrong_status"


def test_search_scope():
    assert domain.search_scope(CUSTOMER, {}) == {"status": "published", "visibility": "public"}
    assert refused(domain.search_scope, CUSTOMER, {"visibility": "internal"}) == "customer_scope"
    assert refused(domain.search_scope, CUSTOMER, {"status": "draft"}) == "customer_scope"
    assert domain.search_scope(ENGINEER, {}) == {"status": "published"}
    assert domain.search_scope(ENGINEER, {"status": "draft"}) == {"status": "draft"}


def test_deflection_counts():
    sessions = [{"shown": ["a"], "opened": ["a"], "submitted": False},
                {"shown": ["a"], "opened": ["a"], "submitted": True},
                {"shown": ["b"], "opened": [], "submitted": True},
                {"shown": [], "opened": [], "submitted": True}]
    out = domain.deflection(sessions)
    assert out == {"sessions": 3, "opened": 2, "submitted": 2, "opened_then_submitted": 1,
                   "deflected": 1, "open_rate": 0.6667, "deflection_rate": 0.3333}
    assert domain.deflection([])["deflection_rate"] is None


def test_close_match_and_draft_from_ticket():
    assert domain.closely_matches({"登录": 1, "锁定": 1}, {"登录": 3.0, "锁定": 1.0, "x": 1.0})
    assert not domain.closely_matches({"登录": 1, "锁定": 1, "导出": 1}, {"登录": 3.0})
    ticket = {"number": "TS1", "title": "无法登录", "description": "提示账号被锁定"}
    out = domain.draft_from_ticket(ticket, {"root_cause": "config", "description": "解锁账号"},
                                   "配置错误", "zh")
    assert out["title"] == "无法登录" and "提示账号被锁定" in out["body"]
    assert "配置错误" in out["body"] and "解锁账号" in out["body"] and "TS1" in out["body"]
    assert out["keywords"] == ["配置错误"]
