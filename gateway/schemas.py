"""marshmallow schemas of the gateway's own resources (accounts, companies, tokens)."""
from marshmallow import RAISE, ValidationError, fields, validate, validates_schema

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

from . import domain

PHONE = validate.Regexp(r"^\+?[0-9][0-9 \-]{4,19}$", error=bi(
    "Enter a phone number of 5 to 20 digits (spaces, dashes and a leading + allowed).",
    "请输入 5 到 20 位的电话号码（可含空格、短横线和开头的 +）。"))
PASSWORD = validate.Length(min=8, max=128, error=bi(
    "The password must be 8 to 128 characters long.", "密码长度必须为 8 到 128 个字符。"))
NATIONAL_ID_ERRORS = {
    "format": bi("Enter the identity card number: 18 characters (17 digits and a digit or X) "
                 "or the old 15 digits.",
                 "请输入身份证号码：18 位（前 17 位为数字，最后一位为数字或 X）或旧版 15 位数字。"),
    "checksum": bi("This identity card number's check character is wrong; check the number.",
                   "身份证号码校验位不正确，请核对号码。"),
    "required": bi("The identity card number is required for real-name verification.",
                   "实名认证需要填写身份证号码。"),
}


class NationalId(fields.String):
    """A resident identity number: spaces dropped, a final x upper-cased, then checked
    (domain.national_id_problem); stored encrypted and shown masked by the handlers."""

    def _deserialize(self, value, attr, data, **kwargs):
        out = super()._deserialize(value, attr, data, **kwargs).replace(" ", "").upper()
        problem = domain.national_id_problem(out)
        if problem:
            raise ValidationError(NATIONAL_ID_ERRORS[problem])
        return out

ROLE = validate.OneOf(domain.ROLES, error=bi(
    "Role must be one of: " + ", ".join(domain.ROLES) + ".",
    "角色必须是以下之一：" + "、".join(domain.ROLES) + "。"))


class Strict(Schema):
    class Meta:
        unknown = RAISE


class RegisterSchema(Strict):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    email = fields.Email(allow_none=True)
    phone = Text(allow_none=True, validate=PHONE)
    password = fields.String(required=True, validate=PASSWORD, load_only=True)
    position = fields.String(allow_none=True, validate=validate.Length(max=100))
    company_name = Text(required=True, validate=validate.Length(min=1, max=200))
    national_id = NationalId(allow_none=True, load_only=True, metadata={
        "description": "resident identity card number (15 or 18 characters, checked); "
                       "required when the deployment sets REQUIRE_NATIONAL_ID"})
    language = fields.String(load_default="zh", validate=validate.OneOf(["zh", "en"]))

    @validates_schema
    def national_id_when_required(self, data, **kwargs):
        if (self.context or {}).get("require_national_id") and not data.get("national_id"):
            raise ValidationError(NATIONAL_ID_ERRORS["required"], "national_id")

    @validates_schema
    def phone_or_email(self, data, **kwargs):
        if not data.get("email") and not data.get("phone"):
            raise ValidationError(bi("Give a phone number or an email address (or both).",
                                     "请填写手机号或电子邮箱（至少一项）。"), "phone")


class LoginSchema(Strict):
    login = Text(required=True, validate=validate.Length(min=1, max=254),
                 metadata={"description": "phone number or email address"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))


class RefreshSchema(Strict):
    refresh_token = fields.String(required=True, validate=validate.Length(min=10, max=200))


class PasswordChangeSchema(Strict):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=128))
    new_password = fields.String(required=True, validate=PASSWORD)


class ResetRequestSchema(Strict):
    login = Text(required=True, validate=validate.Length(min=1, max=254),
                 metadata={"description": "the account's phone number or email address"})


class ResetRequestedOut(Schema):
    accepted = fields.Boolean(metadata={
        "description": "always true: whether an account exists is not told"})


class ResetConfirmSchema(Strict):
    token = fields.String(required=True, validate=validate.Length(min=20, max=128),
                          metadata={"description": "the token from the mailed link"})
    new_password = fields.String(required=True, validate=PASSWORD, load_only=True)


class MePatchSchema(Strict):
    name = Text(validate=validate.Length(min=1, max=100))
    position = fields.String(allow_none=True, validate=validate.Length(max=100))
    language = fields.String(validate=validate.OneOf(["zh", "en"]))


class ApproveSchema(Strict):
    company_id = fields.String(allow_none=True, validate=validate.Length(max=36),
                               metadata={"description": "required except for agent/admin"})
    role = fields.String(required=True, validate=ROLE)
    note = fields.String(allow_none=True, validate=validate.Length(max=1000))


class RejectSchema(Strict):
    note = fields.String(allow_none=True, validate=validate.Length(max=1000))


class UserAdminPatchSchema(Strict):
    role = fields.String(validate=ROLE)
    company_id = fields.String(allow_none=True, validate=validate.Length(max=36))
    status = fields.String(validate=validate.OneOf(["active", "disabled"]))
    name = Text(validate=validate.Length(min=1, max=100))
    position = fields.String(allow_none=True, validate=validate.Length(max=100))
    phone = Text(validate=PHONE, metadata={
        "description": "e.g. for an account registered by mail, which has none (a ticket "
                       "needs one)"})


