"""The channels frame: migrations match the models, the service answers `health` over RPC
and its outbox is relayed to `channels.events`, on SQLite and on PostgreSQL."""
from services.channels.models import metadata
from services.channels.service import ChannelsService

# the store's client is made at start but not used by these tests
CONFIG = {"OBJECT_STORE": {"endpoint": "127.0.0.1:9", "access_key": "k", "secret_key": "s",
                           "bucket": "b"}}


def test_migrations_match_models(schema_drift):
    assert schema_drift("channels", metadata) == []


def test_health_over_rpc(start_service, rpc_proxy):
    start_service(ChannelsService, CONFIG)
    assert rpc_proxy("channels").health() == {"service": "channels", "status": "ok"}


def test_outbox_is_relayed_and_inbox_deduplicates(start_service, outbox_probe):
    outbox_probe(start_service(ChannelsService, CONFIG))
