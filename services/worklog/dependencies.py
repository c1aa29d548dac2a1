"""Worklog's own dependency: the authoritative ticket facts, asked of intake over RPC.

`TicketStates` is an `RpcProxy` to intake whose worker-side value is one domain verb,
`ticket_state(ticket_id) -> dict`, with a deadline (nameko 2.14's service-side proxy would
otherwise wait forever) and intake's refusals translated into worklog's vocabulary.

Config (all optional):

    WORKLOG:
      intake_service: intake    # the service answering ticket_state (tests use a fake)
      intake_timeout: 10        # seconds
"""
import eventlet
from nameko.exceptions import UnknownService
from gongdan_common.amqp import RpcProxy

from gongdan_common.errors import AppError

from . import exceptions as exc


class TicketStates(RpcProxy):
    def __init__(self):
        super().__init__("intake")
        self.timeout = 10.0

    def setup(self):
        cfg = self.container.config.get("WORKLOG") or {}
        self.target_service = cfg.get("intake_service") or "intake"
        self.timeout = float(cfg.get("intake_timeout", 10))
        # a request nobody picks up before the deadline expires instead of running late
        self.options = {"expiration": max(1, int(self.timeout * 1000))}

    def get_dependency(self, worker_ctx):
        return TicketStateClient(super().get_dependency(worker_ctx), self.timeout)


class TicketStateClient:
    """Callable: `ticket_state(ticket_id)` -> intake's TicketRef dict.

    Raises TICKET_NOT_FOUND for a ticket intake does not know and INTAKE_UNAVAILABLE when
    intake is not running or does not answer in time."""

    def __init__(self, proxy, timeout):
        self.proxy = proxy
        self.timeout = timeout

    def __call__(self, ticket_id):
        timer = eventlet.Timeout(self.timeout)
        try:
            return self.proxy.ticket_state(ticket_id)
        except eventlet.Timeout as err:
            if err is not timer:
                raise
            raise exc.INTAKE_UNAVAILABLE() from None
        except UnknownService:
            raise exc.INTAKE_UNAVAILABLE() from None
        except AppError as err:
            if err.code == "ticket_not_found":
                raise exc.TICKET_NOT_FOUND() from None
            raise
        finally:
            timer.cancel()
