"""The OpenAPI document, generated from the routes' own metadata and the very marshmallow
schemas that validate requests (intake's schemas are imported for documentation only, so
the document cannot drift from what the services accept)."""
import functools
import os
import re

import swagger_ui_bundle
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields
from werkzeug.wrappers import Response

from gongdan_common.validation import Schema
from services.dispatch import schemas as dispatch
from services.intake import schemas as intake
from services.worklog import schemas as worklog

from . import schemas as gw


class ErrorBody(Schema):
    code = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.String(required=True, metadata={
        "description": "for people, in the request's language (Accept-Language zh or en)"})
    details = fields.Dict(required=True, metadata={
        "description": "e.g. {fields: {title: [message]}} for validation errors"})


class Error(Schema):
    error = fields.Nested(ErrorBody, required=True)


class Health(Schema):
    status = fields.String()
    service = fields.String()


class Ready(Schema):
    status = fields.String(metadata={"enum": ["ready", "not_ready"]})
    checks = fields.Dict(metadata={"description": "component -> ok | unavailable"})


class TimelineItem(Schema):
    at = fields.String()
    kind = fields.String(metadata={"enum": [
        "status", "reply", "note", "attachment", "assigned", "reassigned", "suspension",
        "closing_report", "rating", "worklog"]})
    actor = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    attachment_kind = fields.String(metadata={
        "description": "attachments only: intake or the report kind; summary is the file name"})


class TicketDetail(intake.TicketSchema):
    timeline = fields.List(fields.Nested(TimelineItem))
    assignments = fields.List(fields.Nested(intake.AssignmentSchema))
    suspensions = fields.List(fields.Nested(intake.SuspensionSchema))
    closing_reports = fields.List(fields.Nested(intake.ClosingReportSchema))
    ratings = fields.List(fields.Nested(intake.RatingOutSchema))
    follow_ups = fields.List(fields.Nested(intake.FollowUpSchema))
    worklogs = fields.List(fields.Nested(worklog.EntrySchema), allow_none=True, metadata={
        "description": "null when the worklog service did not answer"})
    comments = fields.List(fields.Nested(intake.CommentSchema))
    attachments = fields.List(fields.Nested(intake.AttachmentSchema(
        exclude=("bucket", "object_key"))))
    history = fields.List(fields.Nested(intake.StatusChangeSchema))
    allowed_actions = fields.List(fields.String())


class TicketPage(Schema):
    items = fields.List(fields.Nested(intake.TicketSummarySchema))
    total = fields.Integer(metadata={
        "description": "how many tickets match: counted exactly up to 1,000; past that "
                       "(PostgreSQL) the planner's estimate, see total_exact"})
    total_exact = fields.Boolean(metadata={
        "description": "false when total is an estimate (more than 1,000 matches): show it "
                       "as \"about\" (约)"})
    page = fields.Integer()
    page_size = fields.Integer()


class UserPage(Schema):
    items = fields.List(fields.Nested(gw.UserOut))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class ProductList(Schema):
    items = fields.List(fields.Nested(intake.ProductOutSchema))


class CompanyList(Schema):
    items = fields.List(fields.Nested(gw.CompanyOut))


class ServiceTokenCreated(gw.ServiceTokenOut):
    token = fields.String(metadata={"description": "shown once; keep it secret"})


class ServiceTokenList(Schema):
    items = fields.List(fields.Nested(gw.ServiceTokenOut))


class AttachmentLink(Schema):
    url = fields.String()
    expires_in = fields.Integer()
    filename = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    content_type = fields.String()


class AttachmentOut(intake.AttachmentSchema):
    pass


class ProviderList(Schema):
    items = fields.List(fields.Nested(dispatch.ProviderSchema))


class EngineerRow(dispatch.EngineerSchema):
    certified_product_lines = fields.List(fields.String())


class EngineerPage(Schema):
    items = fields.List(fields.Nested(EngineerRow))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class CertificationOut(dispatch.CertificationSchema):
    status = fields.String(metadata={"enum": ["valid", "expired", "not_yet_valid", "invalid"]})


