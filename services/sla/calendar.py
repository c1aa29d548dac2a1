"""Business calendars and business-time arithmetic. Pure: no nameko, no database.

A calendar is a time zone, working hours per weekday (several ranges a day allowed),
extra holidays, extra working days, custom closures (instants), optionally the Chinese
statutory holidays with their make-up working days (from the maintained `chinesecalendar`
package), or "always open" (24x7).

Every day of the calendar becomes a list of open intervals in UTC (built once per day and
cached), so both operations are a walk over those intervals:

- `add(start, duration)`: the instant when `duration` of business time after `start` is
  used up. Convention: a duration used up exactly at a closing time is due at that closing
  time, not at the next opening. A zero duration is due at `start`.
- `between(a, b)`: the business time in [a, b) (negative when b < a).
- `add_business_days(start, n)`: the end of the nth working day after start's date.

Local wall-clock ranges are converted with the zone's rules on that date, so a range on a
daylight-saving day is as long as it really is (a 24x7 day in New York can be 23 or 25 h).
A make-up working day (a weekend day that is worked, 调休) uses the first working weekday's
hours, Monday's in the usual case.
"""
import datetime as dt
import zoneinfo

from gongdan_common.businessdays import NoWorkingDay, add_business_days
from functools import lru_cache

import chinese_calendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZERO = dt.timedelta(0)
UTC = dt.timezone.utc
# a calendar with no open time in ten years cannot give a due time
MAX_SCAN_DAYS = 20000  # ~55 years: long durations on a business calendar still end


class CalendarError(ValueError):
    """Bad calendar input; `key` names the error (exceptions.CALENDAR_ERRORS) and `params`
    fill its message."""

    def __init__(self, key, **params):
        super().__init__(key, params)
        self.key, self.params = key, params


def parse_clock(text):
    """'09:30' -> 570 minutes after midnight; '24:00' is the end of the day."""
    try:
        hh, mm = str(text).split(":")
        hours, minutes = int(hh), int(mm)
    except ValueError:
        raise CalendarError("bad_time", value=text) from None
    if not (0 <= minutes < 60 and (0 <= hours < 24 or (hours == 24 and minutes == 0))) \
            or len(mm) != 2:
        raise CalendarError("bad_time", value=text)
    return hours * 60 + minutes


