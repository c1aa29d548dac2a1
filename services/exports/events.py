"""Events exports publishes on exchange `exports.events` (routing key = type), so notify (or
any subscriber) can tell the requester that a file is ready or could not be made.
Payload schemas are the contract; `docs/events.md` is generated from `ALL`.
"""
from marshmallow import fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

from .schemas import ErrorOutSchema

SOURCE = "exports"


class ExportData(Schema):
    job_id = fields.String(required=True)
    owner_id = fields.String(required=True, metadata={"description": "the requester's user id"})
    kind = fields.String(required=True, metadata={
        "description": "tickets, sla, engineer_time or satisfaction"})
    format = fields.String(required=True, metadata={"description": "csv or xlsx"})
    file_name = fields.String(required=True)
    rows = fields.Integer(required=True, metadata={"description": "rows written (0 if failed)"})


class ExportFinishedData(ExportData):
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    expires_at = UTCDateTime(required=True, metadata={
        "description": "when the file is removed from object storage"})


class ExportFailedData(ExportData):
    error = fields.Nested(ErrorOutSchema, required=True, metadata={
        "description": "code and the message in zh and en"})


EXPORT_FINISHED = EventSpec(SOURCE, "export_finished", 1, ExportFinishedData,
                            "An export's file is ready to download (GET /exports/{id}/download, "
                            "by its requester only).")
EXPORT_FAILED = EventSpec(SOURCE, "export_failed", 1, ExportFailedData,
                          "An export ended without a file: its data owner refused (the "
                          "requester lost a right), or a service stayed away past the retries.")

ALL: list[EventSpec] = [EXPORT_FINISHED, EXPORT_FAILED]
