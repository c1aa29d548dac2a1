"""BM25 ranking, filters, re-indexing and compaction of the in-memory index."""
import math

import pytest

from services.kb import text
from services.kb.index import SearchIndex


def doc(i, title, body="", **kw):
    tf, length = text.document_terms(title, kw.pop("keywords", []), body)
    return {"id": i, "terms": tf, "length": length, "status": kw.get("status", "published"),
            "visibility": kw.get("visibility", "public"), "language": kw.get("language", "zh"),
            "product": kw.get("product"), "product_line": kw.get("product_line"),
            "category": kw.get("category")}


@pytest.fixture
def idx():
    index = SearchIndex(capacity=2)  # small, so growth is exercised
    index.put(doc("lock", "登录时提示账号被锁定", "输错密码五次后账号锁定十五分钟。", category="permissions"))
    index.put(doc("slow", "文件同步很慢", "网络带宽不足导致同步慢。", category="performance"))
    index.put(doc("export", "Exporting reports to Excel fails", "The export times out.",
                  language="en", product="BI"))
    index.put(doc("internal", "登录失败排查手册", "内部排查步骤：检查 LDAP。", visibility="internal"))
    index.put(doc("draft", "登录 登录 登录", "草稿", status="draft"))
    return index


def ids(result):
    return [a for a, _s in result[1]]


def test_chinese_query_finds_article_sharing_a_word(idx):
    assert "lock" in ids(idx.search(text.query_terms("登录失败"), {"visibility": "public",
                                                                "status": "published"}))


def test_english_stem_matches(idx):
    assert ids(idx.search(text.query_terms("export"))) == ["export"]


def test_bm25_prefers_rarer_terms_and_title_matches(idx):
    total, hits = idx.search(text.query_terms("登录失败"), {"status": "published"})
    # the internal manual has both words in its title; the lock article only one
    assert [a for a, _ in hits][:2] == ["internal", "lock"]
    assert total == 2


def test_bm25_score_matches_the_formula():
    index = SearchIndex()
    index.put({"id": "a", "terms": {"x": 2.0}, "length": 4.0, "status": "published",
               "visibility": "public", "language": "en"})
    index.put({"id": "b", "terms": {"y": 1.0}, "length": 2.0, "status": "published",
               "visibility": "public", "language": "en"})
    _t, [(aid, score)] = index.search({"x": 1})
    avgdl, n, df = 3.0, 2, 1
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    expected = idf * 2.0 * 2.2 / (2.0 + 1.2 * (1 - 0.75 + 0.75 * 4.0 / avgdl))
    assert aid == "a" and score == pytest.approx(expected, rel=1e-5)


def test_filters(idx):
    q = text.query_terms("登录 同步 export")
    assert set(ids(idx.search(q, {"language": "en"}))) == {"export"}
    assert set(ids(idx.search(q, {"product": "BI"}))) == {"export"}
    assert ids(idx.search(q, {"product": "no-such-product"})) == []
    assert set(ids(idx.search(q, {"category": ["performance", "permissions"]}))) == \
        {"slow", "lock"}
    assert "draft" not in ids(idx.search(q, {"status": "published"}))
    assert "draft" in ids(idx.search(q, {"status": "draft"}))
    assert "internal" not in ids(idx.search(q, {"visibility": "public"}))


def test_paging(idx):
    q = text.query_terms("登录 同步 export 锁定")
    total, first = idx.search(q, None, 0, 2)
    _t, second = idx.search(q, None, 2, 2)
    _t, whole = idx.search(q, None, 0, 10)
    assert total == len(whole) and [a for a, _ in first + second] == [a for a, _ in whole][:4]


def test_reindexing_replaces_and_removing_drops(idx):
    idx.put(doc("lock", "Cannot print", "printer offline", language="en"))
    assert "lock" not in ids(idx.search(text.query_terms("锁定")))
    assert ids(idx.search(text.query_terms("printer"))) == ["lock"]
    idx.remove("slow")
    assert ids(idx.search(text.query_terms("同步"))) == []
    assert len(idx) == 4


def test_compaction_keeps_results():
    index = SearchIndex()
    for round_ in range(3):
        for i in range(3000):
            # round names without digits: "round0" would be a model name (round, 0, round0)
            index.put(doc(f"a{i}", f"article {i} round{'abc'[round_]}", "common words here",
                          language="en"))
    assert index.size < 9000  # dead slots were squeezed out
    assert len(index) == 3000
    total, hits = index.search(text.query_terms("roundc"), None, 0, 5)
    assert total == 3000
    assert ids(index.search(text.query_terms("rounda"))) == []
    assert ids(index.search(text.query_terms("1234 roundc"), None, 0, 1)) == ["a1234"]


def test_long_queries_keep_their_most_informative_terms(idx):
    q = text.query_terms("登录 同步 导出 锁定 printer")
    kept = idx.informative(q, 2)
    assert set(kept) == {"锁定", "同步"}  # each in one article; 登录 in three; the rest in none
    assert idx.informative(q, 10) == q
    assert "lock" in ids(idx.search(text.query_terms("登录 锁定"), None, 0, 5, max_terms=1))