class CertificationList(Schema):
    items = fields.List(fields.Nested(CertificationOut))


class QualifiedRow(dispatch.EngineerSchema):
    skill_match = fields.Integer()
    open_load = fields.Integer()
    last_assigned_at = fields.DateTime(allow_none=True)
    certification = fields.Nested(CertificationOut)


class QualifiedList(Schema):
    product_line = fields.String()
    at = fields.Date()
    total = fields.Integer(metadata={"description": "how many qualify (items: the best `limit`)"})
    items = fields.List(fields.Nested(QualifiedRow))


COMMON_ERRORS = (400, 401, 403, 404)

# Every tag an operation uses, declared once with what it groups (client generators name
# their API classes after tags; tests/test_docs.py checks none is left undeclared).
TAGS = {
    "health": "Liveness and readiness of the gateway (no sign-in)",
    "auth": "Registration, sign-in, token refresh and sign-out",
    "me": "The signed-in user's own account, preferences and password",
    "tickets": "Tickets: submit, search, read, change, reply, status actions, ratings",
    "attachments": "Files attached to tickets (streamed to object storage)",
    "lists": "The ticket list's tools: my columns, saved views, tags (staff)",
    "dispatch": "Assigning engineers, offers to service providers",
    "providers": "Service providers, their engineers and certifications",
    "worklogs": "Time logged on tickets",
    "follow-ups": "Follow-up visits after closing P1/P2 tickets",
    "leftovers": "Leftover issues (遗留问题) recorded at closing: plan, owner, due date, progress",
    "sla": "SLA clocks, business calendars and policies",
    "reports": "Reports for staff (time spent, SLA compliance)",
    "notifications": "The in-app inbox of notifications",
    "webhooks": "Webhooks: subscriptions of outside systems to ticket events",
    "kb": "Knowledge base: articles, search, suggestions while writing a ticket",
    "channels": "IM bridges: signed inbound messages from WeCom/DingTalk/Feishu relays",
    "robots": "IM group robots (WeCom, DingTalk, Feishu) that post ticket notices",
    "admin": "Administration: users, companies, products, rules, templates, service tokens",
}

# The one error shape under every status, as reusable responses (components/responses).
# 429, 500 and 503 can answer any operation: limits, a lost database or broker, a bug.
_RETRY_AFTER = {"description": "seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 0}}
ERROR_RESPONSES = {
    400: ("BadRequest", "invalid input: details.fields names each field", "validation_failed"),
    401: ("Unauthorized", "not signed in, or the token is invalid or expired",
          "unauthenticated"),
    403: ("Forbidden", "signed in, but this role may not do this", "forbidden"),
    404: ("NotFound", "no such thing, or the caller may not see it", "not_found"),
    409: ("Conflict", "conflicts with the current state (status, a duplicate, a race)",
          "conflict"),
    413: ("PayloadTooLarge", "the body or file is over the limit", "payload_too_large"),
    415: ("UnsupportedMediaType", "not JSON, or a file type that is not allowed",
          "unsupported_media_type"),
    423: ("Locked", "the account is locked after wrong passwords, until a given time",
          "account_locked"),
    429: ("TooManyRequests", "a rate limit was hit: wait Retry-After seconds", "rate_limited"),
    500: ("InternalError", "a failure on the server's side, logged with details.ref",
          "internal_error"),
    503: ("ServiceUnavailable", "a dependency (database, broker, a service, object storage) "
          "is not answering: try again after Retry-After seconds", "service_unavailable"),
}
ALWAYS = (429, 500, 503)


def _error_response(status):
    name, description, code = ERROR_RESPONSES[status]
    out = {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"},
        "example": {"error": {"code": code, "message": description, "details": {}}}}}}
    if status in (429, 503):
        out["headers"] = {"Retry-After": dict(_RETRY_AFTER, required=True)}
    if status == 429:
        out["headers"].update({
            "RateLimit-Limit": {"description": "requests allowed in the window",
                                "schema": {"type": "integer"}},
            "RateLimit-Remaining": {"description": "requests left in the window",
                                    "schema": {"type": "integer"}},
            "RateLimit-Reset": {"description": "seconds until the window resets",
                                "schema": {"type": "integer"}}})
    return name, out


