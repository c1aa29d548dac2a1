"""Nameko entrypoints of the dispatch service: translate, delegate to handlers, return dicts.

The registry of service providers, engineers and certifications (`handlers`), and
assignment: assign / reassign / unassign and history (`assigning`), routing rules (`routing`),
provider offers (`offers`), the consumers of intake's ticket events (`projection`, `routing`)
and sla's timers (`offers`), certification warnings (`expiring`). Every RPC
takes the acting user (`actor`, as the gateway authenticated it) first.
"""
from gongdan_common.amqp import event_handler
from gongdan_common.batching import batch_event_handler
from gongdan_common.amqp import RpcProxy
from nameko.timer import timer

from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common.logs import Correlation
from gongdan_common.entrypoints import rpc
from gongdan_common.health import HealthMixin

from . import assigning, expiring, handlers, offers, projection, routing
from .dependencies import ticket_lookup
from .models import metadata

# The certification check is daily in effect: each run warns what is due and claims it, so
# running it hourly (and at start) only makes a warning go out within an hour of its day.
CERTIFICATION_CHECK_SECONDS = 3600


class DispatchService(HealthMixin):
    name = "dispatch"

    correlation = Correlation()  # log context, one line per RPC/event, spans
    uow = UnitOfWorkProvider(metadata)
    settings = Settings(handlers.settings_from_config)
    intake = RpcProxy("intake")

    def _tickets(self):
        return ticket_lookup(self.intake, self.settings["intake_timeout"])

    # ---- registry ---------------------------------------------------------------------------

    @rpc
    def upsert_provider(self, actor, payload):
        return handlers.upsert_provider(actor, payload, self.uow)

    @rpc
    def list_providers(self, actor):
        return handlers.list_providers(actor, self.uow)

    @rpc
    def upsert_engineer(self, actor, payload):
        return handlers.upsert_engineer(actor, payload, self.uow)

    @rpc
    def list_engineers(self, actor, query=None):
        return handlers.list_engineers(actor, query, self.uow, self.settings)

    @rpc
    def set_availability(self, actor, engineer_id, availability):
        return handlers.set_availability(actor, engineer_id, availability, self.uow)

    @rpc
    def add_certification(self, actor, engineer_id, payload):
        return handlers.add_certification(actor, engineer_id, payload, self.uow, self.settings)

    @rpc
    def list_certifications(self, actor, engineer_id):
        return handlers.list_certifications(actor, engineer_id, self.uow, self.settings)

    @rpc
    def qualified_engineers(self, actor, product_line, at=None, provider_id=None, skills=None,
                            limit=None):
        query = {"product_line": product_line, "at": at, "provider_id": provider_id,
                 "skills": skills, "limit": limit}
        return handlers.qualified_engineers(
            actor, {k: v for k, v in query.items() if v is not None}, self.uow, self.settings)

    # ---- assignment -------------------------------------------------------------------------

    @rpc
    def assign(self, actor, ticket_id, payload):
        return assigning.assign(actor, ticket_id, payload, self.uow, self.settings,
                                 self._tickets())

    @rpc
    def reassign(self, actor, ticket_id, payload):
        return assigning.reassign(actor, ticket_id, payload, self.uow, self.settings,
                                   self._tickets())

    @rpc
    def unassign(self, actor, ticket_id, payload):
        return assigning.unassign(actor, ticket_id, payload, self.uow, self.settings,
                                   self._tickets())

    @rpc
    def assignment_history(self, actor, ticket_id):
        return assigning.assignment_history(actor, ticket_id, self.uow, self.settings,
                                             self._tickets())

    # ---- provider offers --------------------------------------------------------------------

    @rpc
    def offer(self, actor, ticket_id, payload=None):
        return offers.offer(actor, ticket_id, payload, self.uow, self.settings,
                                self._tickets())

    @rpc
    def accept_offer(self, actor, offer_id, payload=None):
        return offers.accept_offer(actor, offer_id, payload, self.uow, self.settings)

    @rpc
    def decline_offer(self, actor, offer_id, payload=None):
        return offers.decline_offer(actor, offer_id, payload, self.uow, self.settings)

    @rpc
    def list_offers(self, actor, query=None):
        return offers.list_offers(actor, query, self.uow)

    # ---- routing rules ----------------------------------------------------------------------

    @rpc
    def list_rules(self, actor):
        return routing.list_rules(actor, self.uow)

    @rpc
    def create_rule(self, actor, payload):
        return routing.create_rule(actor, payload, self.uow, self.settings)

    @rpc
    def update_rule(self, actor, rule_id, payload):
        return routing.update_rule(actor, rule_id, payload, self.uow, self.settings)

    @rpc
    def delete_rule(self, actor, rule_id):
        return routing.delete_rule(actor, rule_id, self.uow)

    # ---- what other services tell us --------------------------------------------------------

    # A batch projects its new tickets in one transaction; a ticket automatic dispatch may
    # place is then handled alone (one event, one transaction): a transaction that changes
    # who holds a ticket locks the engineers' rows in id order (models.refresh_engineers), and
    # placing several tickets in one would lock them in event order and deadlock with assign
    # calls. (The queue keeps its name: it is named after the method.)
    @batch_event_handler("intake", "ticket_created", requeue_on_error=True)
    def on_ticket_created(self, envelopes):
        routing.tickets_created(envelopes, self.uow, self.settings)

    @event_handler("intake", "ticket_updated")
    def on_ticket_updated(self, envelope):
        projection.ticket_changed(envelope, self.uow, self.settings, "dispatch.ticket_updated")

    @event_handler("intake", "ticket_status_changed")
    def on_ticket_status_changed(self, envelope):
        projection.ticket_changed(envelope, self.uow, self.settings,
                                  "dispatch.ticket_status_changed")

    @event_handler("sla", "timer_due")
    def on_timer_due(self, envelope):
        offers.timer_due(envelope, self.uow, self.settings)

    @timer(interval=CERTIFICATION_CHECK_SECONDS, eager=True)
    def check_certifications(self):
        expiring.warn_expiring_certifications(self.uow, self.settings)
