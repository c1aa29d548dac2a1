"""Nameko dependency providers shared by every service: the unit of work (with the outbox
relay that belongs to it) and the service's config-derived settings."""
import logging
import os

import eventlet
from eventlet.event import Event
from nameko.extensions import DependencyProvider

from . import metrics
from .config import service_db_url
from .db import Database
from .outbox import OutboxRelay, crash_after_commit_requested

log = logging.getLogger(__name__)


class UnitOfWorkProvider(DependencyProvider):
    """Gives each worker a fresh `UnitOfWork`; owns the engine and the outbox relay.

    The relay wakes right after a commit that emitted events (low latency) and also polls
    every `OUTBOX.poll_interval` seconds, which is how rows left behind by a crash, or by
    another replica, get published.
    """

    def __init__(self, metadata, service_name=None):
        self.metadata = metadata
        self.service_name_override = service_name

    def setup(self):
        config = self.container.config
        name = self.service_name_override or self.container.service_name
        self.database = Database(service_db_url(config, name), self.metadata)
        outbox_cfg = config.get("OUTBOX") or {}
        self.poll_interval = float(outbox_cfg.get("poll_interval", 1.0))
        # after a commit wakes the relay it waits this long, so one pass (one claiming
        # transaction) publishes a burst instead of a row at a time
        self.gather = float(outbox_cfg.get("gather_seconds", 0.02))
        self.relay_enabled = outbox_cfg.get("enabled", True)
        self.relay = OutboxRelay(self.database, config["AMQP_URI"], name)
        self._wake = Event()
        self._running = False
        metrics.on_scrape(self._sample_backlog)

    def _sample_backlog(self):
        count, age = self.relay.backlog()
        name = self.relay.service_name
        metrics.OUTBOX_UNPUBLISHED.labels(name).set(count)
        metrics.OUTBOX_OLDEST.labels(name).set(age)

    def start(self):
        if self.relay_enabled:
            self._running = True
            self.container.spawn_managed_thread(self._relay_loop, identifier="outbox-relay")

    def stop(self):
        self._running = False
        metrics.remove_sampler(self._sample_backlog)
        self._poke()
        self.database.dispose()  # give pooled connections back to the server now

    def kill(self):
        self.stop()

    def _poke(self):
        if not self._wake.ready():
            self._wake.send(True)

    def _after_commit(self, event_ids):
        if crash_after_commit_requested():
            log.error("fault injection: exiting between commit and publish of %s", event_ids)
            os._exit(137)
        self._poke()

    def _relay_loop(self):
        try:
            self._relay_until_stopped()
        finally:
            self.relay.close()

    def _relay_until_stopped(self):
        failures = 0
        while self._running:
            self._wake = Event()  # a commit during this pass wakes the next one at once
            try:
                while True:
                    published = self.relay.relay_once()
                    metrics.outbox_published(self.relay.service_name, published)
                    # a short batch took every row there was: no second claiming
                    # transaction to find nothing (a commit during this pass has already
                    # woken the next one)
                    if published < self.relay.batch_size:
                        break
            except Exception as exc:  # broker or database away: back off, try again
                failures += 1
                # rows stay unpublished until the broker has taken them; one traceback per
                # outage, then a line now and then
                if failures == 1:
                    log.warning("outbox relay failed; retrying until it succeeds",
                                exc_info=True)
                elif failures % 10 == 0:
                    log.warning("outbox relay still failing (%d attempts): %r", failures, exc)
                eventlet.sleep(min(self.poll_interval * 2 ** min(failures, 6), 5.0))
                continue
            if failures:
                log.info("outbox relay publishing again after %d failed attempt(s)", failures)
                failures = 0
            with eventlet.Timeout(self.poll_interval, False):
                self._wake.wait()
                # let a burst of commits gather, so one pass publishes many rows
                eventlet.sleep(self.gather)

    def get_dependency(self, worker_ctx):
        return self.database.unit_of_work(on_commit=self._after_commit)


class Settings(DependencyProvider):
    """Service settings derived once from config by a service-supplied function."""

    def __init__(self, build):
        self.build = build

    def setup(self):
        self.value = self.build(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.value
