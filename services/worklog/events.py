"""Events worklog publishes on exchange `worklog.events` (routing key = type).

None is declared yet. The design table says it will publish:

- worklog_added

Each is added here as an `EventSpec(SOURCE, type, version, schema, description)` with its
marshmallow payload schema, in the issue that introduces it, and listed in `ALL`.
"""
from gongdan_common.events import EventSpec

SOURCE = "worklog"

ALL: list[EventSpec] = []
