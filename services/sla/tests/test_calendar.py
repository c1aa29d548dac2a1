"""Business-time arithmetic: worked examples, then generated cases against a reference that
steps minute by minute over local wall-clock time (independent of the interval code)."""
import datetime as dt
import zoneinfo

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from services.sla.calendar import Calendar, CalendarError, china_day

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
NY = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.timezone.utc
HOURS = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
CHINA = Calendar.from_spec({"tz": "Asia/Shanghai", "hours": HOURS, "chinese_holidays": True})
PLAIN = Calendar.from_spec({"tz": "Asia/Shanghai", "hours": HOURS})
M = dt.timedelta(minutes=1)


def sh(*args):
    return dt.datetime(*args, tzinfo=SH)


# ---- worked examples --------------------------------------------------------------------

def test_inside_hours_and_across_lunch_and_the_night():
    assert CHINA.add(sh(2025, 3, 3, 9, 0), 30 * M) == sh(2025, 3, 3, 9, 30)   # a Monday
    assert CHINA.add(sh(2025, 3, 3, 11, 50), 20 * M) == sh(2025, 3, 3, 13, 10)
    assert CHINA.add(sh(2025, 3, 3, 17, 30), 60 * M) == sh(2025, 3, 4, 9, 30)
    assert CHINA.between(sh(2025, 3, 3, 11, 0), sh(2025, 3, 3, 14, 0)) == 120 * M


def test_start_outside_hours_weekend_and_midnight():
    assert CHINA.add(sh(2025, 3, 3, 7, 0), 15 * M) == sh(2025, 3, 3, 9, 15)
    assert CHINA.add(sh(2025, 3, 8, 10, 0), 15 * M) == sh(2025, 3, 10, 9, 15)  # Saturday
    assert CHINA.add(sh(2025, 3, 4, 0, 0), M) == sh(2025, 3, 4, 9, 1)
    assert CHINA.between(sh(2025, 3, 7, 17, 0), sh(2025, 3, 10, 10, 0)) == 120 * M


def test_exact_closing_time_is_due_at_closing_not_next_opening():
    assert CHINA.add(sh(2025, 3, 3, 17, 0), 60 * M) == sh(2025, 3, 3, 18, 0)
    assert CHINA.add(sh(2025, 3, 3, 11, 0), 60 * M) == sh(2025, 3, 3, 12, 0)
    assert CHINA.add(sh(2025, 3, 3, 9, 0), 480 * M) == sh(2025, 3, 3, 18, 0)


def test_zero_duration_and_negative():
    start = sh(2025, 3, 8, 3, 0)
    assert CHINA.add(start, dt.timedelta(0)) == start
    assert CHINA.between(start, start) == dt.timedelta(0)
    with pytest.raises(CalendarError):
        CHINA.add(start, -M)
    assert CHINA.between(sh(2025, 3, 3, 10), sh(2025, 3, 3, 9)) == -60 * M


def test_statutory_holidays_and_make_up_days():
    # National Day 2025: Oct 1-8 off; Sunday Sep 28 and Saturday Oct 11 are make-up days
    assert china_day(dt.date(2025, 10, 1)) == "holiday"
    assert china_day(dt.date(2025, 9, 28)) == "makeup"
    assert CHINA.add(sh(2025, 9, 30, 17, 30), 60 * M) == sh(2025, 10, 9, 9, 30)
    assert CHINA.add(sh(2025, 9, 27, 10, 0), 10 * M) == sh(2025, 9, 28, 9, 10)
    assert PLAIN.add(sh(2025, 9, 27, 10, 0), 10 * M) == sh(2025, 9, 29, 9, 10)
    assert CHINA.between(sh(2025, 10, 10, 18, 0), sh(2025, 10, 11, 18, 0)) == 480 * M


