"""The input boundary rule (gongdan_common/validation.py): what it refuses, how it says so,
and that every schema in the code base and every gateway body / query / path applies it."""
import importlib
import json
import pkgutil
import time

import marshmallow
import pytest
from marshmallow import fields, validate
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gongdan_common import validation as v
from gongdan_common.errors import AppError
from gongdan_common.fields import Text
from gongdan_common.i18n import translate


class Inner(v.Schema):
    need = fields.String(required=True)
    opt = fields.String()


class Sample(v.Schema):
    title = Text(validate=validate.Length(max=50))
    count = fields.Integer()
    big = fields.Integer(metadata={"int64": True})
    share = fields.Float()
    page = fields.Integer(validate=validate.Range(min=1))
    tags = fields.List(fields.String())
    sizes = fields.List(fields.Integer())
    extra = fields.Dict()
    inner = fields.Nested(Inner)


def refused(data, schema=None):
    with pytest.raises(AppError) as info:
        v.load(schema or Sample(), data)
    err = info.value
    assert err.code == "validation_failed" and err.status == 400
    return err


def en_zh(err, *path):
    """The one message at `path` in details.fields, in both languages."""
    node = err.details["fields"]
    for p in path:
        node = node[p]
    (msg,) = node
    assert msg["zh"] != msg["en"], msg  # a real Chinese rendering, not the English echoed
    return msg["en"], msg["zh"]


# ---- text ----------------------------------------------------------------------------

@pytest.mark.parametrize("bad, words", [("a\x00b", "NUL"), ("a\ud800b", "surrogate"),
                                        ("\udfff", "surrogate")])
def test_text_refuses_nul_and_lone_surrogates_with_a_field_message(bad, words):
    en, zh = en_zh(refused({"title": bad}), "title")
    assert words in en and ("空字符" in zh or "代理字符" in zh)


def test_text_anywhere_is_checked_lists_dicts_nested_and_keys():
    err = refused({"tags": ["ok", "x\x00"], "extra": {"deep": [{"k": "\ud800"}]},
                   "inner": {"need": "n", "opt": "\x00"}})
    en_zh(err, "tags", "1")
    en_zh(err, "extra", "deep", "0", "k")
    en_zh(err, "inner", "opt")
    err = refused({"extra": {"bad\x00key": 1}})
    assert "bad\\u0000key" in err.details["fields"]["extra"]  # echoed escaped, never raw
    err = refused({"extra": {"\ud800": 1}})
    json.dumps(err.render("zh"), ensure_ascii=False).encode("utf-8")  # encodable answer


def test_ordinary_text_passes_chinese_emoji_and_escaped_pairs():
    emoji = json.loads('"\\ud83d\\ude00"')  # a proper surrogate pair decodes to one char
    out = v.load(Sample(), {"title": "无法登录 😀 " + emoji, "tags": ["\t", "中文"],
                            "extra": {"a": "b"}})
    assert out["title"].startswith("无法登录")


# ---- numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("count", 2 ** 31), ("count", -2 ** 31 - 1), ("count", 4.9e23), ("sizes", [1, 2 ** 40]),
    ("big", 2 ** 63), ("page", 10 ** 6 + 1), ("page", 2 ** 60), ("share", 1e16),
    ("share", 1e400)])
def test_numbers_are_bounded(field, value):
    err = refused({field: value})
    path = (field, "1") if field == "sizes" else (field,)
    node = err.details["fields"]
    for p in path:
        node = node[p]
    assert node and all(m["zh"] != m["en"] for m in node), node


def test_numbers_within_bounds_pass():
    out = v.load(Sample(), {"count": 2 ** 31 - 1, "big": 2 ** 62, "page": 10 ** 6,
                            "share": 0.5, "sizes": [0, -5]})
    assert out["big"] == 2 ** 62 and out["page"] == 10 ** 6


def test_nan_and_infinity_are_refused_even_in_free_form_dicts():
    for bad in (float("nan"), float("inf")):
        en_zh(refused({"extra": {"x": bad}}), "extra", "x")
        assert refused({"share": bad}).details["fields"]["share"]


