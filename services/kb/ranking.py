"""How a query becomes a ranking: the functions the search and suggest handlers call, and
bench/kb_eval measures. Pure: no nameko, no sqlalchemy.

1. `text.query_terms` — whole words and (lighter) sub-words, generic words and filler
   down-weighted;
2. the `max_terms` most informative of them (idf x weight: a pasted description keeps the
   words that name its problem; a word no article has but the dictionary knows stays);
3. expanded by the dictionary (dictionary.py), keeping the MAX_ADDED most telling additions;
4. BM25 over the index (index.py).
"""
from . import text

SEARCH_TERMS = 16    # a search box query longer than this is a pasted description
SUGGEST_TERMS = 12   # a draft's most informative terms rank its suggestions
# the dictionary's additions: each costs a pass over its posting list, so only the most
# telling are kept — no term no article has, none carried by more than COMMON of them
# (and more than 1,000: at 100,000 articles such a term's idf is tiny and its list long),
# at most MAX_ADDED
MAX_ADDED = 8
COMMON = 0.1


def search_terms(q):
    return text.query_terms(q)


def suggest_terms(title, description):
    """A draft: the title's terms count twice."""
    terms = {t: w * 2 for t, w in text.query_terms(title).items()}
    for t, w in text.query_terms(description).items():
        terms[t] = terms.get(t, 0) + w
    return terms


def rank(index, dictionary, terms, filters=None, offset=0, limit=10, max_terms=SEARCH_TERMS):
    """-> (total, [(article id, score)], the expanded terms — for highlighting)."""
    if dictionary is None:
        picked = index.informative(terms, max_terms)
    else:
        picked = index.informative(terms, max_terms, dictionary.bridged)
    common = max(COMMON * len(index), 1000)  # a small base has no "common" terms
    # a light term (sub-word, filler, generic word) that most articles carry: next to no
    # signal, a long posting list
    light = {t for t, w in picked.items() if w < 1 and index.doc_freq(t) > common}
    if light and len(light) < len(picked):
        picked = {t: w for t, w in picked.items() if t not in light}
    expanded = dict(picked)
    if dictionary is not None:
        added = [(t, w) for t, w in dictionary.expand(picked).items() if t not in picked]
        scored = sorted((-index.idf(n) * w, t, w) for t, w, n in
                        ((t, w, index.doc_freq(t)) for t, w in added) if 0 < n <= common)
        expanded.update((t, w) for _s, t, w in scored[:MAX_ADDED])
    total, page = index.search(expanded, filters, offset, limit)
    return total, page, expanded
