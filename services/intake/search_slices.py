"""A Chinese keyword's page read month by month: the **slices** plan of search_plans.py
(docs/performance.md, "Ticket search", "Stop 25").

A keyword in few tickets a month (a company's or a person's name: under ~1 % at 1,000,000
tickets over three years) is costly both ways search_plans.py reads: the walk to the page's
last row reads page / rate rows, the bitmap rechecks every match of the table. When the
grams' bound, or the rate a stage of the walk saw, says a month's matches cost less than
that walk (`worth_slicing`), the GIN index of the grams, the tickets' months and their
statuses (migrations 0015, 0016) answers "these grams, these months" — and under a status
filter "these statuses" — in one index scan, the newest months first, as many per statement
as the rate says (`slice_page`). Only for a sort the months follow (SLICEABLE) and a
keyword with CJK characters (pg_trgm's index has no months). The total: the matches of the
months read scaled by the time not read (exact when every month was read).
"""
import datetime as dt

from sqlalchemy import func, select

# search_plans imports this module inside its functions, never at import time: no cycle;
# its names are looked up here at call time (search_plans.X), where tests patch them
from . import search, search_plans
from .models import Ticket

SLICEABLE = ("created_at",)          # sort columns the search keys' months follow
MONTH_SECONDS = 30 * 86400


def slice_page(session, base, term, sort, offset, limit, bound, filtered, statuses=()):
    """A Chinese keyword's page from the search keys' index (migration 0015), a few months
    at a time in the sort's order, or None when walking is cheaper. Each statement asks the
    index for the tickets holding the keyword's grams and one of the chunk's months,
    intersected inside one index scan: it rechecks about the matches of those months
    (random heap pages, BITMAP_ROW_COST each), nothing of the tickets between them and
    nothing of the other months. Worth it when a month's matches cost less than the walk
    to the page's last row: at 1,000,000 tickets over three years a company's name (0.4 %,
    ~120 matches a month, against a 5,000-row walk) or a person's, not a word in 2 % of
    them. `bound`: the keyword's rate, an upper bound (the grams') or what a stage of the
    walk saw (among the `filtered` rows). `statuses`: a status filter's, looked up in the
    same index scan (migration 0016): a month's matches of other statuses are not read.
    The chunk: as many months as that rate, then the rate seen so far, says hold the rest
    of the page (slice_match: the condition).
    Total: every month read, exact; else the matches seen scaled by the time not read (an
    estimate: the filtered rows taken as even over time), counted up to COUNT_CAP when that
    says few."""
    wanted = offset + limit
    if not worth_slicing(session, bound, filtered, wanted):
        return None
    first, last = session.execute(select(func.min(Ticket.created_at),
                                         func.max(Ticket.created_at))).one()
    if first is None:
        return search_plans.Page([], "slices", 0, True)
    months = month_spans(first, last)
    if sort.startswith("-"):
        months.reverse()
    span = sum(seconds for _, seconds in months)
    order = search_plans.ordering(sort)
    match = slice_match(term, statuses)
    rate = bound * filtered / span  # matches a second, by the bound
    rows, seen, read, covered = [], 0, 0, 0.0
    while read < len(months) and len(rows) < limit:
        chunk, expected = [], 0.0
        while read < len(months) and (not chunk or expected < wanted - seen):
            key, seconds = months[read]
            chunk.append(key)
            expected += rate * seconds
            covered += seconds
            read += 1
        stmt = base.where(search.keys_overlap(Ticket, chunk)).where(match)
        skip = max(offset - seen, 0)
        with search_plans.bitmap_only(session):
            found = session.execute(search_plans.counted_page(stmt, order, skip,
                                                              limit - len(rows))).all()
            if found:
                matches = found[0][1]
            else:  # nothing in them, or all of them before the page: how many
                matches = session.scalar(search.count_statement(stmt, exact=True)) \
                    if skip else 0
        rows += [r[0] for r in found]
        seen += matches
        # the matches a second seen so far (none yet: reach four times as far)
        rate = seen / covered if seen else rate / 4
    if read >= len(months):
        return search_plans.Page(rows, "slices", seen, True)
    guess = max(round(seen * span / max(covered, 1.0)), seen)
    if guess > search.COUNT_CAP:
        return search_plans.Page(rows, "slices", guess, False)
    with search_plans.bitmap_only(session):  # few: the other months' matches counted too
        rest = session.scalar(search.count_statement(base.where(
            search.keys_overlap(Ticket, [key for key, _ in months[read:]])).where(match)))
    if seen + rest <= search.COUNT_CAP:
        return search_plans.Page(rows, "slices", seen + rest, True)
    return search_plans.Page(rows, "slices", search.COUNT_CAP + 1, False)


def slice_match(term, statuses=()):
    """The keyword's condition in a slice: its grams (and one of `statuses`) in the search
    keys, and the strpos, unindexed so that the planner cannot AND in pg_trgm's index on
    its estimate. (Not for
    a keyword without CJK characters: pg_trgm's index has no months. Tried with one index
    over the keys and the trigrams, an English name read two months in 3.7 ms instead of
    the whole table in 16 ms, but its total, under COUNT_CAP, then cost a lookup of every
    other month: 30-110 ms.)"""
    return keys_match(term, statuses) & search.unindexed_clause(Ticket, term)


def keys_match(term, statuses=()):
    """The search keys hold the keyword's grams and, with a status filter, one of its
    statuses: one GIN scan."""
    found = search.keys_contain(Ticket, search.query_grams(term))
    if statuses:
        found &= search.keys_overlap(Ticket, [search.status_key(s) for s in statuses])
    return found


def worth_slicing(session, bound, filtered, wanted):
    """Whether a month's matches (by the bound, the filtered rows taken as even over the
    time the tickets span: table_stats' oldest ticket to now) cost less than the walk to
    the page's last row (wanted / bound rows)."""
    oldest = search_plans.table_stats(session)["oldest"]
    if oldest is None:
        return False
    span = (dt.datetime.now(dt.timezone.utc) - oldest).total_seconds()
    month = bound * filtered * MONTH_SECONDS / max(span, MONTH_SECONDS)
    return search_plans.BITMAP_ROW_COST * max(month, wanted) * bound < wanted


def month_spans(first, last):
    """[(month key (search.month_key), seconds of that month between `first` and `last`)]
    from `first`'s month to `last`'s, oldest first (UTC; the partial months at both ends
    count their part)."""
    utc = dt.timezone.utc
    first, last = first.astimezone(utc), last.astimezone(utc)
    out = []
    start = dt.datetime(first.year, first.month, 1, tzinfo=utc)
    while start <= last:
        following = dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1,
                                tzinfo=utc)
        seconds = (min(following, last) - max(start, first)).total_seconds()
        out.append((search.month_key(start), max(seconds, 1.0)))
        start = following
    return out


def slice_statements(base, term, sort, offset, limit, statuses=()):
    """[(label, statement)] of the slices' first statement, the current month's (read_page
    asks for as many months as the rate says)."""
    if not search.query_grams(term) or sort.lstrip("-") not in SLICEABLE:
        return []
    month = search.month_key(dt.datetime.now(dt.timezone.utc))
    match = slice_match(term, statuses)
    return [(f"slices (if the grams' bound or a stage's rate says ~0.05-1 %: {month}, "
             "bitmap scans only)",
             search_plans.counted_page(
                 base.where(search.keys_overlap(Ticket, [month])).where(match),
                 search_plans.ordering(sort), offset, limit))]
