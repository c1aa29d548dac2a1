"""Keyword search over tickets and the totals of a list page (docs/performance.md, "Ticket
search").

A keyword matches a ticket when it is a substring (case-insensitive) of its number, title,
description, the submitter's or contact's name or the company's name: Chinese has no spaces
between words, so substring semantics is what finds 登录 inside 无法登录系统.

On PostgreSQL GIN indexes keep that off a sequential scan (migrations 0005, 0013):

- `ix_tickets_search_trgm`: pg_trgm over `ticket_search_text(...)`, the six fields joined
  by U+001F; answers any keyword with a run of >= 3 letters, digits or CJK characters.
- `ix_tickets_search_digits` (0013): the 8-digit windows of every run of 8+ digits in the
  same text, for keywords with such a run (ticket and serial numbers), whose trigrams occur
  in nearly every ticket's number.
- `ix_tickets_search_status_keys` (0015, 0016): the distinct CJK characters and CJK
  character pairs of the same fields (`search_grams`, a text[] written with the ticket),
  the ticket's creation month (`@202612`, UTC) and its status (`#new`), through
  `ticket_search_keys(search_grams, created_at, status)`; answers the 1- and 2-character
  Chinese keywords pg_trgm cannot (it needs three characters in a row), and any Chinese
  keyword one month or a few at a time, for the statuses a filter asks for only
  (search_slices.py).

Both only narrow the candidates: the ILIKE over `ticket_search_text` decides, so the result
is exactly the substring match. SQLite keeps a plain LIKE over the same fields (a scan).
Which of the two ways — walking the sort index or reading the GIN bitmap — answers a page is
chosen per keyword in search_plans.py, not left to the planner's estimate.

A page's total: when PostgreSQL's planner expects more than `COUNT_CAP` matches, its estimate
(`total_exact` false); otherwise counted, stopping at COUNT_CAP + 1 (then not exact either).
"""
import datetime as dt
import json
import re

from sqlalchemy import Text, bindparam, func, literal, or_, select
from sqlalchemy.dialects import postgresql

# CJK unified ideographs (+ extension A, compatibility), kana, hangul
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")
# a run pg_trgm extracts a trigram from (\w: letters, digits, CJK)
_TRIGRAM = re.compile(r"\w{3}")
# a run of eight or more ASCII digits (a ticket number, a serial number): looked up by its
# 8-digit windows (ticket_digit_windows, migration 0013) instead of its trigrams
_DIGITS = re.compile(r"[0-9]{8,}")
SEPARATOR = "\x1f"  # joins the fields in ticket_search_text; never part of a keyword
COUNT_CAP = 1000
# the fields a keyword is looked for in, in ticket_search_text's argument order
FIELDS = ("number", "title", "description", "submitter_name", "company_name", "contact_name")


def grams(*texts):
    """The distinct CJK characters and adjacent CJK pairs of `texts`, sorted."""
    out = set()
    for t in texts:
        for run in _CJK_RUN.findall(t or ""):
            out.update(run)
            out.update(run[i:i + 2] for i in range(len(run) - 1))
    return sorted(out)


def ticket_grams(ticket):
    """search_grams of a ticket (an object with the FIELDS as attributes)."""
    return grams(*(getattr(ticket, f) for f in FIELDS))


def query_grams(term):
    """What a ticket's search_grams must contain for it to contain `term`: every CJK pair
    of the term, or its lone CJK characters where a run is one character long."""
    out = set()
    for run in _CJK_RUN.findall(term):
        if len(run) == 1:
            out.add(run)
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    return sorted(out)


def month_key(moment):
    """The key `ticket_search_keys` (migration 0015) adds for a ticket created at `moment`:
    its month in UTC, `@YYYYMM` (never a CJK gram)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return f"@{moment.year:04d}{moment.month:02d}"


def status_key(status):
    """The key `ticket_search_keys` (migration 0016) adds for a ticket's status: `#new`."""
    return f"#{status}"


def search_keys(ticket):
    """The GIN-indexed keys of a ticket (ix_tickets_search_status_keys): its grams, month
    and status."""
    return func.ticket_search_keys(ticket.search_grams, ticket.created_at, ticket.status)


def clean(keyword):
    return keyword.replace(SEPARATOR, " ").strip()


def like_pattern(term):
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def indexable(term):
    """Whether a GIN index can look `term` up: a run of three letters, digits or CJK
    characters (pg_trgm), or CJK characters (the grams)."""
    return bool(_TRIGRAM.search(term) or query_grams(term))


def match_clause(ticket, term):
    """The condition that decides (PostgreSQL): `term` is a substring of the joined fields."""
    return func.ticket_search_text(*(getattr(ticket, f) for f in FIELDS)) \
        .ilike(like_pattern(term), escape="\\")


def filter_clause(ticket, term):
    """The deciding condition as a plain row filter (a walk, where no index is used): for a
    term without letter case (Chinese, digits, punctuation) `strpos`, the same match as the
    ILIKE without lower-casing every ticket's text first (at 1,000,000 tickets about a
    third of a walk's time); otherwise the ILIKE."""
    joined = func.ticket_search_text(*(getattr(ticket, f) for f in FIELDS))
    if term.lower() == term.upper():
        return func.strpos(joined, term) > 0
    if term.isascii():
        # an ASCII keyword needs only ASCII letters folded: under the "C" collation ILIKE
        # lower-cases byte by byte instead of converting every character to a wide char
        # and back (at 1,000,000 tickets a 4,000-row walk for "crashes" 8.9 -> 4.8 ms).
        # It differs from the default collation's ILIKE only where a non-ASCII letter
        # lower-cases to an ASCII one (the Kelvin sign K, dotted İ)
        return joined.collate("C").ilike(like_pattern(term), escape="\\")
    return match_clause(ticket, term)


