"""Nameko entrypoints of the channels service: translate, delegate to handlers, return dicts.

Channels is the mail adapter in front of intake. It owns the support mailboxes, the record of
every mail taken in and the mails held aside; intake stays the only owner of tickets (every
ticket and reply is made by intake's own RPCs, as the sender). See docs/channels.md.
"""
from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common.entrypoints import rpc
from gongdan_common.health import HealthMixin
from gongdan_common.logs import Correlation
from gongdan_common.storage import ObjectStoreProvider
from nameko.extensions import DependencyProvider

from . import admin, handlers, polling
from .dependencies import ReplierProvider, TimedProxy
from .lmtp import lmtp
from .models import metadata
from .watch import watch


class ConfigMailboxes(DependencyProvider):
    """CHANNELS.mailboxes, idle_seconds and ingest_concurrency, read once."""

    def setup(self):
        cfg = self.container.config.get("CHANNELS") or {}
        self.value = {"mailboxes": cfg.get("mailboxes") or [],
                      "idle_seconds": float(cfg.get("idle_seconds", 25)),
                      "concurrency": int(cfg.get("ingest_concurrency", 8))}

    def get_dependency(self, worker_ctx):
        return self.value


class UnitOfWorkFactory(DependencyProvider):
    """More units of work for one worker: a mailbox's watch handles several mails at once,
    each in a transaction of its own (the service's one engine and outbox relay)."""

    def get_dependency(self, worker_ctx):
        provider = next(d for d in self.container.dependencies
                        if isinstance(d, UnitOfWorkProvider))
        return lambda: provider.get_dependency(worker_ctx)


class ChannelsService(HealthMixin):
    name = "channels"

    correlation = Correlation()  # log context, one line per RPC/event, spans
    uow = UnitOfWorkProvider(metadata)
    settings = Settings(handlers.settings_from_config)
    store = ObjectStoreProvider()
    intake = TimedProxy("intake")
    directory = TimedProxy("gateway")  # who a sender is: the gateway owns the accounts
    replier = ReplierProvider()
    config = ConfigMailboxes()
    new_uow = UnitOfWorkFactory()

    def _deps(self):
        return handlers.Deps(self.uow, self.intake, self.directory, self.store, self.replier,
                             self.settings)

    # ---- mail in ------------------------------------------------------------------------

    @watch
    def watch_mailboxes(self, command, mailbox_id=None):
        if command == "list":
            if not self.config.get("synced"):  # once per process
                admin.sync_config_mailboxes(self.config["mailboxes"], self.uow,
                                            self.settings["now"](), self.settings["vault"])
                self.config["synced"] = True
            return [b["id"] for b in admin.imap_mailboxes(self.uow, self.settings["vault"])]
        return polling.watch_mailbox(mailbox_id, self._deps(), self.config["idle_seconds"],
                                     self.new_uow, self.config["concurrency"])

    @lmtp
    def receive(self, recipients, raw):
        mailbox = admin.mailbox_for(self.uow, recipients, self.settings["vault"])
        if mailbox is None:
            return "unknown"
        result = handlers.ingest(raw, mailbox, None, self._deps())
        return "retry" if result["status"] in ("released", "claimed") else "accepted"

    # ---- administration -----------------------------------------------------------------

    @rpc
    def list_mailboxes(self, actor):
        return admin.list_mailboxes(actor, self.uow)

    @rpc
    def create_mailbox(self, actor, payload):
        return admin.create_mailbox(actor, payload, self.uow, self.settings["now"](),
                                    self.settings["vault"])

    @rpc
    def update_mailbox(self, actor, mailbox_id, payload):
        return admin.update_mailbox(actor, mailbox_id, payload, self.uow, self.settings["now"](),
                                    self.settings["vault"])

    @rpc
    def delete_mailbox(self, actor, mailbox_id):
        return admin.delete_mailbox(actor, mailbox_id, self.uow)

    @rpc
    def test_mailbox(self, actor, mailbox_id):
        return admin.test_mailbox(actor, mailbox_id, self.uow, self.settings["vault"])

    @rpc
    def list_mails(self, actor, query):
        return admin.list_mails(actor, query, self.uow)

    @rpc
    def get_mail(self, actor, mail_id):
        return admin.get_mail(actor, mail_id, self.uow, self.store)

    @rpc
    def retry_mail(self, actor, mail_id):
        return admin.retry_mail(actor, mail_id, self._deps())

    @rpc
    def discard_mail(self, actor, mail_id):
        return admin.discard_mail(actor, mail_id, self.uow, self.settings["now"]())
