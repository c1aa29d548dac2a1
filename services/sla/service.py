"""Nameko entrypoints of the sla service: translate, delegate to handlers, return dicts."""
from nameko.events import event_handler
from nameko.timer import timer

from gongdan_common.dependencies import UnitOfWorkProvider
from gongdan_common.entrypoints import rpc
from gongdan_common.health import HealthMixin

from . import handlers
from .models import metadata

# How often each instance looks for due timers: a timer fires within this, plus the outbox
# relay's immediate publish, of its due time.
TICK_SECONDS = 0.2


class SlaService(HealthMixin):
    name = "sla"

    uow = UnitOfWorkProvider(metadata)

    @timer(interval=TICK_SECONDS)
    def fire_due_timers(self):
        while handlers.fire_due(self.uow) == 500:  # a backlog: keep going within this tick
            pass

    @rpc
    def schedule_timer(self, request):
        return handlers.schedule(request, self.uow)

    @rpc
    def cancel_timer(self, request):
        return handlers.cancel(request, self.uow)

    @rpc
    def get_timer(self, key):
        return handlers.get(key, self.uow)

    # Other services ask for timers through their own outbox (no lost request if they crash
    # after committing); redelivery is harmless because scheduling is idempotent on key.
    @event_handler("intake", "timer_requested")
    def intake_timer_requested(self, envelope):
        handlers.schedule(envelope["data"], self.uow, envelope)

    @event_handler("intake", "timer_cancelled")
    def intake_timer_cancelled(self, envelope):
        handlers.cancel(envelope["data"], self.uow, envelope)

    @event_handler("dispatch", "timer_requested")
    def dispatch_timer_requested(self, envelope):
        handlers.schedule(envelope["data"], self.uow, envelope)

    @event_handler("dispatch", "timer_cancelled")
    def dispatch_timer_cancelled(self, envelope):
        handlers.cancel(envelope["data"], self.uow, envelope)
