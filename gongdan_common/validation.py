"""marshmallow at every boundary: load or raise the shared validation error."""
from marshmallow import ValidationError

from .errors import validation_error


def load(schema, data, **kw):
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise validation_error(ValidationError({"_schema": ["Invalid input type."]}))
    try:
        return schema.load(data, **kw)
    except ValidationError as err:
        raise validation_error(err) from None
