"""marshmallow fields every service needs."""
import datetime as dt
import os
import re
import zoneinfo

from marshmallow import fields


# Dates outside these years are refused as invalid: 0001-01-01T00:00+16:05 cannot even be
# turned into UTC, and a report adding a day to 9999-12-31 overflows (a 500, not a 400).
MIN_YEAR, MAX_YEAR = 1900, 9000


_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def desk_timezone():
    """The support desk's zone (config TIMEZONE, set from GONGDAN_TIMEZONE): the day a plain
    date means. Read where it is used so that a field needs no config provider."""
    try:
        return zoneinfo.ZoneInfo(os.environ.get("GONGDAN_TIMEZONE") or "Asia/Shanghai")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("Asia/Shanghai")


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC with a Z. SQLite hands datetimes back naive: they are UTC by convention.

    A plain date (`2026-12-05`) is accepted as a day in the desk's time zone (the schema's
    context `tz` when given): its first instant, or with `day_end=True` (the `..._to` bound of
    a range, compared with `<`) the first instant of the next day - so `created_from=D&
    created_to=D` is the whole of day D."""

    def __init__(self, *args, day_end=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.day_end = day_end

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _PLAIN_DATE.match(value.strip()):
            return self._day(value.strip())
        out = super()._deserialize(value, attr, data, **kwargs)
        if out.tzinfo is None:
            out = out.replace(tzinfo=dt.timezone.utc)
        try:
            out = out.astimezone(dt.timezone.utc)
        except OverflowError:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        if not MIN_YEAR <= out.year < MAX_YEAR:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return out

    def _day(self, value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        if not MIN_YEAR <= day.year < MAX_YEAR:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        if self.day_end:
            day += dt.timedelta(days=1)
        tz = (getattr(self.parent, "context", None) or {}).get("tz") or desk_timezone()
        return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.timezone.utc)


class Text(fields.String):
    """A string that is stripped; blank counts as missing when required."""

    def _deserialize(self, value, attr, data, **kwargs):
        out = super()._deserialize(value, attr, data, **kwargs)
        out = out.strip()
        if self.required and not out:
            raise self.make_error("required")
        return out
