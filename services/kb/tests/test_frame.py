"""The kb frame: migrations match the models, the service answers `health` over RPC and
its outbox is relayed to `kb.events`, on SQLite and on PostgreSQL (fixtures in
services/conftest.py)."""
from services.kb.models import metadata
from services.kb.service import KbService


def test_migrations_match_models(schema_drift):
    assert schema_drift("kb", metadata) == []


def test_health_over_rpc(start_service, rpc_proxy):
    start_service(KbService)
    assert rpc_proxy("kb").health() == {"service": "kb", "status": "ok"}


def test_outbox_is_relayed_and_inbox_deduplicates(start_service, outbox_probe):
    outbox_probe(start_service(KbService))
