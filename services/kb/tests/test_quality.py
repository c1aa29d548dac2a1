"""Search quality must not regress: recall@5 and nDCG@5 on the labelled set of
bench/kb_corpus.py stay at or above the figures recorded in docs/performance.md
(bench.kb_quality.RECORDED)."""
from bench import kb_quality
from bench.kb_corpus import articles, queries


def test_labelled_set_is_big_enough_and_consistent():
    corpus, qs = articles(), queries()
    ids = {a["id"] for a in corpus}
    assert len(corpus) >= 150 and len(ids) == len(corpus)
    assert len(qs) >= 60
    assert {q["language"] for q in qs} == {"zh", "en"}
    assert all(q["relevant"] and q["relevant"] <= ids for q in qs)


def test_search_quality_does_not_regress():
    corpus, qs = articles(), queries()
    out, _per = kb_quality.evaluate(kb_quality.bm25_ranker(corpus), qs, k=5)
    assert out["recall@5"] >= kb_quality.RECORDED["recall@5"], out
    assert out["ndcg@5"] >= kb_quality.RECORDED["ndcg@5"], out
    # and it is search, not luck: the LIKE baseline on the same set is far below
    base, _ = kb_quality.evaluate(kb_quality.like_ranker(corpus), qs, k=5)
    assert base["recall@5"] < out["recall@5"] - 0.5


def test_metrics():
    assert kb_quality.metrics(["a", "b"], {"a", "b"}, 5) == (1.0, 1.0)
    recall, ndcg = kb_quality.metrics(["x", "a"], {"a", "b"}, 5)
    assert recall == 0.5 and 0 < ndcg < 0.5
    assert kb_quality.metrics(["x"], {"a"}, 5) == (0.0, 0.0)
