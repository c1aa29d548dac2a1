"""The search index of one kb process, kept in step with the database.

`LiveIndex.load()` builds it from the articles' stored term frequencies; `refresh()` reads
`kb_index_log` rows it has not applied yet and re-reads the articles they name (a row that
is gone is removed from the index). The provider in `dependencies.py` calls `refresh()`
every `KB.index_poll_interval` seconds, which is how an edit made on another instance
becomes searchable here; the instance that wrote applies it at once with `put_article`.

The search dictionary (dictionary.py, table `kb_synonyms`) travels the same way: an admin's
edit appends a log row whose article id is `DICTIONARY_MARK`, and every instance reloads the
dictionary when it sees one.

Log sequence numbers are not commit-ordered on PostgreSQL (a transaction holding seq 41 may
commit after one holding 42), so each poll looks back `WINDOW` numbers and skips those it
already applied: a late commit inside the window is still picked up.
"""
import collections
import datetime as dt
import logging

from sqlalchemy import delete, func, select

from .dictionary import Dictionary
from .index import SearchIndex
from .models import Article, IndexLog, SynonymGroup

log = logging.getLogger(__name__)
WINDOW = 500
DICTIONARY_MARK = "~dictionary"  # an index log row saying: the dictionary changed
_COLUMNS = (Article.id, Article.status, Article.visibility, Article.language, Article.product,
            Article.product_line, Article.category, Article.index_terms, Article.index_length)


def doc_of(row):
    return {"id": row.id, "terms": row.index_terms, "length": row.index_length,
            "status": row.status, "visibility": row.visibility, "language": row.language,
            "product": row.product, "product_line": row.product_line,
            "category": row.category}


class LiveIndex:
    def __init__(self, database):
        self.database = database
        self.index = SearchIndex()
        self.dictionary = Dictionary()
        self.last_seq = 0
        self.applied = collections.deque(maxlen=4 * WINDOW)
        self._applied_set = set()

    def load(self, batch=5000):
        with self.database.unit_of_work() as uow:
            self.last_seq = uow.session.scalar(select(func.max(IndexLog.seq))) or 0
        self.reload_dictionary()
        index = SearchIndex(capacity=1024)
        after = ""
        while True:  # keyset pages: no long transaction, no OFFSET scans
            with self.database.unit_of_work() as uow:
                rows = uow.session.execute(select(*_COLUMNS).where(Article.id > after)
                                           .order_by(Article.id).limit(batch)).all()
            for row in rows:
                index.put(doc_of(row))
            if len(rows) < batch:
                break
            after = rows[-1].id
        self.index = index
        return len(index)

    def reload_dictionary(self):
        with self.database.unit_of_work() as uow:
            rows = uow.session.execute(select(SynonymGroup.terms, SynonymGroup.weight)).all()
        self.dictionary = Dictionary({"terms": r.terms, "weight": r.weight} for r in rows)
        return len(self.dictionary)

    def put_article(self, article):
        """Apply a write this process just committed (an Article or a deleted id)."""
        if isinstance(article, str):
            self.index.remove(article)
        else:
            self.index.put(doc_of(article))

    def refresh(self):
        """Apply writes other processes committed; returns how many articles were re-read."""
        with self.database.unit_of_work() as uow:
            rows = uow.session.execute(select(IndexLog.seq, IndexLog.article_id).where(
                IndexLog.seq > self.last_seq - WINDOW).order_by(IndexLog.seq)).all()
            fresh = [r for r in rows if r.seq not in self._applied_set]
            if not fresh:
                return 0
            ids = sorted({r.article_id for r in fresh} - {DICTIONARY_MARK})
            found = {row.id: row for row in uow.session.execute(
                select(*_COLUMNS).where(Article.id.in_(ids))).all()}
        if any(r.article_id == DICTIONARY_MARK for r in fresh):
            self.reload_dictionary()
        for article_id in ids:
            if article_id in found:
                self.index.put(doc_of(found[article_id]))
            else:
                self.index.remove(article_id)
        for r in fresh:
            if len(self.applied) == self.applied.maxlen:
                self._applied_set.discard(self.applied[0])
            self.applied.append(r.seq)
            self._applied_set.add(r.seq)
            self.last_seq = max(self.last_seq, r.seq)
        return len(ids)

    def prune(self, older_than=dt.timedelta(days=1)):
        """Forget log rows every instance has long applied (any instance may do it)."""
        cutoff = dt.datetime.now(dt.timezone.utc) - older_than
        with self.database.unit_of_work() as uow:
            uow.session.execute(delete(IndexLog).where(IndexLog.at < cutoff))
            uow.commit()