def doc(tag, summary, body=None, query=None, response=None, status=200, auth=True,
        errors=COMMON_ERRORS, description=None, headers=None, responses=None):
    """`responses`: {status: schema} for answers that are not errors in the one error shape
    (readiness answers 503 with its own body)."""
    return {"tag": tag, "summary": summary, "body": body, "query": query,
            "response": response, "status": status, "auth": auth, "errors": errors,
            "description": description, "headers": headers or [], "responses": responses}


HEALTHZ = doc("health", "Liveness: the process answers", response=Health, auth=False, errors=())
READYZ = doc("health", "Readiness: own database and object storage; ?deep=1 adds every service",
             response=Ready, auth=False, errors=(), responses={503: Ready})
REGISTER = doc("auth", "Register (the account waits for an administrator's approval)",
               body=gw.RegisterSchema, response=gw.UserOut, status=201, auth=False,
               errors=(400, 409, 413, 415))
LOGIN = doc("auth", "Log in by phone or email + password", body=gw.LoginSchema,
            response=gw.TokenPairOut, auth=False, errors=(400, 401, 403, 423),
            description="Wrong passwords lock the account for a while (GATEWAY.lockout_*); "
                        "a locked account gets 423 account_locked saying until when, not "
                        "'wrong account or password'.")
REFRESH = doc("auth", "Exchange a refresh token for a new pair (each refresh token works once)",
              body=gw.RefreshSchema, response=gw.TokenPairOut, auth=False, errors=(400, 401))
LOGOUT = doc("auth", "Log out: revokes this session's access and refresh tokens", status=204)
ME = doc("me", "The current user", response=gw.UserOut)
ME_PATCH = doc("me", "Change name, position or language", body=gw.MePatchSchema,
               response=gw.UserOut)
ME_PASSWORD = doc("me", "Change password (other sessions are signed out)",
                  body=gw.PasswordChangeSchema, status=204)
PRODUCTS = doc("tickets", "Products that tickets can be filed against", response=ProductList)
TICKET_CREATE = doc(
    "tickets", "Submit a ticket", body=intake.TicketCreateSchema, response=intake.TicketSchema,
    status=201, errors=(400, 401, 403, 413, 415),
    description="Priority is derived from impact x urgency. Send an Idempotency-Key header to "
                "make retries safe: the same key from the same user returns the first ticket. "
                "A service token needs the tickets:create scope and names the customer "
                "company (company_id), which must be one an administrator allowed for the "
                "token (else 403 company_not_allowed).",
    headers=[{"in": "header", "name": "Idempotency-Key", "required": False,
              "schema": {"type": "string", "maxLength": 80}}])
TICKET_LIST = doc("tickets", "Search and list tickets visible to the caller",
                  query=intake.ListQuerySchema, response=TicketPage,
                  description="List filters (status, type, priority) take repeats or commas.")
TICKET_GET = doc("tickets", "One ticket with its conversation, attachments and history "
                 "(by id or number)", response=TicketDetail)
TICKET_PATCH = doc("tickets", "Change ticket fields (who may change what depends on role and "
                   "status)", body=intake.TicketPatchSchema, response=intake.TicketSchema,
                   errors=(400, 401, 403, 404, 409))
COMMENT_CREATE = doc(
    "tickets", "Reply publicly, or add an internal note (staff only)",
    body=intake.CommentCreateSchema, response=intake.CommentSchema,
    status=201, errors=(400, 401, 403, 404, 409),
    description="Send an Idempotency-Key header (or request_key) to make retries safe: the "
                "same key on the same ticket returns the first comment; used on that ticket "
                "by someone else it is 409 request_key_used.",
    headers=[{"in": "header", "name": "Idempotency-Key", "required": False,
              "schema": {"type": "string", "maxLength": 80}}])