def test_bounds_show_in_the_openapi_of_the_field():
    field = Sample().fields["count"]
    ranges = [x for x in field.validators if isinstance(x, validate.Range)]
    assert (ranges[-1].min, ranges[-1].max) == v.INT32


# ---- depth -----------------------------------------------------------------------------

def nest(levels):
    return "[" * levels + "]" * levels


def nested_dict(levels):
    return json.loads('{"a":' * levels + "1" + "}" * levels)


def test_depth_is_limited_on_decoded_data():
    # the body is level 1, so `extra` may hold MAX_DEPTH - 1 levels: as too_deep counts
    v.load(Sample(), {"extra": nested_dict(v.MAX_DEPTH - 1)})
    assert not v.too_deep(json.dumps({"extra": nested_dict(v.MAX_DEPTH - 1)}))
    en, zh = en_zh(refused({"extra": nested_dict(v.MAX_DEPTH)}), "_schema")
    assert str(v.MAX_DEPTH) in en and str(v.MAX_DEPTH) in zh
    assert v.too_deep(json.dumps({"extra": nested_dict(v.MAX_DEPTH)}))


def test_too_deep_counts_raw_bytes_and_skips_strings():
    assert not v.too_deep(nest(v.MAX_DEPTH))
    assert v.too_deep(nest(v.MAX_DEPTH + 1))
    assert v.too_deep("[" * 100000)  # unbalanced, still answered
    quoted = json.dumps({"a": "[" * 1000 + '\\"' + "{" * 1000, "b": ["]" * 50]})
    assert not v.too_deep(quoted)
    assert not v.too_deep(b'{"a": "\\\\"}')  # an escaped backslash ends the string
    started = time.perf_counter()
    assert v.too_deep(b"[" * (1024 * 1024))
    assert not v.too_deep(json.dumps({"x": ["[" * 60] * 20000}))
    assert time.perf_counter() - started < 2


# ---- PATCH: optional on top, whole below -------------------------------------------------

class Closure(v.Schema):
    start = fields.String(required=True)
    end = fields.String(required=True)


class CalendarPatch(v.Schema):
    name = fields.String(required=True)
    closures = fields.List(fields.Nested(Closure))


def test_for_patch_leaves_nested_objects_whole():
    assert v.load(CalendarPatch.for_patch(), {}) == {}
    err = refused({"closures": [{"end": "2026-01-01"}]}, CalendarPatch.for_patch())
    assert err.details["fields"]["closures"]["0"]["start"]


# ---- every schema, every gateway entrance ------------------------------------------------

def _modules():
    for pkg_name in ("gongdan_common", "gateway", "services"):
        pkg = importlib.import_module(pkg_name)
        for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
            parts = info.name.split(".")
            if "tests" in parts or "migrations" in parts or parts[-1] in ("conftest",):
                continue
            yield importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_schema_in_the_code_base_applies_the_rule():
    modules = {m.__name__ for m in _modules()}
    ours = [c for c in set(_subclasses(marshmallow.Schema))
            if c.__module__ in modules and c is not v.Schema]
    assert len(ours) > 150  # the walk found the services' and the gateway's schemas
    outside = sorted(f"{c.__module__}.{c.__qualname__}" for c in ours
                     if not issubclass(c, v.Schema))
    assert outside == [], "derive these from gongdan_common.validation.Schema"


def _request(body=b"", query="", content_type="application/json"):
    env = EnvironBuilder(method="POST", path="/x", query_string=query, data=body,
                         content_type=content_type).get_environ()
    return Request(env)


def test_gateway_body_refuses_deep_json_before_parsing():
    from gateway.http import json_body
    with pytest.raises(AppError) as info:
        json_body(_request(('{"a":' * 1000 + "1" + "}" * 1000).encode()))
    assert info.value.code == "validation_failed"
    assert info.value.details["fields"]["_schema"][0]["en"] == v.TOO_DEEP


@pytest.mark.parametrize("raw, field", [
    (b'{"login": "a\\u0000b"}', "login"), (b'{"login": "\\ud800"}', "login"),
    (b'{"n": NaN}', "n"), (b'{"n": 1e400}', "n"), (b'{"n": 99999999999999999999}', "n"),
    (b'{"a": {"b\\u0000": 1}}', "a")])
