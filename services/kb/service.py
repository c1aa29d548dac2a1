"""Nameko entrypoints of the kb service: translate, delegate to handlers, return dicts.

Knowledge-base articles (versions, keywords, product, visibility, files), ranked search
with Chinese segmentation and English stemming, suggestions for ticket drafts with the
deflection report, feedback and views per version, links to tickets, and suggestions to
write an article when a solved ticket had none. Every call takes the acting user (`actor`,
as the gateway authenticated it) first.
"""
from gongdan_common.amqp import event_handler

from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common.logs import Correlation
from gongdan_common.entrypoints import rpc
from gongdan_common.health import HealthMixin

from . import handlers
from .dependencies import SearchIndexProvider
from .models import metadata


class KbService(HealthMixin):
    name = "kb"

    correlation = Correlation()  # log context, one line per RPC/event, spans
    uow = UnitOfWorkProvider(metadata)
    index = SearchIndexProvider()
    settings = Settings(handlers.settings_from_config)

    @rpc
    def create_article(self, actor, payload):
        return handlers.create_article(actor, payload, self.uow, self.index, self.settings)

    @rpc
    def update_article(self, actor, article_id, payload):
        return handlers.update_article(actor, article_id, payload, self.uow, self.index,
                                       self.settings)

    @rpc
    def transition(self, actor, article_id, action):
        return handlers.transition(actor, article_id, action, self.uow, self.index,
                                   self.settings)

    @rpc
    def delete_article(self, actor, article_id):
        return handlers.delete_article(actor, article_id, self.uow, self.index, self.settings)

    @rpc
    def get_article(self, actor, article_id, version=None, view=False):
        return handlers.get_article(actor, article_id, self.uow, version, view)

    @rpc
    def list_articles(self, actor, query):
        return handlers.list_articles(actor, query, self.uow)

    @rpc
    def list_versions(self, actor, article_id):
        return handlers.list_versions(actor, article_id, self.uow)

    @rpc
    def get_version(self, actor, article_id, version):
        return handlers.get_version(actor, article_id, version, self.uow)

    @rpc
    def search(self, actor, query):
        return handlers.search(actor, query, self.uow, self.index)

    @rpc
    def suggest(self, actor, payload):
        return handlers.suggest(actor, payload, self.uow, self.index, self.settings)

    @rpc
    def suggestion_opened(self, actor, session_id, payload):
        return handlers.suggestion_opened(actor, session_id, payload, self.uow, self.settings)

    @rpc
    def suggestion_outcome(self, actor, session_id, payload):
        return handlers.suggestion_outcome(actor, session_id, payload, self.uow, self.settings)

    @rpc
    def deflection_report(self, actor, query):
        return handlers.deflection_report(actor, query, self.uow)

    @rpc
    def feedback(self, actor, article_id, payload):
        return handlers.feedback(actor, article_id, payload, self.uow, self.settings)

    @rpc
    def create_from_ticket(self, actor, ticket, payload):
        return handlers.create_from_ticket(actor, ticket, payload, self.uow, self.index,
                                           self.settings)

    @rpc
    def link_ticket(self, actor, ticket, payload):
        return handlers.link_ticket(actor, ticket, payload, self.uow, self.settings)

    @rpc
    def ticket_articles(self, actor, ticket_id):
        return handlers.ticket_articles(actor, ticket_id, self.uow)

    @rpc
    def list_writing_suggestions(self, actor, query):
        return handlers.list_writing_suggestions(actor, query, self.uow)

    @rpc
    def authorize_file(self, actor, article_id):
        return handlers.authorize_file(actor, article_id, self.uow)

    @rpc
    def add_file(self, actor, article_id, record):
        return handlers.add_file(actor, article_id, record, self.uow, self.settings)

    @rpc
    def get_file(self, actor, file_id):
        return handlers.get_file(actor, file_id, self.uow)

    @rpc
    def list_synonyms(self, actor, query):
        return handlers.list_synonyms(actor, query, self.uow)

    @rpc
    def create_synonym(self, actor, payload):
        return handlers.create_synonym(actor, payload, self.uow, self.index, self.settings)

    @rpc
    def update_synonym(self, actor, group_id, payload):
        return handlers.update_synonym(actor, group_id, payload, self.uow, self.index,
                                       self.settings)

    @rpc
    def delete_synonym(self, actor, group_id):
        return handlers.delete_synonym(actor, group_id, self.uow, self.index, self.settings)

    @rpc
    def index_stats(self):
        return handlers.index_stats(self.index)

    @event_handler("intake", "ticket_resolved")
    def on_ticket_resolved(self, envelope):
        handlers.on_ticket_solved(envelope, self.uow, self.index)

    @event_handler("intake", "ticket_closed")
    def on_ticket_closed(self, envelope):
        handlers.on_ticket_solved(envelope, self.uow, self.index)
