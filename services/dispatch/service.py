"""Nameko entrypoints of the dispatch service: translate, delegate to handlers, return dicts.

The registry of service providers, engineers and certifications, and `qualified_engineers`,
which assignment builds on. Every call takes the acting user (`actor`, as the gateway
authenticated it) first.
"""
from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common.entrypoints import rpc
from gongdan_common.health import HealthMixin

from . import handlers
from .models import metadata


class DispatchService(HealthMixin):
    name = "dispatch"

    uow = UnitOfWorkProvider(metadata)
    settings = Settings(handlers.settings_from_config)

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
    def qualified_engineers(self, actor, product_line, at=None, provider_id=None, skills=None):
        query = {"product_line": product_line, "at": at, "provider_id": provider_id,
                 "skills": skills}
        return handlers.qualified_engineers(
            actor, {k: v for k, v in query.items() if v is not None}, self.uow, self.settings)
