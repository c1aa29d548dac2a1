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
