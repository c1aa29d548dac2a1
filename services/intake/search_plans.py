"""How a page of keyword matches is read on PostgreSQL, and its total (docs/performance.md,
"Ticket search", "One plan per keyword").

A list page wants the first `offset + page_size` matches in the sort order. Two plans:

- **walk**: read the tickets that pass the filters in the sort order (the created_at or number
  btree) and keep those whose text contains the keyword, stopping at the page's last row:
  ~page / hit-rate rows — a few hundred for a frequent keyword (登录: 8 % of the tickets), the
  whole table for a rare one.
- **bitmap**: the GIN index (pg_trgm, or the CJK grams) finds every candidate, each one is
  rechecked and the matches sorted: cheap for a rare keyword, 80,000 heap rechecks (seconds)
  for a frequent one.

Left to itself the planner chooses from an estimate that is coarse for the ILIKE (a histogram
of 100 whole texts: no hit reads as 0.01 %) and multiplied into nonsense with the grams
condition (2 rows expected for 24,433), and reads frequent keywords by their bitmap. Here:

1. a keyword with CJK characters has an upper bound b on its hit rate: the frequency of its
   rarest character pair (or character) among the grams, which ANALYZE keeps in
   `pg_stats.most_common_elems` of `search_grams` (read once every STATS_TTL seconds). The
   bitmap reads at most b x F rows (F: the filtered rows), each a random heap page and a
   recheck, BITMAP_ROW_COST (5) times what a walked row costs; the walk reads about page / b
   rows in the index's order: when the first is the cheaper (b <= sqrt(page / (5 F)), 0.2 %
   for a first page at 1,000,000 tickets), **bitmap** — as a keyword whose grams are all rarer
   than the statistics list (a person's name) usually is;
2. otherwise the **walk**: first a probe of PROBE_ROWS_PER_ROW rows per row wanted (500
   for a first page of 20), then, while the hits so far say it can, stages STAGE_GROWTH
   times longer (2,500) up to a budget of WALK_ROWS_PER_ROW (10,000 for a first page),
   each starting after the last row the one before walked (keyset: no row is matched
   twice), and a walk that runs out of rows has every match and its exact total, without
   the bitmap. A filter on several statuses is walked status by status from the (status,
   created_at, id) btree and merged (`split`). A keyword in more than 1/500 of the tickets
   fills the page within it; one that does not has few matches, and the **bitmap** reads
   them (forced: with index and sequential scans off, the planner has only bitmap scans).
   When the bound already says the rate is under 4 %, the probe is skipped; and when it
   says a month holds so few matches that reading them costs less than the walk (a
   company's or a person's name: under ~1 % at 1,000,000 tickets over three years), the
   page comes from the **slices** instead: the newest months' matches, read from the
   search keys' GIN index (search_slices.py); under a status filter the bitmap looks the
   statuses up in that index's scan too (`bitmap_clause`). A keyword with
   eight digits in a row (a ticket number to the day, a serial number) keeps the planner's
   one statement: it names a few tickets, which the planner estimates right and reads by
   their bitmap (at 100,000 tickets 5–11 ms, against 13–18 ms for the forced bitmap with
   its window count and join).
   Both count rows that pass the filters: a status filter makes the walk read more rows,
   but a row it drops costs a heap fetch in the table's order and no ILIKE, while the
   bitmap rechecks its matches on random pages (at 1,000,000 tickets, 录时提示 + status
   new/in_progress, before 0016 put the statuses in the keys: the walk 61 ms, the bitmap
   with the status btree ANDed in 450 ms, loaded machine).

Either way the rows read are bounded by about the budget, whatever the statistics say.

Totals, none of which scans: after a walk, its hit rate (`page / rows walked`) times the
planner's estimate of the filtered rows (good for plain column filters), an estimate; after a
bitmap, `count(*) OVER ()` of the matches it has read anyway, exact; after slices, the
matches of the months read scaled by the time not read (exact when every month was read).
Keywords no index can look up (one or two Latin letters or digits: "IE", "5G") and sorts no
btree serves (updated_at, priority, sla_due_at) keep one statement and the planner's choice
(`planner`, search.page_total). SQLite has no GIN: its LIKE scan is one statement (`scan`).
"""
import re
import time
from dataclasses import dataclass

