"""`batch_event_handler`: nameko's `event_handler`, but the method receives a *list* of
events, so a busy consumer handles many in one transaction instead of one each.

Why: a consumer that opens a transaction per event pays a BEGIN/COMMIT round trip (and a
WAL flush) per event and a nameko worker per event; under load most of its time goes
there, not into its own logic. Here messages are gathered for up to `max_wait` seconds or
`batch_size` messages, whichever comes first, and handed to one worker. When the worker
returns, every message of the batch is acked (after the handler's commit - at least once,
as before); when it raises, the batch is split and each message is retried alone, so one
poison message is requeued by itself (after a 1 s pause, with `requeue_on_error`) and never
holds up the others. Handlers must be
idempotent per event (`consume_once` / `consume_many`), exactly as for single events.

Messages are prefetched `2 × batch_size` at a time per handler (its own consumer
connection: nameko's shared consumer prefetches only `max_workers`). Config `EVENT_BATCH:
{size, max_wait}` overrides the decorator's defaults for every batch handler of a service.
The queue is named as for `event_handler` (by service and method), so switching a handler
between the two keeps its queue and the messages waiting in it.
"""
import logging
from functools import partial

import eventlet
from nameko.containers import ContainerBeingKilled

from .amqp import EventHandlerWithQueueType, ResilientQueueConsumer

from .logs import event_scope

log = logging.getLogger(__name__)
REQUEUE_PAUSE = 1.0  # seconds before a message that failed alone is requeued


class BatchQueueConsumer(ResilientQueueConsumer):
    """One consumer connection for a service's batch handlers, with a larger prefetch."""

    @property
    def prefetch_count(self):
        return max([p.prefetch for p in self._providers] or [self.container.max_workers])

    def handle_message(self, provider, body, message):
        provider.handle_message(body, message)  # only buffers: never blocks this thread


class BatchEventHandler(EventHandlerWithQueueType):
    queue_consumer = BatchQueueConsumer()

    def __init__(self, source_service, event_type, batch_size=100, max_wait=0.05, **kwargs):
        self.batch_size = int(batch_size)
        self.max_wait = float(max_wait)
        super().__init__(source_service, event_type, **kwargs)

    def setup(self):
        cfg = self.container.config.get("EVENT_BATCH") or {}
        self.batch_size = int(cfg.get("size", self.batch_size))
        self.max_wait = float(cfg.get("max_wait", self.max_wait))
        self.prefetch = 2 * self.batch_size
        super().setup()
        self._pending = []
        self._timer = None

    def stop(self):
        # buffered but not yet handed to a worker: back to the queue for the next start
        pending, self._pending = self._pending, []
        for _, message in pending:
            self.queue_consumer.requeue_message(message)
        super().stop()

    def handle_message(self, body, message):
        self._pending.append((body, message))
        if len(self._pending) >= self.batch_size:
            self._flush()
        elif self._timer is None:
            self._timer = self.container.spawn_managed_thread(self._flush_later)

    def _flush_later(self):
        eventlet.sleep(self.max_wait)
        self._timer = None
        self._flush()

    def _flush(self):
        batch, self._pending = self._pending, []
        if batch:
            # spawn_worker waits for a free worker slot: never in the consumer's thread
            self.container.spawn_managed_thread(partial(self._dispatch, batch))

    def _dispatch(self, batch):
        bodies = [body for body, _ in batch]
        context_data = self.unpack_message_headers(batch[0][1])
        try:
            self.container.spawn_worker(self, (bodies,), {}, context_data=context_data,
                                        handle_result=partial(self._batch_result, batch))
        except ContainerBeingKilled:
            for _, message in batch:
                self.queue_consumer.requeue_message(message)

    def _batch_result(self, batch, worker_ctx, result=None, exc_info=None):
        if exc_info is not None and len(batch) > 1:
            log.warning("a batch of %d %s events failed; retrying them one by one",
                        len(batch), self.source_service)
            for item in batch:
                self.container.spawn_managed_thread(partial(self._dispatch, [item]))
            return result, exc_info
        if exc_info is not None and self.requeue_on_error:
            # a message that fails alone goes back after a pause, not at once: a poison
            # event (or a database that is away) must not spin the consumer
            (_, message), = batch
            self.container.spawn_managed_thread(partial(self._requeue_later, message))
            return result, exc_info
        for _, message in batch:
            self.handle_message_processed(message, result, exc_info)
        return result, exc_info

    def _requeue_later(self, message):
        eventlet.sleep(REQUEUE_PAUSE)
        self.queue_consumer.requeue_message(message)


batch_event_handler = BatchEventHandler.decorator


def handle_each(uow, envelopes, handle, order_by=None):
    """Run a per-event handler (written as `with uow: ... uow.commit()`) over a batch in
    one transaction (`UnitOfWork.batch`): each event keeps or undoes its own part, the
    batch commits once. `order_by` sorts the batch first - by ticket, say - so two batches
    lock rows in the same order and do not deadlock."""
    if order_by is not None:
        envelopes = sorted(envelopes, key=order_by)
    with uow.batch():
        for envelope in envelopes:
            with event_scope(envelope):  # what it logs and emits carries its own ids
                handle(envelope)


def by_ticket(envelope):
    return str(envelope.get("ticket_id") or (envelope.get("data") or {}).get("ticket_id") or "")
