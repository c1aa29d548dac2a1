"""The one event envelope, and how a service declares the events it owns.

Every event on the wire is an envelope:
  {event_id, type, version, occurred_at, source, actor, ticket_id, ticket_number,
   correlation_id, traceparent, data}
published to exchange `<service>.events` with routing key = type (Nameko's convention,
so `@event_handler("intake", "ticket_created")` and any outside queue can bind to it).
`correlation_id` is the request id of the request (or event) whose handling emitted it, and
`traceparent` its W3C trace context when tracing is on (see gongdan_common/logs.py).
"""
import datetime as dt
import uuid

from marshmallow import EXCLUDE, fields

from .validation import Schema

from .logs import envelope_fields


class ActorSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(allow_none=True)
    role = fields.String(required=True)
    name = fields.String(allow_none=True)
    company_id = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    type = fields.String(required=True)
    version = fields.Integer(required=True)
    occurred_at = fields.DateTime(required=True)
    source = fields.String(required=True)
    actor = fields.Nested(ActorSchema, allow_none=True)
    ticket_id = fields.String(allow_none=True)
    ticket_number = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    traceparent = fields.String(allow_none=True)
    data = fields.Dict(required=True)


class EventSpec:
    """A published event: its type, schema version and payload schema (owned by the publisher)."""

    def __init__(self, source, type, version, schema, description):
        self.source, self.type, self.version = source, type, version
        self.schema, self.description = schema, description
        self._dumper = schema()  # one instance: building schemas is not free on a hot path

    def envelope(self, data, actor=None, ticket_id=None, ticket_number=None):
        """Dump the payload through its schema and wrap it. (Conformance of what is dumped
        is checked by the contract tests, not on every event.)"""
        payload = self._dumper.dump(data)
        return {
            "event_id": str(uuid.uuid4()),
            "type": self.type,
            "version": self.version,
            "occurred_at": utcnow().isoformat().replace("+00:00", "Z"),
            "source": self.source,
            "actor": _actor_ref(actor),
            "ticket_id": ticket_id,
            "ticket_number": ticket_number,
            **envelope_fields(),  # correlation_id, traceparent of the emitting worker
            "data": payload,
        }


def _actor_ref(actor):
    if not actor:
        return None
    return {k: actor.get(k) for k in ("id", "role", "name", "company_id", "provider_id")}


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


def exchange_name(service_name):
    return f"{service_name}.events"
