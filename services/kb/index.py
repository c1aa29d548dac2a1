"""The search index: in-memory postings with BM25 computed by numpy, per process.

Why in memory: the same code must rank identically on SQLite and PostgreSQL and answer
within milliseconds over 100,000 articles. The database stays the truth: each article row
carries its weighted term frequencies (`index_terms`, computed once when it is written), so
a process builds its index at start without re-tokenizing anything, and every write also
appends to `kb_index_log`; each kb instance polls that log (every 0.2 s by default) and
re-reads the articles it names. The instance that made a write applies it at once.

Layout: every indexed version of an article gets a *slot*; re-indexing an article marks its
old slot dead and appends a new one, and `compact()` squeezes dead slots out when they pile
up. Each term has a growable pair of numpy arrays (slot ids, term frequencies). Per-slot
arrays hold the length and the filter fields as small integer codes, so a filter is a
vectorised comparison.

Scoring is Okapi BM25 (k1 = 1.2, b = 0.75) over field-weighted frequencies (title and
keywords count three times, body once: a cheap BM25F). Document frequency and the average
length count live (not dead) slots only.
"""
import math

import numpy as np

K1, B = 1.2, 0.75
STATUSES = ("draft", "published", "archived")
VISIBILITIES = ("public", "internal")
LANGUAGES = ("zh", "en")
CODED = ("product", "product_line", "category")


class _Postings:
    __slots__ = ("ids", "tfs", "n")

    def __init__(self):
        self.ids = np.empty(4, np.int32)
        self.tfs = np.empty(4, np.float32)
        self.n = 0

    def add(self, slot, tf):
        if self.n == len(self.ids):
            self.ids = np.resize(self.ids, self.n * 2)
            self.tfs = np.resize(self.tfs, self.n * 2)
        self.ids[self.n] = slot
        self.tfs[self.n] = tf
        self.n += 1


