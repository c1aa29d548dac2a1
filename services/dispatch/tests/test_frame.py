"""The dispatch frame: migrations match the models, the service answers `health` over RPC and
its outbox is relayed to `dispatch.events`, on SQLite and on PostgreSQL (fixtures in
services/conftest.py)."""
from services.dispatch.models import metadata
from services.dispatch.service import DispatchService


def test_migrations_match_models(schema_drift):
    assert schema_drift("dispatch", metadata) == []


def test_health_over_rpc(start_service, rpc_proxy):
    start_service(DispatchService)
    assert rpc_proxy("dispatch").health() == {"service": "dispatch", "status": "ok"}


def test_outbox_is_relayed_and_inbox_deduplicates(start_service, outbox_probe):
    outbox_probe(start_service(DispatchService))
