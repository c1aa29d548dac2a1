"""The sla frame: migrations match the models, the service answers `health` over RPC and
its outbox is relayed to `sla.events`, on SQLite and on PostgreSQL (fixtures in
services/conftest.py)."""
from services.sla.models import metadata
from services.sla.service import SlaService


def test_migrations_match_models(schema_drift):
    assert schema_drift("sla", metadata) == []


def test_health_over_rpc(start_service, rpc_proxy):
    start_service(SlaService)
    assert rpc_proxy("sla").health() == {"service": "sla", "status": "ok"}


def test_outbox_is_relayed_and_inbox_deduplicates(start_service, outbox_probe):
    outbox_probe(start_service(SlaService))
