"""Keyset paging, for exports that read a whole table page by page (services/exports).

OFFSET paging re-reads every skipped row (page 1,000 of 1,000-row pages reads a million);
a keyset page starts where the last one ended, through the index. Rows come newest first by
(time, id); the cursor is `[time as ISO 8601, id]` of the last row sent, and id breaks ties
between rows of the same instant so no row is skipped or repeated.
"""
import datetime as dt

from sqlalchemy import and_, or_

from .errors import VALIDATION_FAILED

MAX_LIMIT = 5000
_CURSOR = ("Must be the cursor an earlier page returned.", "必须是上一页返回的游标。")


def _bad(field, en, zh):
    return VALIDATION_FAILED(details={"fields": {field: [{"en": en, "zh": zh}]}})


def parse(after):
    """[iso time, id] -> (datetime, id); a malformed cursor is a validation error."""
    if not isinstance(after, (list, tuple)) or len(after) != 2 or \
            not isinstance(after[0], str) or not isinstance(after[1], (str, int)):
        raise _bad("after", *_CURSOR)
    try:
        return dt.datetime.fromisoformat(after[0]), after[1]
    except ValueError:
        raise _bad("after", *_CURSOR) from None


def descending(stmt, time_col, id_col, after):
    """`stmt` newest first by (time_col, id_col), starting after the cursor (None: first)."""
    if after is not None:
        at, key = parse(after)
        # `time <= at` first: a range the time column's index answers (a bare OR would
        # make PostgreSQL read every newer row again for each page)
        stmt = stmt.where(and_(time_col <= at, or_(time_col < at, id_col < key)))
    return stmt.order_by(time_col.desc(), id_col.desc())


def check_limit(limit):
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_LIMIT:
        raise _bad("limit", f"Must be between 0 and {MAX_LIMIT}.",
                   f"必须在 0 到 {MAX_LIMIT} 之间。")
    return limit


def cursor(at, key):
    """The cursor of a row: its time (as stored: naive on SQLite) and id."""
    return [at.isoformat(), key]
