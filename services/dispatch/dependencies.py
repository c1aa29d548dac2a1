"""What dispatch's workers get besides the shared unit of work and settings: intake's
`ticket_state`, as one domain verb with a deadline (a service-side RpcProxy in nameko 2.14
has no timeout of its own)."""
import eventlet
from nameko.exceptions import UnknownService

from . import exceptions as exc


def ticket_lookup(intake_proxy, timeout):
    """`lookup(ticket_id)` -> intake's TicketRef dict; intake's ticket_not_found passes
    through; no answer within `timeout` seconds -> 503 intake_unavailable."""
    def lookup(ticket_id):
        try:
            with eventlet.Timeout(timeout):
                return intake_proxy.ticket_state(ticket_id)
        except (eventlet.Timeout, UnknownService):
            raise exc.INTAKE_UNAVAILABLE() from None
    return lookup
