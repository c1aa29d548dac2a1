"""Keeping every IMAP support mailbox watched: a nameko entrypoint that runs one loop per
enabled mailbox, each loop calling the decorated method as a worker (its own unit of work)
again and again: `method("list")` -> the mailbox ids to watch (asked every `refresh`
seconds, so an admin's new mailbox is picked up), `method("watch", id)` -> poll once and,
where the server offers IDLE, wait in IDLE up to `CHANNELS.idle_seconds` for new mail.

Every replica watches every mailbox; the claim row decides which replica takes each mail.
"""
import logging

import eventlet
from eventlet.event import Event
from nameko.extensions import Entrypoint

log = logging.getLogger(__name__)


class MailboxWatcher(Entrypoint):
    def setup(self):
        cfg = self.container.config.get("CHANNELS") or {}
        self.enabled = str(cfg.get("watch", True)).lower() not in ("false", "0", "no")
        self.poll_interval = float(cfg.get("poll_interval", 5))
        self.refresh = float(cfg.get("refresh_seconds", 10))
        self.running = False
        self.loops = {}

    def start(self):
        if self.enabled:
            self.running = True
            self.container.spawn_managed_thread(self._supervise, identifier="mail-watch")

    def stop(self):
        self.running = False

    kill = stop

    def _call(self, *args):
        done = Event()

        def handle_result(worker_ctx, result, exc_info):
            done.send((result, exc_info))
            return result, exc_info

        self.container.spawn_worker(self, args, {}, handle_result=handle_result)
        return done.wait()

    def _supervise(self):
        wanted = set()
        while self.running:
            result, exc_info = self._call("list")
            if exc_info is None:
                wanted = set(result or ())
                for mailbox_id in wanted - set(self.loops):
                    self.loops[mailbox_id] = True
                    self.container.spawn_managed_thread(
                        lambda m=mailbox_id: self._loop(m), identifier=f"mail-watch-{mailbox_id}")
                for mailbox_id in set(self.loops) - wanted:
                    self.loops[mailbox_id] = False  # its loop ends after the current turn
            eventlet.sleep(self.refresh)

    def _loop(self, mailbox_id):
        failures = 0
        while self.running and self.loops.get(mailbox_id):
            result, exc_info = self._call("watch", mailbox_id)
            if exc_info is not None or (result or {}).get("error"):
                failures += 1
                eventlet.sleep(min(self.poll_interval * 2 ** min(failures, 5), 300))
                continue
            failures = 0
            if not (result or {}).get("idled"):
                eventlet.sleep(self.poll_interval)
        self.loops.pop(mailbox_id, None)


watch = MailboxWatcher.decorator