class UserListQuerySchema(Strict):
    status = fields.String(validate=validate.OneOf(["pending", "active", "rejected", "disabled"]))
    role = fields.String(validate=ROLE)
    company_id = fields.String(validate=validate.Length(max=36))
    q = fields.String(validate=validate.Length(min=1, max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class CompanyCreateSchema(Strict):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(domain.COMPANY_KINDS))
    contract_tier = fields.String(allow_none=True, validate=validate.Length(max=32))
    region = fields.String(allow_none=True, validate=validate.Length(max=64))


class CompanyPatchSchema(Strict):
    name = Text(validate=validate.Length(min=1, max=200))
    contract_tier = fields.String(allow_none=True, validate=validate.Length(max=32))
    region = fields.String(allow_none=True, validate=validate.Length(max=64))
    active = fields.Boolean()


class ServiceTokenCreateSchema(Strict):
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(fields.String(validate=validate.OneOf(domain.SCOPES)),
                         required=True, validate=validate.Length(min=1))
    companies = fields.List(fields.String(validate=validate.Length(min=1, max=36)),
                            load_default=list, validate=validate.Length(max=500),
                            metadata={"description": "customer company ids a tickets:create "
                                                     "token may open tickets for"})


class ServiceTokenPatchSchema(Strict):
    scopes = fields.List(fields.String(validate=validate.OneOf(domain.SCOPES)),
                         validate=validate.Length(min=1))
    companies = fields.List(fields.String(validate=validate.Length(min=1, max=36)),
                            validate=validate.Length(max=500))

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError(bi("Nothing to change.", "没有需要修改的内容。"), "_schema")


# ---- output ----------------------------------------------------------------------------

class CompanyOut(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    contract_tier = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = UTCDateTime()


class UserOut(Schema):
    """Identity data leaves masked; `full` context (the user themself, or an admin) shows
    phone and email in clear but never the national ID."""
    id = fields.String()
    name = fields.String()
    email = fields.Method("_email", allow_none=True)
    phone = fields.Method("_phone", allow_none=True)
    national_id = fields.Function(lambda u: domain.mask_national_id(u.national_id_hint))
    position = fields.String(allow_none=True)
    company_id = fields.String(allow_none=True)
    company_name_claimed = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    status = fields.String()
    language = fields.String()
    locked_until = UTCDateTime(allow_none=True)
    failed_logins = fields.Integer()
    created_at = UTCDateTime()

    def __init__(self, *a, full=False, **kw):
        super().__init__(*a, **kw)
        self.full = full

    def _email(self, u):
        return u.email if self.full else domain.mask_email(u.email)

    def _phone(self, u):
        return u.phone if self.full else domain.mask_phone(u.phone)


class ServiceTokenOut(Schema):
    id = fields.String()
    name = fields.String()
    scopes = fields.List(fields.String())
    companies = fields.List(fields.String())
    created_at = UTCDateTime()
    revoked_at = UTCDateTime(allow_none=True)
    last_used_at = UTCDateTime(allow_none=True)


class TokenPairOut(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    user = fields.Nested(UserOut)


# ---- IM bridges and bindings (gateway/im.py) -------------------------------------------------

CHANNEL = validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,31}$", error=bi(
    "A channel name is 1 to 32 lowercase letters, digits, - or _ (e.g. wecom, dingtalk, "
    "feishu).", "渠道名为 1 到 32 位小写字母、数字、- 或 _（如 wecom、dingtalk、feishu）。"))
IM_ID = validate.Length(min=1, max=128)


class ImBridgeIn(Strict):
    channel = fields.String(required=True, validate=CHANNEL)
    default_product = fields.String(allow_none=True, validate=validate.Length(max=64),
                                    metadata={"description": "product code of tickets opened "
                                                             "from IM when the message names "
                                                             "none"})
    active = fields.Boolean()
    rotate_secret = fields.Boolean(load_default=False)


class ImBridgeOut(Schema):
    channel = fields.String()
    default_product = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ImBridgeCreated(ImBridgeOut):
    secret = fields.String(metadata={"description": "shown once: new bridge or rotate_secret"})


class ImBindingIn(Strict):
    channel = fields.String(required=True, validate=CHANNEL)
    im_user_id = Text(required=True, validate=IM_ID)


class ImBindingOut(Schema):
    id = fields.String()
    channel = fields.String()
    im_user_id = fields.String()
    status = fields.String(metadata={"description": "pending (can do nothing) | confirmed"})
    code_expires_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    confirmed_at = UTCDateTime(allow_none=True)


class ImBindingStarted(ImBindingOut):
    code = fields.String(metadata={"description": "send `bind <code>` from the IM account"})
    instructions = fields.Dict(keys=fields.String(), values=fields.String())


class ImMessageIn(Schema):
    """What a bridge relays (unknown fields are ignored: bridges add their own)."""
    message_id = fields.String(required=True, validate=validate.Length(min=1, max=128),
                               metadata={"description": "the platform's message id; a "
                                                        "retry with the same id acts once"})
    user_id = Text(required=True, validate=IM_ID,
                   metadata={"description": "the sender's IM user id on this channel"})
    text = Text(required=True, validate=validate.Length(min=1, max=20000))
    reply_to = fields.String(allow_none=True, validate=validate.Length(max=40),
                             metadata={"description": "ticket number this message answers"})
    product = fields.String(allow_none=True, validate=validate.Length(max=64))
    type = fields.String(allow_none=True, validate=validate.Length(max=32))
    category = fields.String(allow_none=True, validate=validate.Length(max=32))


class ImReply(Schema):
    action = fields.String(metadata={"description": "ticket_created | replied | bound | "
                                                    "bind_failed | unbound"})
    reply = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "what to answer the IM user: zh and en"})
    text = fields.String(metadata={"description": "the answer in the user's language (both "
                                                  "when unbound)"})
    ticket = fields.Dict(allow_none=True)
    duplicate = fields.Boolean()