def test_custom_holidays_workdays_and_closures():
    cal = Calendar.from_spec({"tz": "Asia/Shanghai", "hours": HOURS,
                              "holidays": ["2025-03-04"], "workdays": ["2025-03-08"],
                              "closures": [{"start": "2025-03-05T02:00:00Z",
                                            "end": "2025-03-05T03:00:00Z"}]})
    assert cal.add(sh(2025, 3, 3, 17, 30), 60 * M) == sh(2025, 3, 5, 9, 30)
    # the closure is 10:00-11:00 local on Wednesday
    assert cal.add(sh(2025, 3, 5, 9, 30), 60 * M) == sh(2025, 3, 5, 11, 30)
    assert cal.add(sh(2025, 3, 7, 17, 50), 20 * M) == sh(2025, 3, 8, 9, 10)


def test_multi_day_spans_and_fractional_seconds():
    start = sh(2025, 3, 3, 9, 0, 0, 250000)
    due = CHINA.add(start, dt.timedelta(minutes=480 * 3, seconds=1.5))
    assert due == sh(2025, 3, 6, 9, 0, 1, 750000)
    assert CHINA.between(start, due) == dt.timedelta(minutes=480 * 3, seconds=1.5)


def test_24x7_and_dst_outside_china():
    always = Calendar.from_spec({"tz": "America/New_York", "always_open": True})
    start = dt.datetime(2025, 3, 8, 12, 0, tzinfo=NY)
    # 24 real hours across the spring-forward night: 13:00 local the next day
    assert always.add(start, dt.timedelta(hours=24)) == dt.datetime(2025, 3, 9, 13, 0, tzinfo=NY)
    # a local 24x7 calendar on the spring-forward day: that day is 23 real hours long
    local = Calendar.from_spec({"tz": "America/New_York",
                                "hours": {d: [["00:00", "24:00"]] for d in
                                          ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
    day = (dt.datetime(2025, 3, 9, tzinfo=NY), dt.datetime(2025, 3, 10, tzinfo=NY))
    assert local.between(*day) == dt.timedelta(hours=23)
    nine_to_five = Calendar.from_spec({"tz": "America/New_York",
                                       "hours": {"fri": [["09:00", "17:00"]],
                                                 "mon": [["09:00", "17:00"]]}})
    due = nine_to_five.add(dt.datetime(2025, 3, 7, 16, 0, tzinfo=NY), dt.timedelta(hours=2))
    assert due == dt.datetime(2025, 3, 10, 10, 0, tzinfo=NY)
    # EST before the weekend (16:00 = 21:00 UTC), EDT after it (10:00 = 14:00 UTC)
    assert due == dt.datetime(2025, 3, 10, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("spec,key", [
    ({"hours": {"mon": [["10:00", "09:00"]]}}, "inverted_hours"),
    ({"hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "overlapping_hours"),
    ({"hours": {"mon": [["09:00", "25:00"]]}}, "bad_time"),
    ({"tz": "Mars/Olympus", "hours": HOURS}, "unknown_time_zone"),
    ({"hours": {}}, "never_open"),
    ({"hours": {"funday": [["09:00", "10:00"]]}}, "bad_weekday"),
    ({"hours": HOURS, "closures": [{"start": "2025-01-02T00:00:00Z",
                                    "end": "2025-01-01T00:00:00Z"}]}, "inverted_closure"),
])
def test_bad_calendars(spec, key):
    with pytest.raises(CalendarError) as err:
        Calendar.from_spec(spec)
    assert err.value.key == key


# ---- generated cases against a minute-stepping reference ------------------------------

def ref_open(spec, zone, instant):
    """Is this minute open? Reads the rules directly on local wall-clock time."""
    local = instant.astimezone(zone)
    day = local.date()
    if day.isoformat() in spec.get("holidays", ()):
        return False
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ranges = spec["hours"].get(names[day.weekday()], [])
    if spec.get("chinese_holidays"):
        status = china_day(day)
        if status == "holiday":
            return False
        if status == "makeup":
            ranges = next((spec["hours"].get(n) for n in names[:5] if spec["hours"].get(n)), [])
    minute = local.hour * 60 + local.minute
    for start, end in ranges:
        s = int(start[:2]) * 60 + int(start[3:])
        e = int(end[:2]) * 60 + int(end[3:])
        if s <= minute < e:
            return True
    return False


def ref_add(spec, zone, start, minutes):
    t, left = start, minutes
    while left:
        if ref_open(spec, zone, t):
            left -= 1
        t += M
    return t


def ref_between(spec, zone, a, b):
    n, t = 0, a
    while t < b:
        n += ref_open(spec, zone, t)
        t += M
    return n * M


@st.composite
def weekly_hours(draw):
    hours = {}
    for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        cuts = sorted(draw(st.sets(st.integers(0, 48), max_size=4)))
        cuts = cuts[: len(cuts) // 2 * 2]
        ranges = [[f"{a * 30 // 60:02d}:{a * 30 % 60:02d}", f"{b * 30 // 60:02d}:{b * 30 % 60:02d}"]
                  for a, b in zip(cuts[::2], cuts[1::2]) if b > a]
        if ranges:
            hours[name] = ranges
    if not hours:
        hours["wed"] = [["10:00", "11:30"]]
    return hours


@st.composite
def calendars(draw):
    tz = draw(st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York"]))
    spec = {"tz": tz, "hours": draw(weekly_hours()),
            "chinese_holidays": draw(st.booleans()) and tz == "Asia/Shanghai",
            "holidays": sorted(draw(st.sets(st.dates(dt.date(2025, 9, 25), dt.date(2025, 10, 20))
                                            .map(dt.date.isoformat), max_size=3)))}
    return spec


# spans over the 2025 National Day holiday and the European / US autumn DST changes
starts = st.integers(0, 60 * 24 * 40).map(
    lambda m: dt.datetime(2025, 9, 24, tzinfo=UTC) + m * M)


# found by hypothesis: open 02:00-02:30 on Sundays, an hour that does not exist in Berlin
# on 2026-03-29; and the hour that happens twice in New York on 2025-11-02
@example({"tz": "Europe/Berlin", "hours": {"sun": [["02:00", "02:30"]]}, "holidays": []},
         dt.datetime(2025, 10, 4, 13, 10, tzinfo=UTC), 771)
@example({"tz": "America/New_York", "hours": {"sun": [["00:00", "01:30"]]}, "holidays": []},
         dt.datetime(2025, 11, 1, 0, 0, tzinfo=UTC), 150)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), starts, st.integers(0, 60 * 30))
def test_add_matches_the_reference(spec, start, minutes):
    cal = Calendar.from_spec(spec)
    zone = zoneinfo.ZoneInfo(spec["tz"])
    got = cal.add(start, minutes * M)
    want = ref_add(spec, zone, start, minutes)
    if minutes:
        # the reference ends at the end of the last open minute: the same instant
        assert got == want, (spec, start, minutes)
    else:
        assert got == start
    assert cal.between(start, got) == minutes * M


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), starts, st.integers(0, 60 * 24 * 6))
def test_between_matches_the_reference(spec, start, span):
    cal = Calendar.from_spec(spec)
    zone = zoneinfo.ZoneInfo(spec["tz"])
    end = start + span * M
    assert cal.between(start, end) == ref_between(spec, zone, start, end)


def test_business_days_share_one_implementation_with_intake_follow_ups():
    """Issue 17: "+N business days" is gongdan_common.businessdays for both services."""
    import datetime as dt

    from gongdan_common.businessdays import add_business_days, china_workday
    from services.intake import domain as intake_domain
    from services.sla.calendar import Calendar

    assert intake_domain.add_business_days is add_business_days
    cal = Calendar.from_spec({"tz": "Asia/Shanghai", "chinese_holidays": True, "hours": {
        d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu",
                                                             "fri")}})
    friday_night = dt.datetime(2026, 12, 4, 22, 0, tzinfo=dt.timezone.utc)  # Sat 06:00 local
    for n in (1, 3, 30):
        day = add_business_days(dt.date(2026, 12, 5), n, china_workday)
        assert cal.add_business_days(friday_night, n) == dt.datetime.combine(
            day, dt.time(18), tzinfo=cal.zone)
