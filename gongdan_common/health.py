"""The health RPC every service exposes (used by readiness checks and `gongdan status`)."""
from gongdan_common.entrypoints import rpc
from gongdan_common.metrics import MetricsProvider
from gongdan_common.ops import OpsServer
from sqlalchemy import text


class HealthMixin:
    """Mix into a service class that has a `uow` dependency. Also gives every service its
    metrics (RPC and event workers counted) and its own ops port (/metrics /livez /readyz,
    gongdan_common/ops.py), with no per-service code."""

    _metrics = MetricsProvider()
    _ops = OpsServer()

    @rpc
    def health(self):
        with self.uow as uow:
            uow.session.execute(text("SELECT 1"))
        return {"service": self.name, "status": "ok"}