from sqlalchemy import Integer, and_, func, literal, select, text, tuple_, union_all

from . import search
from .models import Ticket

# the walk reads rows in the order of the table (created_at follows it): ~5x cheaper each
# than the bitmap's random heap pages, so it may read 5x more
WALK_ROWS_PER_ROW = 500     # the walk gives up below a hit rate of 1/500 (0.2 %)
PROBE_ROWS_PER_ROW = 25     # the first, short walk: a hit rate of 4 % fills the page
STAGE_GROWTH = 5            # each later stage of the walk: 5x the rows of the one before
WALK_MAX_ROWS = 25_000      # deep pages: past this the bitmap (which sorts) is cheaper
# a row of the bitmap (a random heap page, a recheck) against a walked row (the next index
# entry, a strpos): at 1,000,000 tickets 52 ms for 4,421 rows against 5 ms for 4,230, on a
# small shared_buffers; 5 is the middle ground for a server that holds more of the table
BITMAP_ROW_COST = 5
WALKABLE = ("created_at", "number")  # sort columns whose btree serves the order
# IN filters with a btree on (column, sort column, id), per sort column (migration 0014)
SPLIT_INDEXES = {"status": ("created_at",)}
MODES = ("indexed", "planner", "scan")
_IDENTIFIER = re.compile(r"\d{8}")
STATS_TTL = 600.0
_stats = {}                 # database url -> (read at, table_stats)
ESTIMATES_KEPT = 512
_estimates = {"since": 0.0, "rows": {}}  # filtered_rows' estimates, emptied every STATS_TTL


@dataclass
class Page:
    rows: list
    plan: str               # walk | bitmap | slices | planner | scan
    total: int = 0
    exact: bool = True
    walked: int = 0         # rows the walk read (walk)


def choose(dialect, mode, sort, term):
    """The first plan for a list request: walk (which may hand over to the bitmap), planner
    (one statement, the planner's choice) or scan (SQLite, or the baseline's ILIKE)."""
    if dialect != "postgresql" or mode == "scan":
        return "scan"
    # eight digits in a row (a ticket number to the day, a serial number) name a few
    # tickets: the planner estimates those right and reads them by their bitmap itself
    if not term or mode == "planner" or not search.indexable(term) \
            or sort.lstrip("-") not in WALKABLE or _IDENTIFIER.search(term):
        return "planner"
    return "walk"


def budget(wanted):
    return min(WALK_ROWS_PER_ROW * wanted, WALK_MAX_ROWS)


def probe(wanted):
    return min(PROBE_ROWS_PER_ROW * wanted, budget(wanted))


def stages(wanted):
    """The walk's stages, each going on after the last: the probe, STAGE_GROWTH times it,
    ..., the budget. After each, the hit rate so far must say the budget can fill the page.
    (One stage after the probe used to be the whole budget: a name in 0.05 % of 1,000,000
    tickets has one hit in a 500-row probe one time in five, and then walked 10,000 rows,
    28 ms, before its bitmap; now 2,500.)"""
    out, rows = [], probe(wanted)
    most = budget(wanted)
    while rows < most:
        out.append(rows)
        rows *= STAGE_GROWTH
    out.append(most)
    return tuple(out)


