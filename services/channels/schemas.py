"""marshmallow schemas at channels' boundaries: the admin RPCs' input and output."""
from marshmallow import RAISE, fields, validate

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.validation import Schema

PROTOCOLS = ("imap", "lmtp")
SECURITY = ("none", "starttls", "ssl")
UNKNOWN_SENDER = ("reply", "register")
UNKNOWN_SENDER_DOC = ("mail from an address no account has: reply (how to register) or "
                      "register (a pending registration awaiting approval, the mail held "
                      "aside to retry once approved); null = CHANNELS.unknown_sender")


class MailboxInSchema(Schema):
    class Meta:
        unknown = RAISE
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    address = fields.Email(required=True, validate=validate.Length(max=254))
    protocol = fields.String(load_default="imap", validate=validate.OneOf(PROTOCOLS))
    host = Text(allow_none=True, validate=validate.Length(max=255))
    port = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=65535))
    security = fields.String(load_default="none", validate=validate.OneOf(SECURITY))
    username = Text(allow_none=True, validate=validate.Length(max=254))
    password = fields.String(allow_none=True, validate=validate.Length(max=500),
                             load_only=True)
    folder = Text(load_default="INBOX", validate=validate.Length(min=1, max=200))
    done_folder = Text(allow_none=True, validate=validate.Length(max=200))
    product = Text(required=True, validate=validate.Length(min=1, max=64))
    ticket_type = fields.String(load_default="consult", validate=validate.OneOf(
        ("consult", "defect", "customization", "license")))
    category = fields.String(load_default="consultation", validate=validate.Length(max=32))
    unknown_sender = fields.String(allow_none=True, validate=validate.OneOf(UNKNOWN_SENDER),
                                   metadata={"description": UNKNOWN_SENDER_DOC})
    enabled = fields.Boolean(load_default=True)


class MailboxPatchSchema(MailboxInSchema):
    """Every field optional; a password left out (or null) keeps the stored one."""
    class Meta:
        unknown = RAISE

    def __init__(self, **kw):
        super().__init__(partial=True, **kw)


class MailboxSchema(Schema):
    id = fields.String()
    name = fields.String()
    address = fields.String()
    protocol = fields.String()
    host = fields.String(allow_none=True)
    port = fields.Integer(allow_none=True)
    security = fields.String()
    username = fields.String(allow_none=True)
    has_password = fields.Function(lambda m: bool(m.password_enc))
    folder = fields.String()
    done_folder = fields.String(allow_none=True)
    product = fields.String()
    ticket_type = fields.String()
    category = fields.String()
    unknown_sender = fields.String(allow_none=True, metadata={"description": UNKNOWN_SENDER_DOC})
    enabled = fields.Boolean()
    source = fields.String()
    last_polled_at = UTCDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MailSchema(Schema):
    id = fields.String()
    mailbox_id = fields.String(allow_none=True)
    message_id = fields.String(allow_none=True)
    sender = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    size = fields.Integer()
    status = fields.String()
    outcome = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
    ticket_id = fields.String(allow_none=True)
    ticket_number = fields.String(allow_none=True)
    attempts = fields.Integer()
    claimed_at = UTCDateTime()
    finished_at = UTCDateTime(allow_none=True)


class MailQuerySchema(Schema):
    class Meta:
        unknown = RAISE
    status = fields.String(load_default="held", validate=validate.OneOf(
        ("held", "done", "discarded", "claimed", "all")))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10 ** 6))
