"""marshmallow fields every service needs."""
import datetime as dt

from marshmallow import fields


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
        return out.astimezone(dt.timezone.utc)


class Text(fields.String):
    """A string that is stripped; blank counts as missing when required."""

    def _deserialize(self, value, attr, data, **kwargs):
        out = super()._deserialize(value, attr, data, **kwargs)
        out = out.strip()
        if self.required and not out:
            raise self.make_error("required")
        return out