def read_page(session, base, term, sort, offset, limit, mode="indexed", split=None):
    """-> Page. `base`: select(Ticket) with visibility and filters, without keyword or
    order. `split`: (column, values) of an IN filter in `base` whose btree (column, sort
    column, id) the walk reads value by value, merged (see walk_statement)."""
    from . import search_slices  # at call time: it imports this module, so no import cycle
    dialect = session.bind.dialect.name
    plan = choose(dialect, mode, sort, term)
    order = ordering(sort)
    if plan in ("scan", "planner"):
        stmt = base.where(search.keyword_clause(Ticket, term, dialect, plan != "scan")) \
            if term else base
        rows = session.scalars(stmt.order_by(*order(Ticket)).offset(offset)
                               .limit(limit)).all()
        # a page of filters alone: their estimate is the one filtered_rows keeps
        total, exact = search.page_total(session, stmt, dialect, offset, rows, limit,
                                         exact=plan == "scan",
                                         cache=None if term else kept_estimates())
        return Page(rows, plan, total, exact)
    stats = table_stats(session)
    filtered = filtered_rows(session, base, stats)
    bound = match_bound(stats, term)
    wanted = offset + limit
    statuses = status_filter(split)
    # the bitmap reads at most bound x filtered rows, the walk about wanted / bound, each
    # of the bitmap's rows BITMAP_ROW_COST times the walk's
    if bound is None or bound * bound * filtered * BITMAP_ROW_COST > wanted:
        # (rows that pass the filters: those a filter drops cost a heap fetch, no ILIKE)
        most = budget(wanted)
        # the matches of the newest months where they cost less than walking on (a sort
        # the months follow)
        sliceable = sort.lstrip("-") in search_slices.SLICEABLE
        # a probe cannot fill the page when the bound says the rate is under its 1/25
        if bound is not None and bound * probe(wanted) < wanted:
            page = search_slices.slice_page(session, base, term, sort, offset, limit, bound,
                                            filtered, statuses) if sliceable else None
            if page is not None:
                return page
            walks = (most,)
        else:
            walks = stages(wanted)
        walk = Walk(session, base, term, sort, offset, limit, splittable(split, sort))
        for end in walks:
            if walk.stage(end):
                if len(walk.rows) == limit:
                    last = walk.rows[-1][1]
                    total, exact = walk_total(session, base, term, wanted, last, filtered)
                    return Page([r[0] for r in walk.rows], "walk", total, exact, last)
                # every filtered row walked: the matches are all known
                return Page([r[0] for r in walk.rows], "walk", walk.matched, True,
                            walk.walked)
            if sliceable and end < most and bound is not None:
                # the rate the stage saw (no hit: taken as one), where the grams' bound
                # said too much (pairs frequent apart, rare together)
                page = search_slices.slice_page(session, base, term, sort, offset, limit,
                                                max(walk.matched, 1) / walk.walked,
                                                filtered, statuses)
                if page is not None:
                    return page
            # the hit rate so far says the budget would not fill the page either; checked
            # after each stage, so one lucky hit in the probe costs the next stage, not the
            # budget
            if end >= most or walk.matched * most < wanted * end:
                break
    return bitmap_page(session, base, term, order, offset, limit, statuses)


def filtered_rows(session, base, stats):
    """The planner's estimate of the tickets that pass the filters: the table's count when
    there is none; else an EXPLAIN (1.8-4.3 ms at 1,000,000 tickets, a third of a sliced
    page's time), kept for STATS_TTL seconds by statement and parameters — the same queue
    views ask again and again, and the estimate changes only with ANALYZE."""
    if base.whereclause is None and stats["rows"] >= 0:
        return stats["rows"]
    return search.estimate(session, base, kept_estimates())


def kept_estimates():
    """The dict of kept estimates, emptied every STATS_TTL seconds or when full."""
    now = time.monotonic()
    if now - _estimates["since"] > STATS_TTL or len(_estimates["rows"]) >= ESTIMATES_KEPT:
        _estimates.update(since=now, rows={})
    return _estimates["rows"]


def forget():
    """Drop what is kept of the statistics and estimates (tests, after loading data)."""
    _stats.clear()
    _estimates.update(since=0.0, rows={})


def status_filter(split):
    """The statuses a status filter asks for (each once), or () without one: the search
    keys hold them (migration 0016)."""
    return _distinct(split) if split and split[0] == "status" else ()


def _distinct(split):
    """The values of an IN filter (column, values), each once (no row read twice)."""
    return tuple(dict.fromkeys(split[1])) if split else ()


