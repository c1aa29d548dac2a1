"""Events kb publishes on exchange `kb.events` (routing key = type).

None is declared yet. The design table says it will publish:

- article_published

Each is added here as an `EventSpec(SOURCE, type, version, schema, description)` with its
marshmallow payload schema, in the issue that introduces it, and listed in `ALL`.
"""
from gongdan_common.events import EventSpec

SOURCE = "kb"

ALL: list[EventSpec] = []