ATTACHMENT_UPLOAD = doc(
    "attachments", "Upload an attachment (streamed to object storage)",
    response=AttachmentOut, status=201, errors=(400, 401, 403, 404, 409, 413, 415, 503),
    description="multipart/form-data with field `file`, or the raw bytes with "
                "?filename=NAME. Allowed: png jpg jpeg gif rar zip 7z doc docx xls xlsx mp4 "
                "pdf txt log, checked by content; at most 100 MB. ?kind=onsite_report | "
                "inspection_report | acceptance_report | implementation_report uploads a "
                "closing report (staff only, at most 30 MB). ?internal=1 hides it from the "
                "customer. 503 when object storage is down (the ticket is unaffected).")
ATTACHMENT_LINK = doc("attachments", "A short-lived download link (?redirect=1 for a 302)",
                      response=AttachmentLink, errors=(401, 404, 503))
USERS_LIST = doc("admin", "List users (admin: all; customer_admin: own company)",
                 query=gw.UserListQuerySchema, response=UserPage)
USER_APPROVE = doc("admin", "Approve a registration and bind it to a company and role",
                   body=gw.ApproveSchema, response=gw.UserOut, errors=(400, 401, 403, 404, 409))
USER_REJECT = doc("admin", "Reject a registration", body=gw.RejectSchema, response=gw.UserOut,
                  errors=(400, 401, 403, 404, 409))
USER_UNLOCK = doc("admin", "Unlock an account locked by wrong passwords", response=gw.UserOut)
USER_PATCH = doc("admin", "Change a user's role, company or status", body=gw.UserAdminPatchSchema,
                 response=gw.UserOut)
COMPANIES_LIST = doc("admin", "List companies (?kind=customer|provider|vendor)",
                     response=CompanyList)
COMPANY_CREATE = doc("admin", "Create a company", body=gw.CompanyCreateSchema,
                     response=gw.CompanyOut, status=201, errors=(400, 401, 403, 409))
COMPANY_PATCH = doc("admin", "Change a company", body=gw.CompanyPatchSchema,
                    response=gw.CompanyOut, errors=(400, 401, 403, 404, 409))
TOKENS_LIST = doc("admin", "List service tokens", response=ServiceTokenList)
TOKEN_CREATE = doc("admin", "Create a service token for an internal system",
                   body=gw.ServiceTokenCreateSchema, response=ServiceTokenCreated, status=201,
                   errors=(400, 401, 403, 409))
TOKEN_PATCH = doc("admin", "Change a service token's scopes or the customer companies it may "
                  "open tickets for (tickets:create)", body=gw.ServiceTokenPatchSchema,
                  response=gw.ServiceTokenOut, errors=(400, 401, 403, 404))
TOKEN_REVOKE = doc("admin", "Revoke a service token", response=gw.ServiceTokenOut)
ADMIN_PRODUCTS = doc("admin", "All products, including inactive ones", response=ProductList)
PRODUCT_CREATE = doc("admin", "Create a product", body=intake.ProductSchema,
                     response=intake.ProductOutSchema, status=201, errors=(400, 401, 403, 409))
PRODUCT_PUT = doc("admin", "Create or replace a product (code from the path)",
                  body=intake.ProductSchema(exclude=("code",)),
                  response=intake.ProductOutSchema)

PROVIDERS_LIST = doc("providers", "Service providers (admin and agents: all; provider admin: own)",
                     response=ProviderList)
PROVIDER_PUT = doc("providers", "Create or change a provider (the id is its provider company's)",
                   body=dispatch.ProviderInSchema(exclude=("id",)), response=dispatch.ProviderSchema)
ENGINEERS_LIST = doc("providers", "Engineers, with the product lines they are certified for",
                     query=dispatch.EngineerQuerySchema, response=EngineerPage)
ENGINEER_PUT = doc("providers", "Create or change an engineer (the id is their user account's)",
                   body=dispatch.EngineerInSchema(exclude=("id",)), response=dispatch.EngineerSchema)
AVAILABILITY = doc("providers", "On duty or on leave", body=dispatch.AvailabilitySchema,
                   response=dispatch.EngineerSchema)
