"""The health RPC every service exposes (used by readiness checks and `gongdan status`)."""
from gongdan_common.entrypoints import rpc
from sqlalchemy import text


class HealthMixin:
    """Mix into a service class that has a `uow` dependency."""

    @rpc
    def health(self):
        with self.uow as uow:
            uow.session.execute(text("SELECT 1"))
        return {"service": self.name, "status": "ok"}
