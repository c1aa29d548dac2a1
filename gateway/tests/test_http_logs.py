"""The gateway's HTTP entrypoint in a container on the real broker: X-Request-ID accepted or
made and returned on every response, one request line each, and an unexpected failure
logged once with its traceback, the reference the user was shown and the request id."""
import logging
import re
import secrets

import requests

from gateway import exceptions as exc
from gateway.http import api
from gongdan_common import logs
from scripts._proc import free_port
from services.conftest import AMQP_URI


class Service:
    name = "httplogs" + secrets.token_hex(3)
    correlation = logs.Correlation()

    @api("GET", "/ok/<ticket_id>")
    def ok(self, request, ticket_id):
        logs.bind(actor_id="u-7")  # what _actor() does once the token is verified
        return {"ticket_id": ticket_id}

    @api("GET", "/refused")
    def refused(self, request):
        raise exc.UNAUTHENTICATED()

    @api("GET", "/broken")
    def broken(self, request):
        raise RuntimeError("boom")


def test_request_ids_request_lines_and_the_reference(container_factory, caplog):
    caplog.set_level(logging.INFO)
    port = free_port()
    container = container_factory(Service, {"AMQP_URI": AMQP_URI,
                                            "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    container.start()
    base = f"http://127.0.0.1:{port}"
    ok = requests.get(base + "/ok/t-1", headers={"X-Request-ID": "abc.DEF_1-2"}, timeout=10)
    refused = requests.get(base + "/refused", headers={"X-Request-ID": "r" * 129}, timeout=10)
    broken = requests.get(base + "/broken", headers={"X-Request-ID": "boom-1"}, timeout=10)
    container.stop()

    assert ok.status_code == 200 and ok.headers["X-Request-ID"] == "abc.DEF_1-2"
    assert refused.status_code == 401
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["X-Request-ID"])  # too long: replaced
    assert broken.status_code == 500 and broken.headers["X-Request-ID"] == "boom-1"
    ref = re.search(r"ref ([0-9a-f]{12})", broken.json()["error"]["message"]).group(1)

    lines = {r.route: r for r in caplog.records if r.name == "gongdan.request"}
    assert (lines["/ok/<ticket_id>"].status, lines["/ok/<ticket_id>"].request_id,
            lines["/ok/<ticket_id>"].actor_id, lines["/ok/<ticket_id>"].ticket_id) == \
        (200, "abc.DEF_1-2", "u-7", "t-1")
    assert (lines["/refused"].levelno, lines["/refused"].status,
            lines["/refused"].error_code) == (logging.INFO, 401, "unauthenticated")
    assert (lines["/broken"].levelno, lines["/broken"].status) == (logging.WARNING, 500)
    with_traceback = [r for r in caplog.records if r.exc_info]
    assert len(with_traceback) == 1  # nameko's own "error handling worker" is dropped
    (crash,) = with_traceback
    assert crash.ref == ref and crash.request_id == "boom-1" and crash.levelno == logging.ERROR
    assert not [r for r in caplog.records if "error handling worker" in r.getMessage()]
