"""marshmallow fields every service needs."""
import datetime as dt

from marshmallow import fields


# Dates outside these years are refused as invalid: 0001-01-01T00:00+16:05 cannot even be
# turned into UTC, and a report adding a day to 9999-12-31 overflows (a 500, not a 400).
MIN_YEAR, MAX_YEAR = 1900, 9000


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC with a Z. SQLite hands datetimes back naive: they are UTC by convention."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value, attr, data, **kwargs):
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


class Text(fields.String):
    """A string that is stripped; blank counts as missing when required."""

    def _deserialize(self, value, attr, data, **kwargs):
        out = super()._deserialize(value, attr, data, **kwargs)
        out = out.strip()
        if self.required and not out:
            raise self.make_error("required")
        return out
