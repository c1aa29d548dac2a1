"""marshmallow at every boundary, and the one input rule every boundary applies.

The rule (issue 12: input that reached a database or the JSON encoder as a 500):
- text never carries NUL (PostgreSQL refuses it in text and JSON) or an unpaired surrogate
  (not encodable as UTF-8 by any driver, nor by the response encoder);
- integers fit a PostgreSQL `integer` (int32) unless a field says `metadata={"int64": True}`,
  page numbers stop at `MAX_PAGE`, and any number anywhere fits int64 and is finite;
  floats in a `Float` field are finite and within ±`MAX_FLOAT`;
- JSON nests at most `MAX_DEPTH` levels (checked on the raw bytes before parsing, so a
  deeply nested body never reaches the recursive parser).

Every schema derives from `Schema` below, which applies the rule on load; the gateway applies
`check_value` / `too_deep` to every body, query string and path before any handler runs.
Refusals are ordinary `validation_failed` errors, one bilingual message per field.
"""
import datetime as dt
import math
import re

import marshmallow
from marshmallow import ValidationError, fields, pre_load, validate

from .errors import validation_error
from .fields import MAX_YEAR, MIN_YEAR
from .i18n import bi

MAX_DEPTH = 32
MAX_PAGE = 10 ** 6
INT32 = (-2 ** 31, 2 ** 31 - 1)
INT64 = (-2 ** 63, 2 ** 63 - 1)
MAX_FLOAT = 10 ** 15

NUL = bi("Must not contain the NUL character (U+0000).", "不能包含空字符（U+0000）。")
SURROGATE = bi("Must not contain unpaired surrogates (U+D800 to U+DFFF): not valid Unicode text.",
               "不能包含不成对的代理字符（U+D800 至 U+DFFF）：不是有效的 Unicode 文本。")
NOT_FINITE = bi("Must be a finite number.", "必须是有限的数字。")
TOO_DEEP = bi(f"Nested more than {MAX_DEPTH} levels deep.", f"嵌套层级超过 {MAX_DEPTH} 层。")
_RANGE = "Must be greater than or equal to {min} and less than or equal to {max}."


def text_problem(value):
    """The message for a string that may not cross the boundary, or None."""
    if "\x00" in value:
        return NUL
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # only lone surrogates fail: json pairs them up when decoding
        return SURROGATE
    return None


def safe_key(key):
    """A field name fit to echo back in an error (escapes what the rule refuses)."""
    key = str(key)
    if text_problem(key) is None:
        return key
    return "".join(f"\\u{ord(c):04x}" if c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF else c
                   for c in key)


class _TooDeep(Exception):
    pass


def check_value(data, max_depth=MAX_DEPTH):
    """Walk decoded JSON (or query / path values) and return marshmallow-shaped errors for
    everything the rule refuses anywhere in it: {} when all is well."""
    try:
        found = _walk(data, 0, max_depth)
    except _TooDeep:
        return {"_schema": [TOO_DEEP]}
    if found is None:
        return {}
    return found if isinstance(found, dict) else {"_schema": found}


def _walk(value, depth, max_depth):
    if isinstance(value, str):
        problem = text_problem(value)
        return [problem] if problem else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if INT64[0] <= value <= INT64[1] else [_RANGE.format(min=INT64[0],
                                                                          max=INT64[1])]
    if isinstance(value, float):
        return None if math.isfinite(value) else [NOT_FINITE]
    if isinstance(value, dict):
        if depth >= max_depth:
            raise _TooDeep()
        errors = {}
        for key, item in value.items():
            if isinstance(key, str) and text_problem(key):
                errors[safe_key(key)] = [text_problem(key)]  # the name itself is refused
                continue
            found = _walk(item, depth + 1, max_depth)
            if found is not None:
                errors[safe_key(key)] = found
        return errors or None
    if isinstance(value, (list, tuple)):
        if depth >= max_depth:
            raise _TooDeep()
        errors = {}
        for i, item in enumerate(value):
            found = _walk(item, depth + 1, max_depth)
            if found is not None:
                errors[i] = found
        return errors or None
    return None


# a JSON string literal, unrolled so the regex engine runs it in one linear pass
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKETS = re.compile(rb"[\[\]{}]")


def too_deep(raw, max_depth=MAX_DEPTH):
    """Does this JSON text nest deeper than max_depth? Counted on the bytes, strings skipped,
    without building anything: a body of 100,000 '[' is answered, not recursed into."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    depth = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


# ---- the base schema ------------------------------------------------------------------

# calendar days outside these are refused (UTCDateTime bounds its years the same way)
MIN_DATE, MAX_DATE = dt.date(MIN_YEAR, 1, 1), dt.date(MAX_YEAR - 1, 12, 31)


class _Finite(validate.Validator):
    error = NOT_FINITE

    def __call__(self, value):
        if value is not None and not math.isfinite(value):
            raise ValidationError(self.error)
        return value


def bound_field(name, field):
    """Add the rule's numeric bounds to a field (and to the fields inside a List, Tuple or
    Dict). Idempotent; Boolean is not a Number, so it is untouched."""
    if getattr(field, "_boundary_bound", False):
        return
    field._boundary_bound = True
    # a new list, never append: marshmallow copies fields shallowly per schema instance, so
    # the declared field's list would grow by one validator with every instance
    if isinstance(field, fields.Integer):
        lo, hi = INT64 if field.metadata.get("int64") else INT32
        if name == "page":  # page numbers: OFFSET arithmetic must stay small
            hi = MAX_PAGE
        field.validators = [*field.validators, validate.Range(min=lo, max=hi)]
    elif isinstance(field, fields.Float):
        field.validators = [*field.validators, _Finite(),
                            validate.Range(min=-MAX_FLOAT, max=MAX_FLOAT)]
    elif type(field) is fields.Date:  # day arithmetic on 9999-12-31 overflows (a 500)
        field.validators = [*field.validators, validate.Range(min=MIN_DATE, max=MAX_DATE)]
    inner = []
    if isinstance(field, fields.List):
        inner.append(field.inner)
    elif isinstance(field, fields.Tuple):
        inner.extend(field.tuple_fields)
    elif isinstance(field, fields.Dict):  # Mapping: key_field / value_field may be None
        inner.extend(f for f in (field.key_field, field.value_field) if f is not None)
    for f in inner:
        bound_field(name, f)


class Schema(marshmallow.Schema):
    """The base of every schema in Gongdan: marshmallow's, with the input rule on load.

    Text anywhere in the input (keys, nested objects, free-form dicts) is checked before the
    fields load; numeric fields get their bounds when bound to the schema. A test asserts that
    every schema in the code base derives from this class."""

    @classmethod
    def for_patch(cls, **kwargs):
        """For PATCH: every top-level field may be left out, but a nested object that is
        given must be whole. (`partial=True` reaches into nested schemas too, so a closure
        with only `end` loaded and failed later as a 500.)"""
        return cls(partial=tuple(cls._declared_fields), **kwargs)

    def on_bind_field(self, field_name, field_obj):
        bound_field(field_name, field_obj)
        super().on_bind_field(field_name, field_obj)

    @pre_load
    def _boundary_rule(self, data, **kwargs):
        errors = check_value(data)
        if errors:
            raise ValidationError(errors)
        return data


def load(schema, data, **kw):
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise validation_error(ValidationError({"_schema": ["Invalid input type."]}))
    try:
        return schema.load(data, **kw)
    except ValidationError as err:
        raise validation_error(err) from None


def refuse(errors):
    """Raise the shared validation error for marshmallow-shaped `errors`."""
    raise validation_error(ValidationError(errors))