def format_clock(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def zone(name):
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise CalendarError("unknown_time_zone", tz=name) from None


def _ranges(day_name, ranges):
    """[['09:00','12:00'], ...] -> sorted ((540, 720), ...); refuses inverted, empty and
    overlapping ranges (touching ones are merged)."""
    parsed = []
    for item in ranges:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise CalendarError("bad_range", day=day_name, value=item)
        try:
            start, end = parse_clock(item[0]), parse_clock(item[1])
        except CalendarError as err:
            err.params.setdefault("day", day_name)  # the message names the time only
            raise
        if end <= start:
            raise CalendarError("inverted_hours", day=day_name, start=item[0], end=item[1])
        parsed.append((start, end))
    parsed.sort()
    merged = []
    for start, end in parsed:
        if merged and start < merged[-1][1]:
            raise CalendarError("overlapping_hours", day=day_name,
                                first=f"{format_clock(merged[-1][0])}-{format_clock(merged[-1][1])}",
                                second=f"{format_clock(start)}-{format_clock(end)}")
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


@lru_cache(maxsize=8192)
def china_day(day):
    """'holiday' (a statutory holiday on a weekday), 'makeup' (a weekend day worked) or
    None, from chinesecalendar; None for years the package does not cover yet."""
    try:
        workday = chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None
    weekend = day.weekday() >= 5
    if weekend and workday:
        return "makeup"
    if not weekend and not workday:
        return "holiday"
    return None


class Calendar:
    """An immutable business calendar. Build it with `Calendar.from_spec(dict)`."""

    def __init__(self, tz, hours, holidays=(), workdays=(), closures=(),
                 chinese_holidays=False, always_open=False):
        self.tz = tz
        self.zone = zone(tz)
        self.hours = tuple(hours)                      # 7 tuples of (start, end) minutes
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.closures = tuple(sorted(closures))        # (start, end) aware UTC instants
        self.chinese_holidays = bool(chinese_holidays)
        self.always_open = bool(always_open)
        self.makeup_hours = next((h for h in self.hours[:5] if h), ())
        self._days = {}

    # ---- construction ------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec):
        """From the stored / API shape:
        {tz, always_open, chinese_holidays, hours: {mon: [[start, end], ...], ...},
         holidays: [date], workdays: [date], closures: [{start, end}]}"""
        tz = spec.get("tz") or "Asia/Shanghai"
        zone(tz)
        always_open = bool(spec.get("always_open"))
        raw = spec.get("hours") or {}
        unknown = sorted(set(raw) - set(WEEKDAYS))
        if unknown:
            raise CalendarError("bad_weekday", value=", ".join(unknown))
        if always_open:
            hours = [((0, 1440),)] * 7
        else:
            hours = [_ranges(name, raw.get(name) or ()) for name in WEEKDAYS]
            if not any(hours):
                raise CalendarError("never_open")
        closures = []
        for item in spec.get("closures") or ():
            start, end = _instant(item.get("start")), _instant(item.get("end"))
            if end <= start:
                raise CalendarError("inverted_closure", start=item.get("start"),
                                    end=item.get("end"))
            closures.append((start, end))
        return cls(tz, hours, holidays=[_date(d) for d in spec.get("holidays") or ()],
                   workdays=[_date(d) for d in spec.get("workdays") or ()],
                   closures=closures,
                   chinese_holidays=bool(spec.get("chinese_holidays")) and not always_open,
                   always_open=always_open)

    # ---- days --------------------------------------------------------------------------

    def day_ranges(self, day):
        """Local working ranges (minutes) of one date, after holidays and make-up days."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.makeup_hours
        if self.chinese_holidays:
            status = china_day(day)
            if status == "holiday":
                return ()
            if status == "makeup":
                return self.makeup_hours
        return self.hours[day.weekday()]

    def day_intervals(self, day):
        """Open intervals of one local date as (start, end) UTC instants, closures removed.

        Open means: the local wall clock shows a time inside the day's ranges. On a day with
        a daylight-saving change the day has two offsets; each range is mapped under both
        and kept where that offset is in force, so an hour that does not exist (spring
        forward) is never open and an hour that happens twice (fall back) is open twice."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        ranges = self.day_ranges(day)
        out = []
        if ranges:
            start, end = self._local(day, 0), self._local(day, 1440)
            before, after = self._offset(start), self._offset(end)
            regimes = [(start, end, before)] if before == after else [
                (start, self._transition(start, end, before), before),
                (self._transition(start, end, before), end, after)]
            midnight = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
            pieces = []
            for first, last in ranges:
                for lo, hi, offset in regimes:
                    a = max(midnight + dt.timedelta(minutes=first) - offset, lo)
                    b = min(midnight + dt.timedelta(minutes=last) - offset, hi)
                    if b > a:
                        pieces.append((a, b))
            for a, b in sorted(pieces):
                if out and a <= out[-1][1]:
                    out[-1] = (out[-1][0], max(b, out[-1][1]))
                else:
                    out.append((a, b))
            out = [piece for a, b in out for piece in self._minus_closures(a, b)]
        out = tuple(out)
        if len(self._days) > 20000:  # long-lived calendars: keep the cache bounded
            self._days.clear()
        self._days[day] = out
        return out

    def _local(self, day, minutes):
        if minutes == 1440:
            day, minutes = day + dt.timedelta(days=1), 0
        local = dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60,
                            tzinfo=self.zone)
        return local.astimezone(UTC)

    def _offset(self, instant):
        return instant.astimezone(self.zone).utcoffset()

    def _transition(self, lo, hi, before):
        """The first instant in (lo, hi] whose offset differs from `before` (to the second)."""
        while hi - lo > dt.timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            if self._offset(mid) == before:
                lo = mid
            else:
                hi = mid
        return hi.replace(microsecond=0) if self._offset(hi.replace(microsecond=0)) != before \
            else hi

    def _minus_closures(self, a, b):
        pieces = [(a, b)]
        for c0, c1 in self.closures:
            if c1 <= a or c0 >= b:
                continue
            nxt = []
            for s, e in pieces:
                if c1 <= s or c0 >= e:
                    nxt.append((s, e))
                    continue
                if s < c0:
                    nxt.append((s, c0))
                if c1 < e:
                    nxt.append((c1, e))
            pieces = nxt
        return pieces

    def _local_date(self, instant):
        return instant.astimezone(self.zone).date()

    # ---- arithmetic --------------------------------------------------------------------

    def add(self, start, duration):
        """The instant `duration` (a timedelta) of business time after `start`."""
        start = aware(start)
        if duration < ZERO:
            raise CalendarError("negative_duration")
        if duration == ZERO:
            return start
        if self.always_open and not self.closures:
            return start + duration
        remaining = duration
        day = self._local_date(start)
        for _ in range(MAX_SCAN_DAYS):
            for a, b in self.day_intervals(day):
                if b <= start:
                    continue
                s = a if a > start else start
                available = b - s
                if remaining <= available:
                    return s + remaining
                remaining -= available
            day += dt.timedelta(days=1)
        raise CalendarError("never_open")

    def add_business_days(self, start, days):
        """"+N business days" (N >= 1): the end of the Nth working day after the local date of
        `start`, i.e. its last working range's end - whatever the hour of `start`, as
        helpdesks count "due in 3 business days". One implementation with intake's
        follow-ups (gongdan_common.businessdays); a working day is one with working time left
        after holidays, make-up days and closures."""
        if days < 1:
            raise CalendarError("negative_duration")
        try:
            day = add_business_days(self._local_date(aware(start)), days,
                                    lambda d: bool(self.day_intervals(d)))
        except NoWorkingDay:
            raise CalendarError("never_open") from None
        return self.day_intervals(day)[-1][1]

    def between(self, a, b):
        """Business time in [a, b) as a timedelta (negative when b < a)."""
        a, b = aware(a), aware(b)
        if b < a:
            return -self.between(b, a)
        if b == a:
            return ZERO
        if self.always_open and not self.closures:
            return b - a
        total = ZERO
        day, last = self._local_date(a), self._local_date(b)
        while day <= last:
            for s, e in self.day_intervals(day):
                lo = s if s > a else a
                hi = e if e < b else b
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return total

    def is_open(self, instant):
        instant = aware(instant)
        return any(s <= instant < e for s, e in self.day_intervals(self._local_date(instant)))


def aware(value):
    """In UTC: arithmetic between two datetimes sharing a zone would be wall-clock
    arithmetic in Python (wrong across a DST change)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _instant(value):
    if isinstance(value, dt.datetime):
        return aware(value).astimezone(UTC)
    try:
        return aware(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))).astimezone(UTC)
    except ValueError:
        raise CalendarError("bad_instant", value=value) from None


def _date(value):
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError("bad_date", value=value) from None


ALWAYS_OPEN = Calendar("UTC", [((0, 1440),)] * 7, always_open=True)
