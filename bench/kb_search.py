"""Knowledge-base search and suggest latency over 100,000 articles, and the indexing rate,
beside a plain LIKE scan in the same run.

    .venv/bin/python -m bench.kb_search [--backend sqlite|postgresql] [--articles 100000]
                                        [--queries 1000] [--baseline-queries 200]
                                        [--write-path 1000] [--json FILE]

What it does (the service's own code, called as plain functions: no broker in the way):

1. builds a fresh kb database (a SQLite file, or a PostgreSQL database of its own), migrated;
2. writes `--write-path` articles through `handlers.create_article` + `transition(publish)`:
   the whole write path (validation, Markdown rendering and sanitizing, tokenizing, the
   article, its version, the index log row and the event in one transaction, then the
   in-memory index) -> the *write-path rate*;
3. generates the rest up to `--articles` from the problems of bench/kb_corpus.py (random
   products, versions, sentences borrowed from other problems, and a long tail of error
   codes, host names and ticket numbers; zh and en; 90% published, 70% public), tokenizes every one with `text.document_terms` -> the *tokenizing rate*, and
   bulk-inserts the rows;
4. builds the search index from the database the way a starting kb instance does
   (`LiveIndex.load`) -> the *index build time*;
5. times, one call after another, `handlers.search` as a customer (ranking, filters, the
   page's rows from the database, highlighted snippets) and `handlers.suggest` (title +
   description of a draft, recording the suggestion session), with queries drawn from the
   labelled set;
   and the same suggestions without the session write (`handlers.rank_suggestions`);
   and `handlers.search` with *long* queries: pasted descriptions (the long queries of
   bench/kb_eval and drafts' full text, 200-700 characters; the previous code refused any
   query over 200 characters, so it has no figure for them);
6. times the baseline: `SELECT ... WHERE status = 'published' AND visibility = 'public' AND
   (title LIKE '%q%' OR body_md LIKE '%q%') LIMIT 10`, no ranking, on the same database.
"""
import argparse
import json
import random
import shutil
import tempfile
import time
import uuid

from sqlalchemy import insert, text as sql

from bench.dispatch_lookup import BenchDatabase
from bench.support import log, percentile
from bench.kb_corpus import EN, PRODUCTS, VERSIONS, ZH, queries
from bench.kb_eval.queries import queries as eval_queries
from gongdan_common.db import Database
from gongdan_common.events import utcnow
from services.kb import handlers, text
from services.kb.live import LiveIndex
from services.kb.models import Article, metadata

AGENT = {"id": "bench-agent", "role": "agent", "name": "bench"}
CUSTOMER = {"id": "bench-customer", "role": "customer", "company_id": "c1"}
EXTRA_PRODUCTS = [f"P{i:02d}" for i in range(20)]


class KbDatabase(BenchDatabase):
    def __init__(self, backend, workdir):
        super().__init__(backend, workdir, service="kb")

    def create(self):
        super().create()
        self.db = Database(self.url, metadata)
        return self

    def drop(self):
        self.db.dispose()
        super().drop()


def _problems():
    out = []
    for language, problems in (("zh", ZH), ("en", EN)):
        for key, (title, symptom, cause, solution, keywords, category, _p, _q) in \
                problems.items():
            out.append((language, title, [symptom, cause, solution], keywords, category))
    return out


def generate(rng, problems):
    """One synthetic article: a problem's text with borrowed sentences and a product."""
    language, title, sentences, keywords, category = rng.choice(problems)
    same = [p for p in problems if p[0] == language]
    borrowed = [s for p in rng.sample(same, 3) for s in rng.sample(p[2], 1)]
    product = rng.choice(list(PRODUCTS) + EXTRA_PRODUCTS)
    version = rng.choice(VERSIONS)
    head = ("## 问题现象", "## 原因分析", "## 解决方法", "## 相关情况") if language == "zh" else \
        ("## Symptom", "## Cause", "## Solution", "## Related")
    # the long tail real articles have: error codes, hosts, ticket numbers (rare terms)
    tail = f"E{rng.randint(1000, 99999)} srv-{rng.randint(1, 5000)} TS2026{rng.randint(1, 10**6):06d}"
    body = "\n\n".join(f"{h}\n\n{s}" for h, s in
                         zip(head, sentences + [" ".join(borrowed) + " " + tail]))
    sep = "：" if language == "zh" else ": "
    return {"title": f"{product} {version}{sep}{title}", "body": body, "keywords": keywords,
            "language": language, "product": product, "product_line": product.lower(),
            "category": category}


