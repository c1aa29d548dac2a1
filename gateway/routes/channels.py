"""HTTP routes in front of the channels service (support mailboxes and held-aside mails, for
administrators; channels checks the admin role itself) and the one RPC channels asks the
gateway: who is the person behind a mail address (the gateway owns the accounts)."""
from marshmallow import fields
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from gongdan_common.entrypoints import rpc
from gongdan_common.validation import Schema

from services.channels import schemas as ch

from ..apidoc import doc
from .. import auth, domain
from ..handlers import actor_for
from ..http import api, call, json_body, query_dict
from ..models import Company, User


def mail_sender(uow, address):
    """-> {"status": active|pending|rejected|disabled|unknown, "actor", "phone", "language"}
    for the account with this e-mail address (case-insensitive)."""
    if not isinstance(address, str) or "@" not in address or len(address) > 254:
        return {"status": "unknown"}
    with uow:
        row = uow.session.execute(
            select(User, Company).outerjoin(Company, Company.id == User.company_id)
            .where(func.lower(User.email) == address.strip().lower())).first()
        if row is None:
            return {"status": "unknown"}
        user, company = row
        if user.status != "active":
            return {"status": user.status}
        return {"status": "active", "actor": actor_for(user, company), "phone": user.phone,
                "language": user.language}


def register_mail_sender(uow, address, name=None, language="zh"):
    """CHANNELS unknown_sender `register`: a pending registration for the sender of a mail,
    the state a web registration is in (awaiting an administrator's approval under Users),
    with the address, the name from the From header and the address's domain as the claimed
    company. It has no portal password (nobody chose one): it works by mail once approved.
    -> {"status", "created"}; an address that has an account already only says its status."""
    address = domain.normalise_login(address) if isinstance(address, str) else ""
    if "@" not in address or len(address) > 254:
        return {"status": "unknown", "created": False}
    with uow:
        existing = uow.session.scalar(select(User).where(func.lower(User.email) == address))
        if existing is not None:
            return {"status": existing.status, "created": False}
        now = auth.utcnow()
        uow.session.add(User(
            name=(str(name or "").strip() or address.split("@")[0])[:100], email=address,
            company_name_claimed=address.split("@", 1)[1][:200], status="pending",
            password_hash=NO_PASSWORD, language=language if language in ("zh", "en") else "zh",
            review_note="通过邮件注册 / registered by mail", created_at=now, updated_at=now))
        try:
            uow.commit()
        except IntegrityError:  # the same sender's other mail, on another replica, first
            uow.rollback()
            return {"status": "pending", "created": False}
        return {"status": "pending", "created": True}


# not an argon2 hash: verify_password answers False for it, so no password logs in
NO_PASSWORD = "!registered-by-mail"


class MailboxList(Schema):
    items = fields.List(fields.Nested(ch.MailboxSchema))


class MailList(Schema):
    items = fields.List(fields.Nested(ch.MailSchema))
    total = fields.Integer()


class MailDetail(ch.MailSchema):
    text = fields.String(metadata={"description": "a held mail's text, as the parser read it"})
    attachments = fields.List(fields.Dict())


class ConnectionTest(Schema):
    ok = fields.Boolean()
    message = fields.String()
    messages = fields.Integer(metadata={"description": "mails in the folder"})
    capabilities = fields.List(fields.String())


class RetryResult(Schema):
    status = fields.String(metadata={"description": "done | held | released"})
    outcome = fields.String()
    mail_id = fields.String()
    reason = fields.String(allow_none=True)
    ticket_number = fields.String(allow_none=True)


ERRORS = (400, 401, 403, 404, 409)
MAILBOXES = doc("admin", "Support mailboxes (mail in)", response=MailboxList, errors=ERRORS)
MAILBOX_CREATE = doc("admin", "Add a support mailbox (IMAP polled, or LMTP/SMTP pushed)",
                     body=ch.MailboxInSchema, response=ch.MailboxSchema, status=201,
                     errors=ERRORS, description="The password is stored by channels sealed "
                     "(Fernet, GATEWAY.data_key) and never returned (has_password says "
                     "whether one is set). unknown_sender: reply | register (see "
                     "docs/channels.md).")
MAILBOX_PATCH = doc("admin", "Change a support mailbox (a password left out is kept)",
                    body=ch.MailboxInSchema, response=ch.MailboxSchema, errors=ERRORS)
MAILBOX_DELETE = doc("admin", "Remove a support mailbox (its mail records stay)",
                     errors=ERRORS)
MAILBOX_TEST = doc("admin", "Test connection: log in to the mailbox and open its folder",
                   response=ConnectionTest, errors=ERRORS)
MAILS = doc("admin", "Mails taken in; by default those held aside, with the reason",
            query=ch.MailQuerySchema, response=MailList, errors=ERRORS)
MAIL_GET = doc("admin", "One mail taken in (a held one with its text)", response=MailDetail,
               errors=ERRORS)
MAIL_RETRY = doc("admin", "Process a held-aside mail again", response=RetryResult,
                 errors=ERRORS)
MAIL_DISCARD = doc("admin", "Discard a held-aside mail (kept on record, nothing created)",
                   errors=ERRORS)


class ChannelsRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""

    @rpc
    def mail_sender(self, address):
        return mail_sender(self.uow, address)

    @rpc
    def register_mail_sender(self, address, name=None, language="zh"):
        return register_mail_sender(self.uow, address, name, language)

    @api("GET", "/api/v1/admin/mailboxes", doc=MAILBOXES)
    def list_mailboxes(self, request):
        return call(self.channels, "list_mailboxes", self._actor(request))

    @api("POST", "/api/v1/admin/mailboxes", doc=MAILBOX_CREATE)
    def create_mailbox(self, request):
        return 201, call(self.channels, "create_mailbox", self._actor(request),
                         json_body(request))

    @api("PATCH", "/api/v1/admin/mailboxes/<mailbox_id>", doc=MAILBOX_PATCH)
    def update_mailbox(self, request, mailbox_id):
        return call(self.channels, "update_mailbox", self._actor(request), mailbox_id,
                    json_body(request))

    @api("DELETE", "/api/v1/admin/mailboxes/<mailbox_id>", doc=MAILBOX_DELETE)
    def delete_mailbox(self, request, mailbox_id):
        return call(self.channels, "delete_mailbox", self._actor(request), mailbox_id)

    @api("POST", "/api/v1/admin/mailboxes/<mailbox_id>/test", doc=MAILBOX_TEST)
    def test_mailbox(self, request, mailbox_id):
        return call(self.channels, "test_mailbox", self._actor(request), mailbox_id)

    @api("GET", "/api/v1/admin/mails", doc=MAILS)
    def list_mails(self, request):
        return call(self.channels, "list_mails", self._actor(request), query_dict(request))

    @api("GET", "/api/v1/admin/mails/<mail_id>", doc=MAIL_GET)
    def get_mail(self, request, mail_id):
        return call(self.channels, "get_mail", self._actor(request), mail_id)

    @api("POST", "/api/v1/admin/mails/<mail_id>/retry", doc=MAIL_RETRY)
    def retry_mail(self, request, mail_id):
        return call(self.channels, "retry_mail", self._actor(request), mail_id)

    @api("POST", "/api/v1/admin/mails/<mail_id>/discard", doc=MAIL_DISCARD)
    def discard_mail(self, request, mail_id):
        return call(self.channels, "discard_mail", self._actor(request), mail_id)
