import eventlet
eventlet.monkey_patch()

# The patch must come before anything else is imported: nameko's test helpers (and psycopg2
# under eventlet) need green sockets and threads. Nothing else belongs here but the one
# test-only setting below, which imports kombu after the patch on purpose.

import inspect  # noqa: E402

import kombu.mixins  # noqa: E402


def _quick_consumer_stop():
    """Nameko's QueueConsumer (kombu's ConsumerMixin) looks at its stop flag between
    `drain_events(timeout=safety_interval)` calls: 1 s by default, so stopping a container in
    a test waited ~3 s (entrypoints, then the consumer, one interval each). In the test
    process only, it looks every 0.1 s; the services run by the suite as processes keep the
    default. Fails loudly if kombu's signature changes."""
    params = inspect.signature(kombu.mixins.ConsumerMixin.consume).parameters
    names = [name for name in params if name != "self"][:3]
    if names != ["limit", "timeout", "safety_interval"] or \
            params["safety_interval"].default != 1:
        raise RuntimeError(f"kombu's ConsumerMixin.consume changed: {list(params)}")
    kombu.mixins.ConsumerMixin.consume.__defaults__ = (None, None, 0.1)


_quick_consumer_stop()