def write_path(db, live, n, rng, problems):
    settings = {"now": utcnow}
    started = time.perf_counter()
    for _ in range(n):
        a = generate(rng, problems)
        a["visibility"] = "public"
        out = handlers.create_article(AGENT, a, db.unit_of_work(), live, settings)
        handlers.transition(AGENT, out["id"], "publish", db.unit_of_work(), live, settings)
    return n / (time.perf_counter() - started)


def bulk(db, n, rng, problems, batch=2000):
    """-> (tokenizing rate per second, insert rate per second)"""
    tokenize_s = insert_s = 0.0
    now = utcnow()
    done = 0
    while done < n:
        rows = []
        t0 = time.perf_counter()
        for _ in range(min(batch, n - done)):
            a = generate(rng, problems)
            tf, length = text.document_terms(a["title"], a["keywords"], a["body"])
            roll = rng.random()
            rows.append({
                "id": str(uuid.uuid4()), "title": a["title"], "body_md": a["body"],
                "body_html": text.render_markdown(a["body"]), "keywords": a["keywords"],
                "language": a["language"], "product": a["product"],
                "product_line": a["product_line"], "category": a["category"],
                "status": "published" if roll < 0.9 else "draft" if roll < 0.95 else "archived",
                "visibility": "public" if rng.random() < 0.7 else "internal",
                "current_version": 1, "author_id": AGENT["id"], "author_name": "bench",
                "author_role": "agent", "index_terms": tf, "index_length": length,
                "created_at": now, "updated_at": now, "published_at": now, "lock_version": 1})
        t1 = time.perf_counter()
        with db.unit_of_work() as uow:
            uow.session.execute(insert(Article), rows)
            uow.commit()
        t2 = time.perf_counter()
        tokenize_s += t1 - t0
        insert_s += t2 - t1
        done += len(rows)
        if done % 20000 < batch:
            log(f"  {done} articles generated")
    return n / tokenize_s, n / insert_s


def timed(fn, args_list):
    lat = []
    for args in args_list:
        t0 = time.perf_counter()
        fn(*args)
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    return {"n": len(lat), "p50_ms": round(percentile(lat, 50), 2),
            "p99_ms": round(percentile(lat, 99), 2), "max_ms": round(lat[-1], 2)}


