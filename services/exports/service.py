"""Nameko entrypoints of the exports service: translate, delegate to handlers, return dicts.

Exports owns export jobs only (docs/exports.md): CSV and XLSX files of the ticket list, the
SLA clocks, engineer time and satisfaction ratings, written in the background and kept in
object storage for a few days. Every row is read from its owner (intake, worklog, sla) by
that owner's export RPC, AS the requester, so each owner's authorisation decides.
"""
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from gongdan_common.amqp import RpcProxy
from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common.entrypoints import rpc
from gongdan_common.health import HealthMixin
from gongdan_common.logs import Correlation
from gongdan_common.storage import ObjectStoreProvider

from . import handlers, runner
from .dependencies import Owners
from .models import metadata

EXPIRE_SECONDS = 600


class JobTimer(Timer):
    """The job loop's timer (one job at a time per process: a tick waits for the last). On
    stop it first tells the running job to hand itself back, so stopping takes one page,
    not the rest of a million-row export."""

    def stop(self):
        self.container.exports_stopping = True
        super().stop()


class Stopping(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return lambda: getattr(self.container, "exports_stopping", False)


class ExportsService(HealthMixin):
    name = "exports"

    correlation = Correlation()  # log context, one line per RPC/event, spans
    uow = UnitOfWorkProvider(metadata)
    settings = Settings(handlers.settings_from_config)
    store = ObjectStoreProvider()
    stopping = Stopping()
    intake = RpcProxy("intake")
    worklog = RpcProxy("worklog")
    sla = RpcProxy("sla")

    def _owners(self):
        return Owners({"intake": self.intake, "worklog": self.worklog, "sla": self.sla},
                      self.settings["rpc_timeout"])

    @rpc
    def create_export(self, actor, payload):
        return handlers.create_export(actor, payload, self.uow, self._owners(), self.settings)

    @rpc
    def list_exports(self, actor):
        return handlers.list_exports(actor, self.uow)

    @rpc
    def get_export(self, actor, job_id):
        return handlers.get_export(actor, job_id, self.uow)

    @rpc
    def download_export(self, actor, job_id):
        return handlers.download(actor, job_id, self.uow, self.store, self.settings)

    @rpc
    def delete_export(self, actor, job_id):
        return handlers.delete_export(actor, job_id, self.uow, self.store)

    @JobTimer.decorator(interval=1, eager=True)
    def run_jobs(self):
        runner.run_all(self._owners(), self.uow, self.store, self.settings, self.stopping)

    @Timer.decorator(interval=EXPIRE_SECONDS, eager=True)
    def expire_files(self):
        handlers.expire(self.uow, self.store)