def splittable(split, sort):
    """`split` if the walk can read it value by value from a btree (SPLIT_INDEXES), else
    None."""
    values = _distinct(split)
    if len(values) > 1 and sort.lstrip("-") in SPLIT_INDEXES.get(split[0], ()):
        return split[0], values
    return None


def ordering(sort):
    """sort -> a function of a Ticket-like entity giving its ORDER BY (id breaks ties)."""
    column = sort.lstrip("-")
    descending = sort.startswith("-")

    def order(entity):
        by = (getattr(entity, column), entity.id)
        out = [c.desc() if descending else c.asc() for c in by]
        if column == "sla_due_at":  # tickets without a running clock last, either way
            out.insert(0, entity.sla_due_at.is_(None))
        return out
    return order


class Walk:
    """The walk of one page, stage by stage. Each stage starts after the last row the one
    before walked (keyset, through the sort's btree): an OFFSET would number and match the
    earlier stages' rows all over again (at 1,000,000 tickets a company name, ~3,300 rows
    to a first page, matched 6,300)."""

    def __init__(self, session, base, term, sort, offset, limit, split=None):
        self.session, self.base, self.term, self.sort = session, base, term, sort
        self.split = split
        self.order = ordering(sort)
        self.offset, self.limit = offset, limit
        self.rows = []      # [(Ticket, rows walked up to it)] of the page
        self.matched = 0    # matches walked, the offset's included
        self.walked = 0     # filtered rows walked
        self.after = None   # the last of them: (sort value, id)

    def stage(self, end):
        """Walk on up to `end` rows. True when the page is full or every filtered row has
        been walked (the stage ran out before `end`)."""
        skip = max(self.offset - self.matched, 0)
        found = self.session.execute(walk_statement(
            self.base, self.term, self.order, skip, self.offset + self.limit - self.matched,
            self.walked, end - self.walked, edge_of(self.sort, self.after),
            self.split)).all()
        reached = False
        for ticket, walked, hit, nth, key, id_ in found:
            if hit:
                self.matched += 1
                if not skip or nth > skip:
                    self.rows.append((ticket, walked))
            if walked == end:
                reached, self.after = True, (key, id_)
        self.walked = end if reached else (found[-1][1] if found else self.walked)
        return len(self.rows) == self.limit or not reached


