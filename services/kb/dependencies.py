"""KB's own dependency: the process's live search index.

The provider builds the index from the database when the service starts and keeps it fresh
by polling `kb_index_log` (see `live.py`), so every instance finds an edit within about one
poll interval. The worker receives the `LiveIndex` itself.

Config (all optional):

    KB:
      index_poll_interval: 0.2   # seconds between looks at kb_index_log
"""
import logging

import eventlet
from nameko.extensions import DependencyProvider

from gongdan_common.config import service_db_url
from gongdan_common.db import Database

from .live import LiveIndex
from .models import metadata

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600  # seconds


class SearchIndexProvider(DependencyProvider):
    def setup(self):
        config = self.container.config
        cfg = config.get("KB") or {}
        self.poll_interval = float(cfg.get("index_poll_interval", 0.2))
        self.database = Database(service_db_url(config, self.container.service_name), metadata)
        self.live = LiveIndex(self.database)
        self._running = False

    def start(self):
        count = self.live.load()
        log.info("kb search index loaded: %s articles", count)
        self._running = True
        self.container.spawn_managed_thread(self._poll, identifier="kb-index-poll")

    def _poll(self):
        since_prune = 0.0
        while self._running:
            eventlet.sleep(self.poll_interval)
            try:
                self.live.refresh()
                since_prune += self.poll_interval
                if since_prune >= PRUNE_EVERY:
                    since_prune = 0.0
                    self.live.prune()
            except Exception:  # database away: log and keep polling
                log.exception("kb index refresh failed; will retry")
                eventlet.sleep(1)

    def stop(self):
        self._running = False
        self.database.dispose()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.live
