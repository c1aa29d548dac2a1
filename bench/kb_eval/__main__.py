"""Knowledge-base ranking on the issue-15 labelled set: recall@5 and graded nDCG@5, overall,
Chinese, English, per miss class, development and held-out parts — for search and suggest,
beside two baselines in the same run.

    .venv/bin/python -m bench.kb_eval [--k 5] [--show-misses] [--previous REV] [--json FILE]

Rankers (all over the same articles, no filters: a customer typing into the box):
- `LIKE over jieba`: the query cut by jieba; an article matches when any token is a
  substring of its title, tags or body (`LIKE '%tok%' OR ...`); ranked by how many tokens
  matched, ties in corpus order — what a database without full-text search offers;
- `previous` (REV, default `main`): services/kb/text.py and index.py of that commit, loaded
  from git, with the handlers' query logic of that commit (search refuses a query over 200
  characters, as its schema did: counted as nothing found);
- `search` / `suggest`: this checkout's services/kb/ranking.py — the very functions the
  handlers call — with the shipped default dictionary (services/kb/dictionary.py).

Suggest is fed the way the intake form feeds it: the first sentence (≤ 60 characters) as
the title, the rest as the description.
"""
import argparse
import json
import math
import re
import subprocess
import sys
import types

import jieba

from bench.kb_eval.articles import articles
from bench.kb_eval.queries import queries
from services.kb import ranking, text
from services.kb.dictionary import Dictionary
from services.kb.index import SearchIndex


def _doc(a, tf, length):
    return {"id": a["id"], "terms": tf, "length": length, "status": "published",
            "visibility": "public", "language": a["language"], "product": None,
            "category": None}


# ---- rankers ----------------------------------------------------------------------------

def like_ranker(corpus):
    hay = [(a["id"], " ".join([a["title"], " ".join(a["keywords"]), a["body"]]).lower())
           for a in corpus]

    def rank(q, k):
        toks = {t for t in jieba.cut(q.lower()) if t.strip() and not re.fullmatch(r"\W+", t)}
        scored = [(sum(t in h for t in toks), i, aid) for i, (aid, h) in enumerate(hay)]
        return [aid for n, _i, aid in sorted(scored, key=lambda s: (-s[0], s[1])) if n][:k]
    return rank, rank


def _load_previous(rev):
    """services/kb/text.py and index.py as they were at `rev` (git show), as modules."""
    mods = {}
    for name in ("text", "index"):
        src = subprocess.run(["git", "show", f"{rev}:services/kb/{name}.py"], check=True,
                             capture_output=True, text=True).stdout
        mod = types.ModuleType(f"previous_kb_{name}")
        exec(compile(src, f"{rev}:services/kb/{name}.py", "exec"), mod.__dict__)
        mods[name] = mod
    return mods["text"], mods["index"]


def previous_ranker(corpus, rev):
    old_text, old_index = _load_previous(rev)
    index = old_index.SearchIndex()
    for a in corpus:
        tf, length = old_text.document_terms(a["title"], a["keywords"], a["body"])
        index.put(_doc(a, tf, length))

    def search(q, k):
        if len(q) > 200:  # the previous schema refused it (400): the customer sees nothing
            return []
        return [aid for aid, _s in index.search(old_text.query_terms(q), None, 0, k)[1]]

    def suggest(q, k):
        title, description = suggest_fields(q)
        terms = {t: n * 2 for t, n in old_text.query_terms(title).items()}
        for t, n in old_text.query_terms(description).items():
            terms[t] = terms.get(t, 0) + n
        return [aid for aid, _s in index.search(terms, None, 0, k, max_terms=12)[1]]
    return search, suggest


def current_ranker(corpus, dictionary):
    index = SearchIndex()
    for a in corpus:
        tf, length = text.document_terms(a["title"], a["keywords"], a["body"])
        index.put(_doc(a, tf, length))

    def search(q, k):
        return [aid for aid, _s in ranking.rank(index, dictionary, ranking.search_terms(q),
                                                None, 0, k, ranking.SEARCH_TERMS)[1]]

    def suggest(q, k):
        terms = ranking.suggest_terms(*suggest_fields(q))
        return [aid for aid, _s in ranking.rank(index, dictionary, terms, None, 0, k,
                                                ranking.SUGGEST_TERMS)[1]]
    return search, suggest


