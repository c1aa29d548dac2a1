"""Whole business days: the one implementation intake's follow-ups and sla's calendars and
preview use ("+N business days", due at the end of the Nth)."""
import datetime as dt

# the most business days one call may count (five years of working days)
MAX_BUSINESS_DAYS = 1300
_MAX_SCAN = 20000  # calendar days looked at before giving up (a calendar never open)


class NoWorkingDay(ValueError):
    """`is_workday` held for no day within the scan: the calendar is never open."""


def add_business_days(start_date, days, is_workday):
    """The date `days` working days after `start_date`, not counting `start_date` itself
    (so +1 on a Friday is the next Monday; +0 is `start_date`)."""
    current, left = start_date, days
    for _ in range(_MAX_SCAN):
        if left <= 0:
            return current
        current += dt.timedelta(days=1)
        if is_workday(current):
            left -= 1
    raise NoWorkingDay(start_date)


def china_workday(day):
    """Mainland China's working days: statutory holidays off, make-up weekend days on (the
    maintained `chinesecalendar` package); plain weekdays for a year it does not cover yet."""
    import chinese_calendar
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5