def walk_statement(base, term, order, skip, matches, walked_before, rows, after=None,
                   split=None):
    """One stage of the walk: the next `rows` filtered tickets in sort order (after `after`,
    a keyset condition; from the start when None), numbered on from `walked_before` (a
    LIMIT in a subquery: the planner can neither push the keyword into it nor pick the
    bitmap); of those, the ones containing the keyword up to the `matches`-th, and the
    stage's last row, whatever it holds (where the next stage starts). Rows (Ticket or
    None, rows walked up to it, hit, its rank among the stage's hits, sort value, id):
    the Ticket only for hits past the first `skip`.

    The walk is kept narrow — the id, the sort keys, whether the row matches and its number
    — and only the page's tickets are read whole, by id: numbering (a window) thousands of
    whole tickets copied each one (at 1,000,000 tickets half of a 4,000-row walk's time).

    `split` (column, values): the rows of `column IN values` in the sort's order come from
    no index (a btree on (column, sort column, id) gives them value by value); the walk
    reads each value's rows in order and merges them (a Merge Append), instead of reading
    the sort's index and dropping what the filter does not pass (at 1,000,000 tickets, 90 %
    of them closed: a 1,060-row walk of new + in_progress read 10,848 tickets, 6.5 ms;
    merged 2.2 ms)."""
    keys = [c.element if hasattr(c, "element") else c for c in order(Ticket)]
    stmt = base if after is None else base.where(after)
    end = walked_before + rows
    narrow = (Ticket.id, *(k for k in keys if getattr(k, "key", None) != "id"),
              search.filter_clause(Ticket, term).label("hit"))
    if split:
        on, values = split
        parts = [stmt.where(getattr(Ticket, on) == value)
                 .with_only_columns(*narrow, maintain_column_froms=True)
                 .order_by(*order(Ticket)).limit(rows).subquery() for value in values]
        merged = union_all(*(select(part) for part in parts)).subquery()
        inner = select(*merged.c, (func.row_number().over(order_by=order(merged.c))
                                   + walked_before).label("walked")) \
            .order_by(*order(merged.c)).limit(rows).subquery()
    else:
        inner = stmt.with_only_columns(
            *narrow,
            (func.row_number().over(order_by=order(Ticket)) + walked_before).label("walked"),
            maintain_column_froms=True) \
            .order_by(*order(Ticket)).limit(rows).subquery()
    column = keys[0].key  # a walkable sort: (its column, id)
    # the hits' running count, only to skip the first `skip` (a window at the page's level
    # costs ~0.3 ms a page and reads one row past the last one it returns)
    nth = func.count().filter(inner.c.hit).over(order_by=order(inner.c), rows=(None, 0)) \
        if skip else literal(None, Integer)
    page = select(inner.c.id, inner.c[column], inner.c.walked, inner.c.hit,
                  nth.label("nth")) \
        .where(inner.c.hit | (inner.c.walked == end)) \
        .order_by(*order(inner.c)).limit(matches).subquery()
    wanted = and_(Ticket.id == page.c.id, page.c.hit)
    return select(Ticket, page.c.walked, page.c.hit, page.c.nth, page.c[column],
                  page.c.id).select_from(page) \
        .outerjoin(Ticket, and_(wanted, page.c.nth > skip) if skip else wanted) \
        .order_by(*order(page.c))


def edge_of(sort, after):
    """The keyset condition "after this row" in the `sort` order ((sort value, id); None:
    from the start): a row comparison the (created_at, id) btree answers as its range."""
    if after is None:
        return None
    column = getattr(Ticket, sort.lstrip("-"))
    row, edge = tuple_(column, Ticket.id), tuple_(*after)
    return row < edge if sort.startswith("-") else row > edge


def walk_total(session, base, term, wanted, walked, filtered):
    """The walk's hit rate times the filtered rows: an estimate; counted (up to COUNT_CAP)
    when that says few."""
    guess = max(round(filtered * wanted / walked), wanted)
    if guess > search.COUNT_CAP:
        return guess, False
    stmt = base.where(search.keyword_clause(Ticket, term, "postgresql"))
    counted = session.scalar(search.count_statement(stmt))
    if counted <= search.COUNT_CAP:
        return counted, True
    return search.COUNT_CAP + 1, False


def bitmap_statement(base, term, order, offset, limit, statuses=()):
    """The page of matches with the number of all matches (counted_page)."""
    return counted_page(base.where(bitmap_clause(term, statuses)), order, offset, limit)


def bitmap_clause(term, statuses=()):
    """The keyword's condition for its bitmap. Under a status filter, a keyword the search
    keys narrow (search.keyed) is looked up with its statuses in one GIN scan (migration
    0016): at 1,000,000 tickets, 10 % of them new or in progress, pg_trgm's bitmap rechecked
    every status's matches, or the planner ANDed in 100,000 entries of the status btree."""
    from . import search_slices  # (see read_page)
    if statuses and search.keyed(term):
        # the same lookup, without the months
        return search_slices.slice_match(term, statuses)
    return search.keyword_clause(Ticket, term, "postgresql")


def counted_page(stmt, order, offset, limit):
    """The page of `stmt`'s rows with the number of all its rows: count(*) OVER () over the
    rows the sort reads anyway, kept narrow (id and sort keys: thousands of whole tickets
    would spill the window's buffer to disk), then the page's tickets joined by id."""
    keys = [c.element if hasattr(c, "element") else c for c in order(Ticket)]
    inner = stmt.with_only_columns(*dict.fromkeys([Ticket.id, *keys]),
                                   func.count().over().label("matches"),
                                   maintain_column_froms=True) \
        .order_by(*order(Ticket)).offset(offset).limit(limit).subquery()
    return select(Ticket, inner.c.matches).join(inner, inner.c.id == Ticket.id) \
        .order_by(*order(Ticket))


