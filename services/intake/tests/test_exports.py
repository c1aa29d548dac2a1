"""Whole-list exports (services/exports reads them page by page): keyset pages cover every
ticket the list shows exactly once, with the list's visibility and filters."""
import pytest

from gongdan_common.errors import AppError
from services.intake import exports, listing

from .test_search import ACME, ACME_ADMIN, ADMIN, OTHER, db  # noqa: F401 - fixture


def _all(fn, actor, query, db, limit):  # noqa: F811
    items, after, pages = [], None, 0
    while True:
        page = fn(actor, query, after, limit, db.unit_of_work())
        if after is None:
            total = page["total"]
        items += page["items"]
        pages += 1
        if page["next"] is None:
            return items, total, pages
        after = page["next"]


@pytest.mark.parametrize("limit", [1, 2, 1000])
def test_pages_cover_the_list_once(db, limit):  # noqa: F811
    for actor, query in [(ADMIN, {}), (ACME_ADMIN, {}), (ACME, {}), (OTHER, {}),
                         (ADMIN, {"keyword": "登录"}), (ACME_ADMIN, {"keyword": "VPN"})]:
        items, total, _ = _all(exports.export_tickets, actor, query, db, limit)
        listed = listing.list_tickets(actor, dict(query, page_size=100), db.unit_of_work())
        assert [i["id"] for i in items] == [i["id"] for i in listed["items"]]
        assert total == listed["total"]
    company = {i["company_id"] for i in _all(exports.export_tickets, ACME_ADMIN, {}, db, 2)[0]}
    assert company == {"c-acme"}


def test_list_paging_is_ignored_and_bad_filters_refused(db):  # noqa: F811
    page = exports.export_tickets(ADMIN, {"page": 3, "page_size": 1, "sort": "number"}, None,
                                  10, db.unit_of_work())
    assert len(page["items"]) == 5
    for query, after, limit in [({"status": ["nope"]}, None, 10), ({"bogus": 1}, None, 10),
                                ({}, ["not a time", "x"], 10), ({}, "x", 10), ({}, None, -1),
                                ({}, None, 10 ** 6)]:
        with pytest.raises(AppError) as err:
            exports.export_tickets(ADMIN, query, after, limit, db.unit_of_work())
        assert err.value.status == 400


def test_ratings_are_scoped_like_the_list(db):  # noqa: F811
    items, total, _ = _all(exports.export_ratings, ADMIN, {}, db, 10)
    assert items == [] and total == 0
