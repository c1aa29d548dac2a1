"""Events sla publishes on exchange `sla.events` (routing key = type).

None is declared yet. The design table says it will publish:

- sla_warning
- sla_breached
- timer_due (e.g. auto-resume, auto-confirm, follow-up)

Each is added here as an `EventSpec(SOURCE, type, version, schema, description)` with its
marshmallow payload schema, in the issue that introduces it, and listed in `ALL`.
"""
from gongdan_common.events import EventSpec

SOURCE = "sla"

ALL: list[EventSpec] = []
