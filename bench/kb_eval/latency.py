"""Ranking cost, this checkout beside the previous implementation, interleaved in one process
(so machine load hits both alike): tokenizing the query, pruning, dictionary expansion and
BM25 over an in-memory index of N generated articles — no database, no snippets (those are
in bench/kb_search.py, which measures the whole handler).

    .venv/bin/python -m bench.kb_eval.latency [--articles 30000] [--queries 500] [--previous main]
"""
import argparse
import random
import time

from bench.kb_corpus import queries as corpus_queries
from bench.kb_eval.__main__ import _load_previous
from bench.kb_eval.queries import queries as eval_queries
from bench.kb_search import _problems, generate
from bench.support import log, percentile
from services.kb import ranking, text
from services.kb.dictionary import Dictionary
from services.kb.index import SearchIndex

PUBLIC = {"status": "published", "visibility": "public"}


def _stats(lat):
    lat = sorted(lat)
    return f"p50 {percentile(lat, 50):7.2f} ms  p99 {percentile(lat, 99):7.2f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=30000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--previous", default="main")
    args = parser.parse_args(argv)
    rng = random.Random(15)
    problems = _problems()
    old_text, old_index_mod = _load_previous(args.previous)
    old, new = old_index_mod.SearchIndex(), SearchIndex()
    log(f"tokenizing {args.articles} articles twice (previous and this tokenizer)")
    for i in range(args.articles):
        a = generate(rng, problems)
        roll = rng.random()
        meta = {"id": str(i), "status": "published" if roll < 0.9 else "draft",
                "visibility": "public" if rng.random() < 0.7 else "internal",
                "language": a["language"], "product": a["product"], "category": a["category"]}
        tf, length = old_text.document_terms(a["title"], a["keywords"], a["body"])
        old.put(dict(meta, terms=tf, length=length))
        tf, length = text.document_terms(a["title"], a["keywords"], a["body"])
        new.put(dict(meta, terms=tf, length=length))
    dictionary = Dictionary.default()
    short = [q["q"] for q in corpus_queries()] + [q["q"] for q in eval_queries()
                                                 if len(q["q"]) <= 200]
    pasted = [q["q"] for q in eval_queries() if len(q["q"]) > 200]
    for kind, pool in (("short", short), ("pasted > 200 chars", pasted)):
        qs = [rng.choice(pool) for _ in range(args.queries)]
        lat_old, lat_new = [], []
        for q in qs:
            t0 = time.perf_counter()
            old.search(old_text.query_terms(q), PUBLIC, 0, 10)
            t1 = time.perf_counter()
            ranking.rank(new, dictionary, ranking.search_terms(q), PUBLIC, 0, 10)
            t2 = time.perf_counter()
            lat_old.append((t1 - t0) * 1000)
            lat_new.append((t2 - t1) * 1000)
        note = " (the previous schema refused these: ranked here anyway)" \
            if kind != "short" else ""
        print(f"{kind:20s} previous {_stats(lat_old)}   this {_stats(lat_new)}{note}")
    print(f"{args.articles} articles; index terms: previous {len(old.postings)}, "
          f"this {len(new.postings)}; dictionary groups {len(dictionary)}")


if __name__ == "__main__":
    main()
