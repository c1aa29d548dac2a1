"""The worklog frame: migrations match the models, the service answers `health` over RPC and
its outbox is relayed to `worklog.events`, on SQLite and on PostgreSQL (fixtures in
services/conftest.py)."""
from services.worklog.models import metadata
from services.worklog.service import WorklogService


def test_migrations_match_models(schema_drift):
    assert schema_drift("worklog", metadata) == []


def test_health_over_rpc(start_service, rpc_proxy):
    start_service(WorklogService)
    assert rpc_proxy("worklog").health() == {"service": "worklog", "status": "ok"}


def test_outbox_is_relayed_and_inbox_deduplicates(start_service, outbox_probe):
    outbox_probe(start_service(WorklogService))