def like_scan(db):
    stmt = sql("SELECT id, title FROM kb_articles WHERE status = 'published' AND "
               "visibility = 'public' AND (title LIKE :p OR body_md LIKE :p) LIMIT 10")
    found = []

    def call(q):
        with db.unit_of_work() as uow:
            found.append(len(uow.session.execute(stmt, {"p": f"%{q}%"}).all()))
    return call, found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--baseline-queries", type=int, default=200)
    parser.add_argument("--write-path", type=int, default=1000)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    rng = random.Random(6)
    problems = _problems()
    workdir = tempfile.mkdtemp(prefix="kb-bench-")
    kb = KbDatabase(args.backend, workdir).create()
    results = {"backend": args.backend, "articles": args.articles}
    try:
        db = kb.db
        live = LiveIndex(db)
        log(f"write path: {args.write_path} articles through create_article + publish")
        results["write_path_per_s"] = round(write_path(db, live, args.write_path, rng,
                                                       problems), 1)
        log(f"bulk: {args.articles - args.write_path} more articles")
        tok, ins = bulk(db, args.articles - args.write_path, rng, problems)
        results["tokenize_per_s"], results["bulk_insert_per_s"] = round(tok, 1), round(ins, 1)
        if args.backend == "sqlite":  # as after any bulk import: fold the WAL back in
            raw = db.engine.raw_connection()  # outside SQLAlchemy's BEGIN IMMEDIATE
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        t0 = time.perf_counter()
        live = LiveIndex(db)
        count = live.load()
        results["index_build_s"] = round(time.perf_counter() - t0, 2)
        results["indexed"] = count
        results["index"] = live.index.stats()
        labelled = [q["q"] for q in queries()]
        qs = [rng.choice(labelled) for _ in range(args.queries)]
        # drafts as a customer types them: a title and a sentence or two of description
        drafts = []
        for _ in range(args.queries):
            language, title, sentences, _k, _c = rng.choice(problems)
            drafts.append({"title": title, "description": " ".join(rng.sample(sentences, 2))})
        search = lambda q: handlers.search(CUSTOMER, {"q": q}, db.unit_of_work(), live)  # noqa: E731
        suggest = lambda d: handlers.suggest(CUSTOMER, d, db.unit_of_work(), live,  # noqa: E731
                                             {"now": utcnow})
        for q in qs[:20]:  # warm up
            search(q)
        log(f"search: {args.queries} queries")
        results["search"] = timed(search, [(q,) for q in qs])
        hits = [handlers.search(CUSTOMER, {"q": q}, db.unit_of_work(), live)["total"]
                for q in qs[:50]]
        results["search"]["mean_matches"] = round(sum(hits) / len(hits))
        log(f"suggest: {args.queries} drafts")
        results["suggest"] = timed(suggest, [(d,) for d in drafts])
        rank_only = lambda d: handlers.rank_suggestions(  # noqa: E731
            CUSTOMER, handlers._suggest_in.load(d), db.unit_of_work(), live)
        log(f"suggest, ranking only (no session write): {args.queries} drafts")
        results["suggest_rank_only"] = timed(rank_only, [(d,) for d in drafts])
        pasted = [q["q"] for q in eval_queries() if len(q["q"]) > 200]
        for language, title, sentences, _k, _c in problems:
            text_ = " ".join([title] + sentences * 2)
            if len(text_) > 200:
                pasted.append(text_[:700])
        long_qs = [(rng.choice(pasted),) for _ in range(args.queries // 2)]
        log(f"search, long pasted queries: {len(long_qs)}")
        results["search_long"] = timed(search, long_qs)
        call, found = like_scan(db)
        log(f"baseline LIKE scan: {args.baseline_queries} queries")
        results["like_scan"] = timed(call, [(q,) for q in qs[:args.baseline_queries]])
        results["like_scan"]["queries_with_a_hit"] = sum(1 for n in found if n)
    finally:
        kb.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    s, g, b = results["search"], results["suggest"], results["like_scan"]
    print(f"\n{args.backend}, {results['indexed']} articles indexed "
          f"({results['index']['terms']} terms)")
    print(f"  search   p50 {s['p50_ms']:8.2f} ms  p99 {s['p99_ms']:8.2f} ms   (target p99 <= 50)")
    print(f"  suggest  p50 {g['p50_ms']:8.2f} ms  p99 {g['p99_ms']:8.2f} ms   (target p99 <= 30)")
    lq = results["search_long"]
    print(f"  search, pasted (>200 chars)  p50 {lq['p50_ms']:8.2f} ms  p99 {lq['p99_ms']:8.2f} ms")
    r = results["suggest_rank_only"]
    print(f"  suggest ranking only  p50 {r['p50_ms']:8.2f} ms  p99 {r['p99_ms']:8.2f} ms")
    print(f"  LIKE     p50 {b['p50_ms']:8.2f} ms  p99 {b['p99_ms']:8.2f} ms   "
          f"(baseline; {b['queries_with_a_hit']}/{b['n']} queries found anything)")
    print(f"  write path {results['write_path_per_s']}/s, tokenizing {results['tokenize_per_s']}/s,"
          f" bulk insert {results['bulk_insert_per_s']}/s, index build "
          f"{results['index_build_s']} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