CERTS_LIST = doc("providers", "An engineer's certifications", response=CertificationList)
CERT_CREATE = doc("providers", "Add a certification (product line + validity period)",
                  body=dispatch.CertificationInSchema, response=CertificationOut, status=201,
                  errors=(400, 401, 403, 404, 409))
QUALIFIED = doc("providers", "Engineers qualified for a product line on a day: certified then, "
                "on duty, best match first", query=dispatch.QualifiedQuerySchema,
                response=QualifiedList)


class FollowUpRow(intake.FollowUpSchema):
    ticket_number = fields.String()
    ticket_title = fields.String()
    priority = fields.String()


class FollowUpPage(Schema):
    items = fields.List(fields.Nested(FollowUpRow))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class RootCauseList(Schema):
    items = fields.List(fields.Nested(intake.RootCauseOutSchema))


class EntryRow(worklog.EntrySchema):
    can_edit = fields.Boolean()


class EntryList(Schema):
    ticket_id = fields.String()
    ticket_number = fields.String()
    ticket_status = fields.String()
    can_add = fields.Boolean()
    items = fields.List(fields.Nested(EntryRow))
    total = fields.Integer()


class EntryDeleted(Schema):
    id = fields.String()
    ticket_id = fields.String()
    deleted = fields.Boolean()
    deleted_at = fields.DateTime()


class EntryHistory(Schema):
    entry_id = fields.String()
    ticket_id = fields.String()
    items = fields.List(fields.Nested(worklog.ChangeSchema))


class AssignmentList(Schema):
    items = fields.List(fields.Nested(dispatch.AssignmentSchema))


class OfferList(Schema):
    items = fields.List(fields.Nested(dispatch.OfferSchema))


class RuleList(Schema):
    items = fields.List(fields.Nested(dispatch.RuleSchema))


ASSIGN = doc("dispatch", "Assign a qualified engineer (agent: any ticket; provider admin: own "
             "engineers, repair and inspection tickets)", body=dispatch.AssignSchema,
             response=dispatch.AssignmentSchema, errors=(400, 401, 403, 404, 409),
             description="Refused with a clear error when the engineer is not certified for "
                         "the ticket's product line today, is on leave, or belongs to another "
                         "provider. Two racing assignments: one wins, the other gets 409.")
REASSIGN = doc("dispatch", "Re-assign with a reason", body=dispatch.ReassignSchema,
               response=dispatch.AssignmentSchema, errors=(400, 401, 403, 404, 409))
UNASSIGN = doc("dispatch", "Take the ticket back from its engineer (with a reason)",
               body=dispatch.UnassignSchema, response=dispatch.AssignmentSchema,
               errors=(400, 401, 403, 404, 409))
ASSIGNMENTS = doc("dispatch", "Who was assigned, by whom or which rule, and why",
                  response=AssignmentList)
OFFER = doc("dispatch", "Offer a repair or inspection ticket to a service provider",
            body=dispatch.OfferInSchema, response=dispatch.OfferSchema, status=201,
            errors=(400, 401, 403, 404, 409))
OFFERS = doc("dispatch", "Offers (provider admins: to their provider)",
             query=dispatch.OfferQuerySchema, response=OfferList)
OFFER_ACCEPT = doc("dispatch", "Accept an offer (optionally naming the engineer at once)",
                   body=dispatch.AcceptOfferSchema, response=dispatch.OfferSchema,
                   errors=(400, 401, 403, 404, 409))
OFFER_DECLINE = doc("dispatch", "Decline an offer: it moves on to the next qualified provider",
                    body=dispatch.DeclineOfferSchema, response=dispatch.OfferSchema,
                    errors=(400, 401, 403, 404, 409))
RULES = doc("admin", "Routing rules for support tickets", response=RuleList)
RULE_CREATE = doc("admin", "Create a routing rule", body=dispatch.RuleInSchema,
                  response=dispatch.RuleSchema, status=201)
RULE_PATCH = doc("admin", "Change a routing rule", body=dispatch.RuleInSchema,
                 response=dispatch.RuleSchema)
RULE_DELETE = doc("admin", "Delete a routing rule", response=dispatch.RuleSchema)

