"""Search quality of the knowledge base on a labelled set: recall@5 and nDCG@5.

    .venv/bin/python -m bench.kb_quality [--k 5] [--show-misses]

The corpus and the queries are in bench/kb_corpus.py (written for this project). The
articles go through the very code the kb service indexes and ranks with
(`services.kb.text.document_terms`, `services.kb.index.SearchIndex`), queries through
`text.query_terms`; no filters (a customer typing into the search box). Beside it, in the
same run, a baseline: a plain LIKE '%query%' over title, keywords and body, in corpus order,
which is what a database without full-text search offers.

RECORDED holds the figures of docs/performance.md; services/kb/tests/test_quality.py fails
when search quality drops below them.
"""
import argparse
import math

from bench.kb_corpus import articles, queries
from services.kb import text
from services.kb.index import SearchIndex

RECORDED = {"recall@5": 1.0, "ndcg@5": 0.9661}


def build(corpus):
    index = SearchIndex()
    for a in corpus:
        tf, length = text.document_terms(a["title"], a["keywords"], a["body"])
        index.put({"id": a["id"], "terms": tf, "length": length, "status": "published",
                   "visibility": "public", "language": a["language"], "product": a["product"],
                   "category": a["category"]})
    return index


def bm25_ranker(corpus):
    index = build(corpus)
    return lambda q, k: [aid for aid, _s in index.search(text.query_terms(q), None, 0, k)[1]]


def like_ranker(corpus):
    haystack = [(a["id"], " ".join([a["title"], " ".join(a["keywords"]), a["body"]]).lower())
                for a in corpus]
    return lambda q, k: [aid for aid, h in haystack if q.lower() in h][:k]


def metrics(ranked, relevant, k):
    hits = [1 if aid in relevant else 0 for aid in ranked[:k]]
    recall = sum(hits) / len(relevant)
    dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return recall, dcg / ideal


def evaluate(ranker, qs, k=5):
    per = []
    for q in qs:
        recall, ndcg = metrics(ranker(q["q"], k), q["relevant"], k)
        per.append({**q, "recall": recall, "ndcg": ndcg})

    def mean(rows, key):
        return round(sum(r[key] for r in rows) / len(rows), 4) if rows else None
    out = {"queries": len(per), f"recall@{k}": mean(per, "recall"),
           f"ndcg@{k}": mean(per, "ndcg")}
    for lang in ("zh", "en"):
        rows = [r for r in per if r["language"] == lang]
        out[lang] = {"queries": len(rows), f"recall@{k}": mean(rows, "recall"),
                     f"ndcg@{k}": mean(rows, "ndcg")}
    return out, per


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    corpus, qs = articles(), queries()
    print(f"corpus: {len(corpus)} articles "
          f"({sum(a['language'] == 'zh' for a in corpus)} zh, "
          f"{sum(a['language'] == 'en' for a in corpus)} en); {len(qs)} labelled queries "
          f"({sum(q['language'] == 'zh' for q in qs)} zh, "
          f"{sum(q['language'] == 'en' for q in qs)} en)")
    rank = bm25_ranker(corpus)
    for name, ranker in (("kb search (BM25, jieba, Snowball)", rank),
                         ("baseline: LIKE '%q%'", like_ranker(corpus))):
        out, per = evaluate(ranker, qs, args.k)
        print(f"{name:36s} recall@{args.k} {out[f'recall@{args.k}']:.4f}  "
              f"nDCG@{args.k} {out[f'ndcg@{args.k}']:.4f}  | zh "
              f"{out['zh'][f'recall@{args.k}']:.4f}/{out['zh'][f'ndcg@{args.k}']:.4f}  en "
              f"{out['en'][f'recall@{args.k}']:.4f}/{out['en'][f'ndcg@{args.k}']:.4f}")
        if args.show_misses and ranker is rank:
            for r in per:
                if r["recall"] < 1:
                    print(f"   miss {r['q']!r}: got {ranker(r['q'], args.k)} "
                          f"want {sorted(r['relevant'])}")
    print(f"recorded (docs/performance.md): recall@5 {RECORDED['recall@5']}, "
          f"nDCG@5 {RECORDED['ndcg@5']}")


if __name__ == "__main__":
    main()
