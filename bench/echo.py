"""The baseline: the bare Nameko HTTP -> RPC round trip, nothing else.

Two services, each started with its own `nameko run` (see bench/ticket_create.py):

- `bench_front` has one `@http` entrypoint, POST /echo, which parses the JSON body, calls
  `bench_echo.echo(body)` through an `RpcProxy`, and returns the reply as JSON (201);
- `bench_echo` has one `@rpc` method that returns its argument.

Same Nameko, eventlet, broker, serializer (json) and max_workers as the gateway, so the
difference to ticket creation is what Gongdan itself adds (authentication, validation,
the database transaction, the outbox, the other services).
"""
import json

from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, payload):
        return payload


class FrontService:
    name = "bench_front"

    echo = RpcProxy("bench_echo")

    @http("POST", "/echo")
    def post_echo(self, request):
        body = json.loads(request.get_data())
        reply = self.echo.echo(body)
        return 201, {"Content-Type": "application/json"}, json.dumps(reply, ensure_ascii=False)
