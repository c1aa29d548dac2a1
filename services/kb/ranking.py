"""How a query becomes a ranking: the functions the search and suggest handlers call, and
bench/kb_eval measures. Pure: no nameko, no sqlalchemy.

1. `text.query_terms` — whole words and (lighter) sub-words, generic words and filler
   down-weighted;
2. the `max_terms` most informative of them (idf x weight: a pasted description keeps the
   words that name its problem; a word no article has but the dictionary knows stays);
3. expanded by the dictionary (dictionary.py);
4. BM25 over the index (index.py).
"""
from . import text

SEARCH_TERMS = 16    # a search box query longer than this is a pasted description
SUGGEST_TERMS = 12   # a draft's most informative terms rank its suggestions


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
    expanded = dictionary.expand(picked) if dictionary is not None else picked
    total, page = index.search(expanded, filters, offset, limit)
    return total, page, expanded