def blind_dictionary(corpus, qs):
    """The shipped dictionary without the terms that occur in a held-out query and in no
    article: what it would be had those queries never been seen."""
    from services.kb.dictionary import DEFAULTS
    held = " ".join(q["q"].lower() for q in qs if q["held_out"])
    docs = " ".join(" ".join([a["title"], " ".join(a["keywords"]), a["body"]]).lower()
                    for a in corpus)
    return Dictionary({"terms": [t for t in terms if t.lower() not in held or t.lower() in docs],
                       "weight": w} for terms, w in DEFAULTS)


def suggest_fields(q):
    m = re.search(r"[，。！？,.!?；;]", q)
    if len(q) <= 60 and not m:
        return q, ""
    cut = m.start() if m and m.start() <= 60 else 60
    return q[:cut], q[cut:]


# ---- metrics ----------------------------------------------------------------------------

def metrics(ranked, grades, k):
    """recall@k over the grade-2 answers; nDCG@k with gains 2^grade - 1."""
    relevant = {a for a, g in grades.items() if g == 2} or set(grades)
    recall = len(relevant & set(ranked[:k])) / len(relevant)
    dcg = sum((2 ** grades.get(a, 0) - 1) / math.log2(i + 2) for i, a in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return recall, dcg / idcg


def _mean(rows, key):
    return round(sum(r[key] for r in rows) / len(rows), 4) if rows else None


def evaluate(rank, qs, k=5):
    per = []
    for q in qs:
        got = rank(q["q"], k)
        recall, ndcg = metrics(got, q["grades"], k)
        per.append({**q, "got": got, "recall": recall, "ndcg": ndcg})
    out = {"all": per}
    for lang in ("zh", "en"):
        out[lang] = [r for r in per if r["language"] == lang]
    out["dev"] = [r for r in per if not r["held_out"]]
    out["held-out"] = [r for r in per if r["held_out"]]
    for cls in sorted({q["cls"] for q in qs}):
        out[cls] = [r for r in per if r["cls"] == cls]
    return {name: {"n": len(rows), "recall": _mean(rows, "recall"), "ndcg": _mean(rows, "ndcg")}
            for name, rows in out.items()}, per


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--previous", default="main")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    corpus, qs = articles(), queries()
    print(f"corpus: {len(corpus)} articles ({sum(a['language'] == 'zh' for a in corpus)} zh, "
          f"{sum(a['language'] == 'en' for a in corpus)} en); {len(qs)} queries "
          f"({sum(q['language'] == 'zh' for q in qs)} zh, "
          f"{sum(q['language'] == 'en' for q in qs)} en; {sum(q['held_out'] for q in qs)} "
          f"held out); k = {args.k}")
    rankers = [("LIKE over jieba", like_ranker(corpus))]
    try:
        rankers.append((f"previous ({args.previous})", previous_ranker(corpus, args.previous)))
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        print(f"(previous implementation not loaded: {e})", file=sys.stderr)
    rankers.append(("this checkout", current_ranker(corpus, Dictionary.default())))
    # ablations (search only): what the dictionary adds, and how much of it the held-out
    # queries owe to dictionary terms only they use (written by the same hand)
    rankers.append(("  same, no dictionary", (current_ranker(corpus, Dictionary())[0], None)))
    rankers.append(("  same, dict blind to held-out",
                    (current_ranker(corpus, blind_dictionary(corpus, qs))[0], None)))
    results = {}
    cols = ["all", "zh", "en", "dev", "held-out", "para", "compound", "filler", "model",
            "xlang", "long", "plain"]
    print(f"\n{'ranker':28s} " + " ".join(f"{c:>13s}" for c in cols))
    print(f"{'':28s} " + " ".join(f"{'R@5 / nDCG':>13s}" for _ in cols))
    for name, (search, suggest) in rankers:
        for mode, fn in (("search", search), ("suggest", suggest)):
            label = f"{name}: {mode}"
            if mode == "suggest" and (suggest is search or suggest is None):
                continue
            out, per = evaluate(fn, qs, args.k)
            results[label] = out
            print(f"{label:28s} " + " ".join(
                f"{out[c]['recall']:.2f} / {out[c]['ndcg']:.2f}".rjust(13) for c in cols))
            if args.show_misses and name == "this checkout":
                for r in per:
                    if r["ndcg"] < 0.7:
                        print(f"    {r['ndcg']:.2f} [{r['cls']}{' H' if r['held_out'] else ''}] "
                              f"{r['q'][:50]!r} got {r['got'][:3]} want "
                              f"{sorted(r['grades'], key=lambda a: -r['grades'][a])}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