WORKLOGS_LIST = doc("worklogs", "Work-log entries of a ticket, oldest work first",
                    response=EntryList)
WORKLOG_CREATE = doc("worklogs", "Log work (only while in progress, by the handler or the desk)",
                     body=worklog.EntryCreateSchema, response=worklog.EntrySchema, status=201,
                     errors=(400, 401, 403, 404, 409, 503))
WORKLOG_PATCH = doc("worklogs", "Correct an entry (its author or the desk, while in progress)",
                    body=worklog.EntryPatchSchema, response=worklog.EntrySchema,
                    errors=(400, 401, 403, 404, 409))
WORKLOG_DELETE = doc("worklogs", "Delete an entry (kept in its history)", response=EntryDeleted,
                     errors=(401, 403, 404, 409))
WORKLOG_HISTORY = doc("worklogs", "Who changed an entry, when, from what to what",
                      response=EntryHistory)
TICKET_TIME = doc("worklogs", "Time spent on a ticket, in total and per engineer",
                  response=worklog.TicketTimeSchema)
ENGINEER_TIME = doc("reports", "Time spent per engineer over a period",
                    query=worklog.ReportQuerySchema, response=worklog.EngineerTimeSchema)

RATING = doc("tickets", "Rate product and service (1-5 stars), once per resolution",
             body=intake.RatingSchema, response=intake.RatingOutSchema, status=201,
             errors=(400, 401, 403, 404, 409))
FOLLOW_UPS = doc("follow-ups", "Follow-up visits due after closing P1/P2 tickets (desk only)",
                 query=intake.FollowUpQuerySchema, response=FollowUpPage)
FOLLOW_UP_DONE = doc("follow-ups", "Record a follow-up as done", body=intake.FollowUpDoneSchema,
                     response=intake.FollowUpSchema)
ROOT_CAUSES = doc("tickets", "Root causes a closing report chooses from", response=RootCauseList)
ROOT_CAUSE_PUT = doc("admin", "Create or change a root cause",
                     body=intake.RootCauseSchema(exclude=("code",)),
                     response=intake.RootCauseOutSchema)

_ACTION_DOCS = {
    "cancel": ("Cancel (submitter or company admin, before work starts)", None),
    "request-info": ("Ask the customer for missing information (staff; reason required)", None),
    "provide-info": ("Tell the desk the requested information was given", None),
    "start": ("Start work (the assigned engineer, or the desk): assigned -> in_progress", None),
    "suspend": ("Suspend with planned start, planned end and reason; resumes by itself at the "
                "planned end", intake.SuspendSchema),
    "resume": ("Resume a suspended ticket by hand", None),
    "resolve": ("File the closing report (root cause, description, times; the reports the type "
                "demands must be attached first, ?kind=onsite_report ...) with any leftover "
                "items (遗留问题: what, plan, owner, due date)", intake.ResolveSchema),
    "confirm": ("The customer confirms it is solved: resolved -> closed", None),
    "reopen": ("The customer says it is not solved (reason required): back to in_progress",
               None),
    "close": ("The desk closes a resolved ticket nobody confirms, with any leftover items",
              intake.CloseSchema),
}


def ticket_actions(actions):
    assert set(_ACTION_DOCS) == set(actions)
    out = doc("tickets", "Status actions", body=intake.TransitionSchema,
              response=intake.TicketSchema, errors=(400, 401, 403, 404, 409))
    out["expand"] = {"action": {a: text for a, (text, _) in _ACTION_DOCS.items()}}
    out["bodies"] = {a: body for a, (_, body) in _ACTION_DOCS.items() if body is not None}
    return out


_NAMES = {}