def bitmap_page(session, base, term, order, offset, limit, statuses=()):
    """Every match through the GIN index, sorted; the window count of them is the total."""
    with bitmap_only(session):
        found = session.execute(bitmap_statement(base, term, order, offset, limit,
                                                 statuses)).all()
    rows = [r[0] for r in found]
    if found:
        return Page(rows, "bitmap", found[0][1], True)
    if offset == 0:
        return Page(rows, "bitmap", 0, True)
    # past the last page: how many there are (few: the bitmap's plan was chosen for that)
    with bitmap_only(session):
        total = session.scalar(search.count_statement(
            base.where(bitmap_clause(term, statuses)), exact=True))
    return Page(rows, "bitmap", total, True)


class bitmap_only:
    """Within the transaction, the planner may read tickets through bitmap scans only."""

    def __init__(self, session):
        self.connection = session.connection()

    def __enter__(self):
        self.connection.exec_driver_sql(
            "SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off")

    def __exit__(self, *exc):
        if exc[0] is None:  # after an error the transaction is rolled back, SET LOCAL too
            self.connection.exec_driver_sql("RESET enable_indexscan; RESET enable_seqscan")


def match_bound(stats, term):
    """An upper bound on the fraction of tickets containing `term`, from the grams'
    statistics: the frequency of its rarest CJK gram. None: no CJK, or no statistics yet."""
    needed = search.query_grams(term)
    if not needed or stats["grams"] is None:
        return None
    return min(stats["grams"].get(g, stats["floor"]) for g in needed)


def table_stats(session):
    """{"rows": the planner's count of tickets (-1: never analyzed), "grams": {gram:
    fraction of tickets} (None: no statistics yet), "floor": the fraction below which grams
    are not listed, "oldest": the oldest ticket's created_at (None: no tickets)}, from
    ANALYZE (pg_class, pg_stats' most common elements of search_grams),
    cached per database for STATS_TTL seconds."""
    key = str(session.bind.url)
    cached = _stats.get(key)
    if cached and time.monotonic() - cached[0] < STATS_TTL:
        return cached[1]
    rows, elems, freqs, oldest = session.execute(text(
        "SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs, "
        "(SELECT min(created_at) FROM tickets) "
        "FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() "
        "AND s.tablename = 'tickets' AND s.attname = 'search_grams' "
        "WHERE c.oid = 'tickets'::regclass")).one()
    stats = {"rows": float(rows), "grams": None, "floor": 1.0, "oldest": oldest}
    if elems:  # the frequencies are followed by their minimum, maximum and null frequency
        stats.update(grams=dict(zip(elems, freqs)), floor=float(freqs[len(elems)]))
    _stats[key] = (time.monotonic(), stats)
    return stats


def explain_statements(base, term, sort, offset, limit, split=None):
    """[(label, statement)] of the walk and of the bitmap it hands over to (the benchmark
    prints their plans; the bitmap's with bitmap scans only, as read_page runs it)."""
    from . import search_slices  # (see read_page)
    order = ordering(sort)
    wanted = offset + limit
    statuses = status_filter(split)
    split = splittable(split, sort)
    first, later = probe(wanted), (stages(wanted)[1:2] or (budget(wanted),))[0]
    return [(f"walk (probe: {first} rows)",
             walk_statement(base, term, order, offset, wanted, 0, first, None, split)),
            (f"walk (next stage: {later - first} rows; read_page starts it after the "
             "probe's last row, here from the first)",
             walk_statement(base, term, order, 0, limit, first, later - first, None, split)),
            ("bitmap (if the grams' bound says few, or the walk gives up; bitmap scans only)",
             bitmap_statement(base, term, order, offset, limit, statuses))] \
        + search_slices.slice_statements(base, term, sort, offset, limit, statuses)
