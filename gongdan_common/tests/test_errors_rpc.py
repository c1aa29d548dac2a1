"""AppError crosses Nameko RPC intact and is expected (not logged as a crash)."""
from nameko.exceptions import deserialize, serialize

from gongdan_common.entrypoints import rpc
from gongdan_common.errors import AppError, ErrorSpec

SPEC = ErrorSpec("upload_incomplete", 400, "{got} of {expected}", "{got}/{expected}")


def test_app_error_round_trips_through_nameko_serialisation():
    err = SPEC(details={"got": 3, "expected": 10, "ok": True}, got=3, expected=10)
    back = deserialize(serialize(err))
    assert isinstance(back, AppError)
    assert back.status == 400 and isinstance(back.status, int)
    assert back.details == {"got": 3, "expected": 10, "ok": True}
    assert back.render("zh")["error"]["message"] == "3/10"


def test_bare_rpc_decorator_declares_app_error_expected():
    class Service:
        name = "x"

        @rpc
        def bare(self):
            pass

        @rpc()
        def called(self):
            pass

    for method in (Service.bare, Service.called):
        (entrypoint,) = method.nameko_entrypoints
        assert AppError in entrypoint.expected_exceptions


def test_field_messages_without_their_pair_render_not_crash():
    # a service that wrote a plain string (or a list of them) where a {en, zh} pair belongs
    # gets a 400 with that text, not a 500 from the gateway's error rendering
    err = AppError({"code": "validation_error", "status": 400,
                    "message": {"en": "Check the fields.", "zh": "请检查字段。"},
                    "details": {"fields": {"from": "Not a valid date.",
                                           "to": ["Not a valid date.", {"en": "x", "zh": "乙"}],
                                           "nested": {"a": ["plain"]}}}})
    en = err.render("en")["error"]["details"]["fields"]
    assert en == {"from": ["Not a valid date."], "to": ["Not a valid date.", "x"],
                  "nested": {"a": ["plain"]}}
    zh = err.render("zh")["error"]["details"]["fields"]
    assert zh["to"][1] == "乙" and zh["from"][0]  # translated where a pair is known
