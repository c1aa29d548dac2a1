"""Nameko entrypoints of the intake service: translate, delegate to handlers, return dicts."""
import os

import eventlet.semaphore
from nameko.timer import timer
from gongdan_common.amqp import event_handler

from gongdan_common.entrypoints import rpc

from gongdan_common.batching import batch_event_handler, by_ticket, handle_each
from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common import logs
from gongdan_common.logs import Correlation
from gongdan_common.health import HealthMixin

from . import (attachments, catalog, common, feedback, leftovers, lifecycle, listing,
               projections, reports, tickets)
from . import bulk, listprefs, tagging
from .models import metadata

# how often each instance looks for overdue leftover items (the claim makes extra passes and
# extra instances harmless; reminders are days apart, so minutes of delay do not matter)
LEFTOVER_SWEEP_SECONDS = float(os.environ.get("LEFTOVER_SWEEP_SECONDS") or 300)


class IntakeService(HealthMixin):
    name = "intake"

    correlation = Correlation()  # log context, one line per RPC/event, spans
    uow = UnitOfWorkProvider(metadata)
    settings = Settings(common.settings_from_config)
    # sla's projection events come in bursts (one per ticket event): a couple of workers at
    # a time keep up, and do not take database connections from ticket requests
    sla_slots = eventlet.semaphore.Semaphore(2)

    @rpc
    def create_ticket(self, actor, payload):
        ticket = tickets.create_ticket(actor, payload, self.uow, self.settings)
        logs.bind(ticket_id=ticket["id"])  # the new ticket's id on this call's log line
        return ticket

    @rpc
    def ticket_state(self, ticket_id):
        return tickets.ticket_state(ticket_id, self.uow)

    @rpc
    def get_ticket(self, actor, ticket_id):
        return tickets.get_ticket(actor, ticket_id, self.uow)

    @rpc
    def list_tickets(self, actor, query):
        return listing.list_tickets(actor, query, self.uow, self.settings)

    # ---- the desk's list tools: tags, columns, saved views, bulk (issue 14) --------------

    @rpc
    def add_tags(self, actor, ticket_id, payload):
        return tagging.change_tags(actor, ticket_id, payload, self.uow, add=True)

    @rpc
    def remove_tags(self, actor, ticket_id, payload):
        return tagging.change_tags(actor, ticket_id, payload, self.uow, add=False)

    @rpc
    def list_tags(self, actor):
        return tagging.list_tags(actor, self.uow)

    @rpc
    def get_list_settings(self, actor):
        return listprefs.get_list_settings(actor, self.uow)

    @rpc
    def put_list_settings(self, actor, payload):
        return listprefs.put_list_settings(actor, payload, self.uow)

    @rpc
    def reset_list_settings(self, actor):
        return listprefs.reset_list_settings(actor, self.uow)

    @rpc
    def list_views(self, actor):
        return listprefs.list_views(actor, self.uow)

    @rpc
    def create_view(self, actor, payload):
        return listprefs.create_view(actor, payload, self.uow)

    @rpc
    def update_view(self, actor, view_id, payload):
        return listprefs.update_view(actor, view_id, payload, self.uow)

    @rpc
    def delete_view(self, actor, view_id):
        return listprefs.delete_view(actor, view_id, self.uow)

    @rpc
    def bulk_prepare(self, actor, payload):
        return bulk.prepare(actor, payload, self.uow)

    @rpc
    def bulk_finish(self, actor, request_key, result):
        return bulk.finish(actor, request_key, result, self.uow)

    @rpc
    def update_ticket(self, actor, ticket_id, patch):
        return tickets.update_ticket(actor, ticket_id, patch, self.uow)

    @rpc
    def add_comment(self, actor, ticket_id, payload):
        return tickets.add_comment(actor, ticket_id, payload, self.uow)

    @rpc
    def transition(self, actor, ticket_id, action, payload):
        return lifecycle.transition(actor, ticket_id, action, payload, self.uow, self.settings)

    @rpc
    def rate(self, actor, ticket_id, payload):
        return feedback.rate(actor, ticket_id, payload, self.uow)

    @rpc
    def report_volume(self, actor, query):
        return reports.volume(actor, query, self.uow, self.settings)

    @rpc
    def report_backlog(self, actor, query):
        return reports.backlog(actor, query, self.uow)

    @rpc
    def report_satisfaction(self, actor, query):
        return reports.satisfaction(actor, query, self.uow, self.settings)

    @rpc
    def report_workload(self, actor):
        return reports.workload(actor, self.uow)

    @rpc
    def list_follow_ups(self, actor, query):
        return feedback.list_follow_ups(actor, query, self.uow)

    @rpc
    def complete_follow_up(self, actor, follow_up_id, payload):
        return feedback.complete_follow_up(actor, follow_up_id, payload, self.uow)

    @rpc
    def list_root_causes(self, include_inactive=False):
        return catalog.list_root_causes(self.uow, include_inactive)

    @rpc
    def put_root_cause(self, actor, payload):
        return catalog.put_root_cause(actor, payload, self.uow)

    # ---- leftover items (遗留问题) ----

    @rpc
    def list_leftovers(self, actor, query):
        return leftovers.list_items(actor, query, self.uow, self.settings)

    @rpc
    def get_leftover(self, actor, item_id):
        return leftovers.get_item(actor, item_id, self.uow, self.settings)

    @rpc
    def add_leftovers(self, actor, ticket_id, payload):
        return leftovers.add_items(actor, ticket_id, payload, self.uow, self.settings)

    @rpc
    def update_leftover(self, actor, item_id, payload):
        return leftovers.update_item(actor, item_id, payload, self.uow, self.settings)

    @rpc
    def finish_leftover(self, actor, item_id, status, payload):
        return leftovers.finish_item(actor, item_id, status, payload, self.uow, self.settings)

    @rpc
    def sweep_leftovers(self, actor):
        return leftovers.sweep(actor, self.uow, self.settings)

    @timer(interval=LEFTOVER_SWEEP_SECONDS)
    def leftover_sweep(self):
        leftovers.sweep_overdue(self.uow, self.settings)

    @event_handler("dispatch", "ticket_assigned")
    def on_ticket_assigned(self, envelope):
        projections.apply_assignment(envelope, self.uow)

    @event_handler("dispatch", "ticket_reassigned")
    def on_ticket_reassigned(self, envelope):
        projections.apply_assignment(envelope, self.uow)

    @event_handler("dispatch", "ticket_unassigned")
    def on_ticket_unassigned(self, envelope):
        projections.apply_provider_change(envelope, self.uow)

    @event_handler("dispatch", "ticket_offered")
    def on_ticket_offered(self, envelope):
        projections.apply_provider_change(envelope, self.uow)

    @event_handler("dispatch", "offer_declined")
    def on_offer_declined(self, envelope):
        projections.apply_provider_change(envelope, self.uow)

    @event_handler("dispatch", "offer_expired")
    def on_offer_expired(self, envelope):
        projections.apply_provider_change(envelope, self.uow)

    @event_handler("dispatch", "offer_exhausted")
    def on_offer_exhausted(self, envelope):
        projections.apply_provider_change(envelope, self.uow)

    @event_handler("sla", "timer_due")
    def on_timer_due(self, envelope):
        projections.timer_due(envelope, self.uow, self.settings)

    # one per ticket event: in batches, one transaction each (rows locked in ticket order)
    @batch_event_handler("sla", "sla_clock_updated", requeue_on_error=True)
    def on_sla_clock_updated(self, envelopes):
        with self.sla_slots:
            projections.apply_sla_clocks(envelopes, self.uow)

    @batch_event_handler("sla", "sla_breached", requeue_on_error=True)
    def on_sla_breached(self, envelopes):
        with self.sla_slots:
            handle_each(self.uow, envelopes, lambda e: projections.apply_sla_breach(e, self.uow),
                        order_by=by_ticket)

    @rpc
    def authorize_attachment(self, actor, ticket_id, kind="intake"):
        return attachments.authorize_attachment(actor, ticket_id, self.uow, kind)

    @rpc
    def add_attachment(self, actor, ticket_id, record):
        return attachments.add_attachment(actor, ticket_id, record, self.uow)

    @rpc
    def get_attachment(self, actor, ticket_id, attachment_id):
        return attachments.get_attachment(actor, ticket_id, attachment_id, self.uow)

    @rpc
    def list_products(self, include_inactive=False):
        return catalog.list_products(self.uow, include_inactive)

    @rpc
    def create_product(self, actor, payload):
        return catalog.upsert_product(actor, payload, self.uow, create_only=True)

    @rpc
    def update_product(self, actor, payload):
        return catalog.upsert_product(actor, payload, self.uow)