def _schema_name(schema):
    """Component names: the class name without 'Schema', plus what a partial view leaves
    out (ProductSchema(exclude=("code",)) -> ProductWithoutCode)."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    owner = _NAMES.setdefault(name, cls)
    if owner is not cls:  # two services' schemas share a class name: say whose
        name = cls.__module__.split(".")[-2].title() + name
    if not isinstance(schema, type):
        if schema.exclude:
            name += "Without" + "".join(f.title().replace("_", "") for f in sorted(schema.exclude))
        if schema.only:
            name += "Only" + "".join(f.title().replace("_", "") for f in sorted(schema.only))
    return name


_PARAM = re.compile(r"<(?:[^:<>]+:)?([a-z_]+)>")


@functools.lru_cache(maxsize=1)
def openapi_document():
    from .http import ROUTES
    spec = APISpec(title="Gongdan API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
                   info={"description": "Gongdan technical-support ticket system (工单系统). "
                         "Errors always have the shape {error: {code, message, details}}."})
    spec.components.schema("Error", schema=Error)
    for status in ERROR_RESPONSES:
        spec.components.response(*_error_response(status))
    used = {meta["tag"] for _, _, meta in ROUTES}
    for tag in [t for t in TAGS if t in used] + sorted(used - set(TAGS)):
        spec.tag({"name": tag, "description": TAGS.get(tag, "")})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT or gds_ service token"})
    paths = {}
    for method, url, meta in ROUTES:
        variants = [(url, meta["summary"])]
        for name, values in (meta.get("expand") or {}).items():
            rule = re.compile(r"<[^<>]*:" + name + ">")
            variants = [(rule.sub(v, url), s) for v, s in values.items()]
        for path, summary in variants:
            variant = path.rsplit("/", 1)[-1]
            body = (meta.get("bodies") or {}).get(variant)
            op = _operation(dict(meta, body=body) if body else meta, summary, path)
            oapi_path = _PARAM.sub(r"{\1}", path)
            methods = method.split(",")
            for m in methods:
                # operationId: the handler's name in camelCase, plus the action of an
                # expanded route and the method when one handler serves several
                name = meta.get("handler") or (m.lower() + "_" + oapi_path)
                if len(variants) > 1:
                    name += "_" + variant
                if len(methods) > 1:
                    name += "_" + m
                paths.setdefault(oapi_path, {})[m.lower()] = dict(
                    op, operationId=_camel(name))
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()


def _operation(meta, summary, path):
    op = {"tags": [meta["tag"]], "summary": summary, "responses": {}}
    if meta["description"]:
        op["description"] = meta["description"]
    params = [{"in": "path", "name": n, "required": True, "schema": {"type": "string"}}
              for n in _PARAM.findall(path)]
    if meta["query"] is not None:
        params.append({"in": "query", "schema": meta["query"]})
    params.extend(meta["headers"])
    params.append({"in": "header", "name": "Accept-Language", "required": False,
                   "schema": {"type": "string", "example": "zh-CN"}})
    op["parameters"] = params
    if meta["body"] is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": meta["body"]}}}
    ok = {"description": "OK"}
    if meta["response"] is not None:
        ok["content"] = {"application/json": {"schema": meta["response"]}}
    op["responses"][str(meta["status"])] = ok
    errors = set(meta["errors"]) | set(ALWAYS) | ({401} if meta["auth"] else set())
    for code in sorted(errors):
        op["responses"][str(code)] = {
            "$ref": "#/components/responses/" + ERROR_RESPONSES[code][0]}
    for code, schema in (meta.get("responses") or {}).items():
        op["responses"][str(code)] = {"description": "not ready", "content": {
            "application/json": {"schema": schema}}}
    if meta["auth"]:
        op["security"] = [{"bearer": []}]
    return op


def _camel(name):
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])


_DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gongdan API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#ui"});</script>
</body></html>"""
_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "application/javascript"}


def docs_page():
    """Swagger UI from the installed swagger-ui-bundle package: works with no internet."""
    return Response(_DOCS_HTML, mimetype="text/html")


def docs_asset(name):
    if name not in _ASSETS:
        from . import exceptions as exc
        raise exc.ROUTE_NOT_FOUND(method="GET", path="/api/docs/assets/" + name)
    with open(os.path.join(swagger_ui_bundle.swagger_ui_path, name), "rb") as fh:
        return Response(fh.read(), mimetype=_ASSETS[name],
                        headers={"Cache-Control": "public, max-age=86400"})
