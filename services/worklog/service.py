"""Nameko entrypoints of the worklog service: translate, delegate to handlers, return dicts.

Work-log entries (写日志: start, end, title, description, handler, on-site) on tickets in
progress, their corrections with history, and time spent per ticket and per engineer.
Every call takes the acting user (`actor`, as the gateway authenticated it) first. Ticket
status, handler and visibility come from intake's `ticket_state` RPC at the time of the call.
"""
from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common.logs import Correlation
from gongdan_common.entrypoints import rpc
from gongdan_common.health import HealthMixin

from . import exports, handlers
from .dependencies import TicketStates
from .models import metadata


class WorklogService(HealthMixin):
    name = "worklog"

    correlation = Correlation()  # log context, one line per RPC/event, spans
    uow = UnitOfWorkProvider(metadata)
    settings = Settings(handlers.settings_from_config)
    ticket_state = TicketStates()

    @rpc
    def add_entry(self, actor, ticket_id, payload):
        return handlers.add_entry(actor, ticket_id, payload, self.uow, self.ticket_state,
                                  self.settings)

    @rpc
    def update_entry(self, actor, entry_id, payload):
        return handlers.update_entry(actor, entry_id, payload, self.uow, self.ticket_state,
                                     self.settings)

    @rpc
    def delete_entry(self, actor, entry_id):
        return handlers.delete_entry(actor, entry_id, self.uow, self.ticket_state,
                                     self.settings)

    @rpc
    def list_entries(self, actor, ticket_id):
        return handlers.list_entries(actor, ticket_id, self.uow, self.ticket_state)

    @rpc
    def entry_history(self, actor, entry_id):
        return handlers.entry_history(actor, entry_id, self.uow, self.ticket_state)

    @rpc
    def ticket_time(self, actor, ticket_id):
        return handlers.ticket_time(actor, ticket_id, self.uow, self.ticket_state)

    @rpc
    def engineer_time(self, actor, query):
        return handlers.engineer_time(actor, query, self.uow)

    @rpc
    def export_entries(self, actor, query, after=None, limit=1000):
        return exports.export_entries(actor, query, after, limit, self.uow)