def test_gateway_body_applies_the_rule_whatever_schema_follows(raw, field):
    from gateway.http import json_body
    with pytest.raises(AppError) as info:
        json_body(_request(raw))
    assert info.value.code == "validation_failed" and field in info.value.details["fields"]


def test_gateway_query_and_path_apply_the_rule():
    from gateway.http import check_url
    with pytest.raises(AppError) as info:
        check_url(_request(query="keyword=a%00b&page=2"), {})
    assert set(info.value.details["fields"]) == {"keyword"}
    with pytest.raises(AppError) as info:
        check_url(_request(), {"ticket_id": "T\x00"})
    assert set(info.value.details["fields"]) == {"ticket_id"}
    check_url(_request(query="keyword=%E4%B8%AD%E6%96%87&status=new&status=done"),
              {"ticket_id": "abc"})


def test_messages_are_bilingual():
    for en in (v.NUL, v.SURROGATE, v.NOT_FINITE, v.TOO_DEEP,
               "Must be greater than or equal to -2147483648 and less than or equal to "
               "2147483647.", "Special numeric values (nan or infinity) are not permitted."):
        assert translate(en) != en


def test_binding_does_not_grow_the_declared_fields():
    # marshmallow copies fields shallowly per instance: appending to the shared validators
    # list would add one more Range (and one more message) per schema instance
    for _ in range(3):
        Sample()
    assert Sample._declared_fields["count"].validators == []
    assert len([x for x in Sample().fields["count"].validators
                if isinstance(x, validate.Range)]) == 1
    assert len(refused({"count": 2 ** 40}).details["fields"]["count"]) == 1


def test_gateway_writes_an_undumped_datetime_instead_of_failing():
    import datetime as dt

    from gateway.http import json_response
    out = json_response(200, {"at": dt.datetime(2026, 1, 1, 5, 0), "on": dt.date(2026, 1, 2)})
    assert json.loads(out.get_data()) == {"at": "2026-01-01T05:00:00Z", "on": "2026-01-02"}


def test_dates_outside_the_supported_years_are_refused_not_overflowed():
    from marshmallow import fields as mf

    from gongdan_common.fields import UTCDateTime
    from gongdan_common.validation import Schema

    class Window(Schema):
        start = UTCDateTime()
        day = mf.Date()

    schema = Window()
    # 0001-01-01 at +16:05 is before year 1 in UTC: datetime cannot even represent it
    for bad in ({"start": "0001-01-01T01:01:00+16:05"}, {"start": "9999-12-31T23:00:00Z"},
                {"day": "9999-12-31"}, {"day": "0001-01-01"}):
        assert schema.validate(bad), bad
    assert schema.validate({"start": "2026-12-06T08:00:00+08:00", "day": "2026-12-06"}) == {}


def test_a_plain_date_is_a_day_in_the_desk_time_zone(monkeypatch):
    """Issue 17: `created_from=2026-12-05` was refused as "not a valid datetime"."""
    import datetime as dt
    from marshmallow import Schema
    from gongdan_common.fields import UTCDateTime

    class Range(Schema):
        since = UTCDateTime()
        until = UTCDateTime(day_end=True)

    monkeypatch.delenv("GONGDAN_TIMEZONE", raising=False)
    got = Range().load({"since": "2026-12-05", "until": "2026-12-05"})
    utc = dt.timezone.utc
    assert got == {"since": dt.datetime(2026, 12, 4, 16, 0, tzinfo=utc),   # Shanghai midnight
                   "until": dt.datetime(2026, 12, 5, 16, 0, tzinfo=utc)}  # the next one
    monkeypatch.setenv("GONGDAN_TIMEZONE", "Europe/Berlin")
    assert Range().load({"since": "2026-12-05"})["since"] == dt.datetime(2026, 12, 4, 23, 0,
                                                                         tzinfo=utc)
    schema = Range()
    schema.context = {"tz": dt.timezone.utc}
    assert schema.load({"until": "2026-02-28"})["until"] == dt.datetime(2026, 3, 1, tzinfo=utc)
    for bad in ("2026-02-30", "0001-01-01", "2026-1-5"):
        with pytest.raises(marshmallow.ValidationError):
            Range().load({"since": bad})