class SearchIndex:
    def __init__(self, capacity=1024):
        self.postings = {}
        self.slot_of = {}        # article id -> live slot
        self.article_at = []     # slot -> article id
        self.size = 0            # slots used (live + dead)
        self.live = 0
        self.total_length = 0.0
        self.codes = {name: {} for name in CODED}
        self._alloc(capacity)

    def _alloc(self, capacity):
        self.alive = np.zeros(capacity, bool)
        self.length = np.zeros(capacity, np.float32)
        self.status = np.zeros(capacity, np.int8)
        self.visibility = np.zeros(capacity, np.int8)
        self.language = np.zeros(capacity, np.int8)
        self.coded = {name: np.full(capacity, -1, np.int32) for name in CODED}

    def _grow(self):
        cap = len(self.alive) * 2
        for name in ("alive", "length", "status", "visibility", "language"):
            arr = getattr(self, name)
            new = np.zeros(cap, arr.dtype)
            new[:len(arr)] = arr
            setattr(self, name, new)
        for name, arr in self.coded.items():
            new = np.full(cap, -1, np.int32)
            new[:len(arr)] = arr
            self.coded[name] = new

    def __len__(self):
        return self.live

    def _code(self, name, value):
        if value is None:
            return -1
        table = self.codes[name]
        return table.setdefault(value, len(table))

    # ---- writing -----------------------------------------------------------------------

    def put(self, doc):
        """Index (or re-index) one article. `doc`: id, terms {term: tf}, length, status,
        visibility, language, product, product_line, category."""
        self.remove(doc["id"])
        if self.size == len(self.alive):
            self._grow()
        slot = self.size
        self.size += 1
        self.article_at.append(doc["id"])
        self.slot_of[doc["id"]] = slot
        self.alive[slot] = True
        self.length[slot] = doc["length"]
        self.status[slot] = STATUSES.index(doc["status"])
        self.visibility[slot] = VISIBILITIES.index(doc["visibility"])
        self.language[slot] = LANGUAGES.index(doc["language"])
        for name in CODED:
            self.coded[name][slot] = self._code(name, doc.get(name))
        for term, tf in doc["terms"].items():
            postings = self.postings.get(term)
            if postings is None:
                postings = self.postings[term] = _Postings()
            postings.add(slot, tf)
        self.live += 1
        self.total_length += float(doc["length"])
        return slot

    def remove(self, article_id):
        slot = self.slot_of.pop(article_id, None)
        if slot is None:
            return False
        self.alive[slot] = False
        self.live -= 1
        self.total_length -= float(self.length[slot])
        if self.size > 4096 and (self.size - self.live) > self.size // 3:
            self.compact()
        return True

    def compact(self):
        """Drop dead slots: renumber live ones in order and filter every posting list."""
        keep = self.alive[:self.size]
        remap = np.cumsum(keep, dtype=np.int64) - 1
        for term in list(self.postings):
            p = self.postings[term]
            ids, tfs = p.ids[:p.n], p.tfs[:p.n]
            mask = keep[ids]
            if not mask.any():
                del self.postings[term]
                continue
            p.ids = remap[ids[mask]].astype(np.int32)
            p.tfs = tfs[mask].copy()
            p.n = len(p.ids)
        old = {name: getattr(self, name)[:self.size][keep]
               for name in ("alive", "length", "status", "visibility", "language")}
        old_coded = {name: arr[:self.size][keep] for name, arr in self.coded.items()}
        self.article_at = [a for a, k in zip(self.article_at, keep) if k]
        live = len(self.article_at)
        self._alloc(max(1024, live * 2))
        for name, arr in old.items():
            getattr(self, name)[:live] = arr
        for name, arr in old_coded.items():
            self.coded[name][:live] = arr
        self.size = live
        self.slot_of = {a: i for i, a in enumerate(self.article_at)}

    # ---- reading -----------------------------------------------------------------------

    def mask(self, filters):
        """Live slots passing `filters`: status/visibility/language (a value or a list of
        values) and product/product_line/category (a value or list)."""
        n = self.size
        m = self.alive[:n].copy()
        for name, names in (("status", STATUSES), ("visibility", VISIBILITIES),
                            ("language", LANGUAGES)):
            wanted = filters.get(name)
            if wanted:
                codes = [names.index(v) for v in _as_list(wanted) if v in names]
                m &= _among(getattr(self, name)[:n], codes)
        for name in CODED:
            wanted = filters.get(name)
            if wanted:
                codes = [self.codes[name][v] for v in _as_list(wanted) if v in self.codes[name]]
                m &= _among(self.coded[name][:n], codes)
        return m

    def scores(self, query, filters=None):
        """BM25 score of every slot (0 where no query term occurs or a filter fails).
        `query`: {term: weight} (text.query_terms: repetitions and the term's own weight)."""
        n = self.size
        out = np.zeros(n, np.float32)
        if not self.live:
            return out
        avgdl = max(self.total_length / self.live, 1e-6)
        norm = K1 * (1 - B + B * self.length[:n] / avgdl)
        alive = self.alive[:n]
        for term, qtf in query.items():
            p = self.postings.get(term)
            if p is None:
                continue
            ids, tfs = p.ids[:p.n], p.tfs[:p.n]
            live = alive[ids]
            df = int(live.sum())
            if not df:
                continue
            idf = math.log(1 + (self.live - df + 0.5) / (df + 0.5))
            weight = idf * min(qtf, 3.0)
            out[ids] += weight * tfs * (K1 + 1) / (tfs + norm[ids]) * live
        if filters:
            out *= self.mask(filters)
        return out

    def informative(self, query, max_terms, bridged=lambda term: ()):
        """The `max_terms` query terms that weigh most: idf (from the posting list's length)
        times the term's weight in the query, so a pasted description keeps the words that
        name its problem and drops the filler around them; terms no article has are dropped
        first (unless `bridged(term)` names the terms the dictionary leads it to: then it
        counts as the rarest of those) — the rest of a long draft adds cost and almost no
        ranking signal."""
        if len(query) <= max_terms:
            return query
        live = max(self.live, 1)
        floor = 0.3 * max(query.values())  # filler and generic words of a long text: dropped

        def df(t):
            p = self.postings.get(t)
            if p is not None:
                return p.n
            found = [self.postings[o].n for o in bridged(t) if o in self.postings]
            return min(found) if found else None
        known = sorted((-math.log(1 + (live - n + 0.5) / (n + 0.5)) * w, t)
                       for t, w, n in ((t, w, df(t)) for t, w in query.items())
                       if n is not None and w >= floor)
        return {t: query[t] for _s, t in known[:max_terms]}

    def doc_freq(self, term):
        """Slots carrying the term (dead ones included until compaction: an estimate)."""
        p = self.postings.get(term)
        return p.n if p is not None else 0

    def idf(self, df):
        live = max(self.live, 1)
        return math.log(1 + (live - df + 0.5) / (df + 0.5))

    def search(self, query, filters=None, offset=0, limit=10, max_terms=None):
        """(total matches, [(article id, score)] of the requested page), best first."""
        if max_terms:
            query = self.informative(query, max_terms)
        scores = self.scores(query, filters)
        hits = np.flatnonzero(scores > 0)
        total = len(hits)
        want = offset + limit
        if total > want:
            part = np.argpartition(-scores[hits], want - 1)[:want]
            hits = hits[part]
        # best first; among equal scores the most recently indexed first
        order = np.lexsort((-hits, -scores[hits]))
        page = hits[order][offset:want]
        return total, [(self.article_at[i], float(scores[i])) for i in page]

    def stats(self):
        return {"articles": self.live, "slots": self.size, "terms": len(self.postings)}


def _among(values, codes):
    if len(codes) == 1:
        return values == codes[0]
    return np.isin(values, codes)


def _as_list(value):
    return value if isinstance(value, (list, tuple, set, frozenset)) else [value]
