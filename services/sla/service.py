"""Nameko entrypoints of the sla service: translate, delegate to handlers, return dicts."""
import eventlet.semaphore
from gongdan_common.amqp import event_handler
from nameko.timer import timer

from gongdan_common.batching import batch_event_handler, by_ticket, handle_each
from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common.logs import Correlation
from gongdan_common.entrypoints import rpc
from gongdan_common.health import HealthMixin
from gongdan_common.metrics import Sampler

from . import clocks, exports, handlers, policies, reading
from .models import metadata

# How often each instance looks for due timers: a timer fires within this, plus the outbox
# relay's immediate publish, of its due time.
TICK_SECONDS = 0.2
# Clock evaluation is CPU work: more than a few at once per process gains nothing, and on
# PostgreSQL every concurrent worker would hold (and the pool then keep) a connection. A
# burst of ticket events is worked off by at most this many workers per sla process.
CLOCK_SLOTS = 4


class SlaService(HealthMixin):
    name = "sla"

    correlation = Correlation()  # log context, one line per RPC/event, spans
    uow = UnitOfWorkProvider(metadata)
    gauges = Sampler(handlers.sample_timers_due)  # refreshed at each /metrics scrape
    settings = Settings(reading.settings_from_config)
    clock_slots = eventlet.semaphore.Semaphore(CLOCK_SLOTS)

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

    # ---- clocks: fed by intake's events ---------------------------------------------
    # Queues do not order events of different types: each step carries the ticket's
    # version and instant, and clocks are evaluated from the sorted steps. Events come in
    # batches, evaluated in one transaction (ordered by ticket: rows are locked in order).

    def _evaluate(self, envelopes):
        with self.clock_slots:
            handle_each(self.uow, envelopes, lambda e: clocks.on_ticket_event(e, self.uow),
                        order_by=by_ticket)

    @batch_event_handler("intake", "ticket_created", requeue_on_error=True)
    def on_ticket_created(self, envelopes):
        with self.clock_slots:
            clocks.on_tickets_created(envelopes, self.uow)

    @batch_event_handler("intake", "ticket_status_changed", requeue_on_error=True)
    def on_ticket_status_changed(self, envelopes):
        self._evaluate(envelopes)

    @batch_event_handler("intake", "ticket_updated", requeue_on_error=True)
    def on_ticket_updated(self, envelopes):
        self._evaluate(envelopes)

    @batch_event_handler("intake", "ticket_commented", requeue_on_error=True)
    def on_ticket_commented(self, envelopes):
        self._evaluate(envelopes)

    @rpc
    def ticket_sla(self, ticket_id):
        return reading.ticket_sla(ticket_id, self.uow)

    @rpc
    def rebuild_clocks(self, actor, ticket_id):
        policies.require_admin(actor)
        return clocks.rebuild(ticket_id, self.uow)

    @rpc
    def report(self, actor, query):
        return reading.report(actor, query, self.uow, self.settings["tz"])

    @rpc
    def export_clocks(self, actor, query, after=None, limit=1000):
        return exports.export_clocks(actor, query, after, limit, self.uow)

    @rpc
    def dry_run(self, actor, payload):
        return reading.dry_run(actor, payload, self.uow)

    # ---- calendars and policies -------------------------------------------------------

    @rpc
    def preview(self, payload):
        return policies.preview(payload, self.uow)

    @rpc
    def list_calendars(self):
        return policies.list_calendars(self.uow)

    @rpc
    def get_calendar(self, calendar_id):
        return policies.get_calendar(calendar_id, self.uow)

    @rpc
    def put_calendar(self, actor, calendar_id, payload):
        return policies.put_calendar(actor, calendar_id, payload, self.uow, clocks.reevaluate)

    @rpc
    def delete_calendar(self, actor, calendar_id):
        return policies.delete_calendar(actor, calendar_id, self.uow)

    @rpc
    def list_policies(self):
        return policies.list_policies(self.uow)

    @rpc
    def get_policy(self, policy_id):
        return policies.get_policy(policy_id, self.uow)

    @rpc
    def put_policy(self, actor, policy_id, payload):
        return policies.put_policy(actor, policy_id, payload, self.uow, clocks.reevaluate)

    @rpc
    def delete_policy(self, actor, policy_id):
        return policies.delete_policy(actor, policy_id, self.uow, clocks.reevaluate)
