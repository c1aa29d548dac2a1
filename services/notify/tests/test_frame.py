"""The notify frame: migrations match the models, the service answers `health` over RPC and
its outbox is relayed to `notify.events`, on SQLite and on PostgreSQL (fixtures in
services/conftest.py)."""
from services.notify.models import metadata
from services.notify.service import NotifyService


def test_migrations_match_models(schema_drift):
    assert schema_drift("notify", metadata) == []


def test_health_over_rpc(start_service, rpc_proxy):
    start_service(NotifyService)
    assert rpc_proxy("notify").health() == {"service": "notify", "status": "ok"}


def test_outbox_is_relayed_and_inbox_deduplicates(start_service, outbox_probe):
    outbox_probe(start_service(NotifyService))