def digit_windows(term):
    """The distinct 8-digit windows of the term's runs of 8+ ASCII digits (what
    ticket_digit_windows gives for a ticket's text), sorted; empty without such a run."""
    return sorted({run[i:i + 8] for run in _DIGITS.findall(term)
                   for i in range(len(run) - 7)})


def keyword_clause(ticket, term, dialect, indexed=True):
    """The WHERE condition for a keyword on this dialect. `indexed=False` is the plain
    ILIKE scan over the columns (SQLite always; on PostgreSQL the benchmark's baseline)."""
    pattern = like_pattern(term)
    if dialect != "postgresql" or not indexed:
        return or_(*(getattr(ticket, f).ilike(pattern, escape="\\") for f in FIELDS))
    condition = match_clause(ticket, term)
    windows = digit_windows(term)
    if windows:  # every digit trigram is in nearly every ticket's number: not those
        text = func.ticket_search_text(*(getattr(ticket, f) for f in FIELDS))
        return func.ticket_digit_windows(text).op("@>")(
            bindparam(None, windows, type_=postgresql.ARRAY(Text))) & condition
    needed = query_grams(term) if not _TRIGRAM.search(term) else ()
    if needed:  # pg_trgm has nothing to look up; with both, estimates multiply into nonsense
        # (and the ILIKE deciding unindexed: in the one search index a pattern without a
        # trigram would make its trigram column read every entry)
        return keys_contain(ticket, needed) & unindexed_clause(ticket, term)
    return condition


def keyed(term):
    """Whether the search keys narrow `term` as well as its trigrams would: it has CJK
    characters and, outside them, no run of three letters or digits (a trigram the keys
    do not hold)."""
    return bool(query_grams(term)) and not _TRIGRAM.search(_CJK_RUN.sub(" ", term))


def keys_contain(ticket, keys):
    """The ticket's search keys hold every one of `keys` (grams, months: the GIN index)."""
    return search_keys(ticket).op("@>")(bindparam(None, list(keys),
                                                  type_=postgresql.ARRAY(Text)))


def keys_overlap(ticket, keys):
    """The ticket's search keys hold one of `keys` at least (months: the GIN index)."""
    return search_keys(ticket).op("&&")(bindparam(None, list(keys),
                                                  type_=postgresql.ARRAY(Text)))


def unindexed_clause(ticket, term):
    """The deciding condition in a form no index answers (strpos over the joined fields,
    lower-cased first for a term with letter case: what ILIKE does): where the GIN bitmap
    of the search keys must be the only index read, so that the planner cannot AND in the
    pg_trgm index on an estimate (search_slices.slice_page)."""
    joined = func.ticket_search_text(*(getattr(ticket, f) for f in FIELDS))
    if term.lower() == term.upper():
        return func.strpos(joined, term) > 0
    return func.strpos(func.lower(joined), func.lower(literal(term, Text))) > 0


def count_statement(stmt, exact=False):
    """count(*) of the list query's matches, stopped at COUNT_CAP + 1 unless `exact`."""
    if exact:
        return select(func.count()).select_from(stmt.order_by(None).subquery())
    capped = stmt.with_only_columns(literal(1), maintain_column_froms=True) \
        .order_by(None).limit(COUNT_CAP + 1)
    return select(func.count()).select_from(capped.subquery())


def page_total(session, stmt, dialect, offset, rows, page_size, exact=False, cache=None):
    """(total, exact?) for a page whose rows are `rows`. PostgreSQL: the planner's estimate
    when it expects more than COUNT_CAP matches (no counting at all), else counted up to
    COUNT_CAP (and COUNT_CAP + 1, not exact, past it). SQLite counts every match (small installations; its count is a scan
    like its search). `exact=True`: count (the benchmark's baseline). `cache`: where the
    estimate is kept (estimate)."""
    if exact or dialect != "postgresql":
        return session.scalar(count_statement(stmt, exact=True)), True
    if (rows and len(rows) < page_size) or (not rows and offset == 0):
        return offset + len(rows), True  # the last page: nothing to count
    guess = estimate(session, stmt, cache)
    if guess > COUNT_CAP:  # counting even 1,001 matches of a frequent keyword reads a
        return guess, False  # large GIN bitmap: the planner's figure is the answer
    counted = session.scalar(count_statement(stmt))
    if counted <= COUNT_CAP:
        return counted, True
    return COUNT_CAP + 1, False


def estimate(session, stmt, cache=None):
    """The planner's row estimate for the query (PostgreSQL). `cache`: a dict it is kept
    in, by statement and parameters (search_plans.filtered_rows)."""
    compiled = stmt.order_by(None).compile(dialect=session.bind.dialect,
                                           compile_kwargs={"render_postcompile": True})
    sql = "EXPLAIN (FORMAT JSON) " + str(compiled)
    key = (str(session.bind.url), sql, repr(sorted(compiled.params.items())))
    if cache is not None and key in cache:
        return cache[key]
    plan = session.connection().exec_driver_sql(sql, compiled.params).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    rows = int(plan[0]["Plan"]["Plan Rows"])
    if cache is not None:
        cache[key] = rows
    return rows
