"""The HTTP gateway: authentication, accounts, and the JSON API in front of the services.

Entrypoints stay thin: authenticate, read the body or query, call one handler or one
service RPC (which checks authorisation again from the actor), and return JSON.
"""
import logging
import uuid
import zoneinfo

import eventlet
from gongdan_common.amqp import RpcProxy
from sqlalchemy import text
from werkzeug.wrappers import Response

from gongdan_common import logs
from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common.logs import Correlation
from gongdan_common.entrypoints import rpc

from gongdan_common import filetypes, vault
from gongdan_common.storage import ObjectStoreProvider

from . import apidoc, auth, domain, exceptions as exc, handlers, tokens, uploads, webapp
from .http import RPC_TIMEOUT, api, call, json_body, query_dict
from .models import metadata
from .ratelimit import RateLimitProvider
from .routes.channels import ChannelsRoutes
from .routes.im import ImRoutes
from .routes.kb import KbRoutes
from .routes.recovery import RecoveryRoutes
from .routes.listing import ListingRoutes
from .routes.leftovers import LeftoverRoutes
from .routes.notify import NotifyRoutes
from .routes.ops import OpsRoutes
from .routes.reports import ReportsRoutes
from .routes.sla import SlaRoutes

log = logging.getLogger(__name__)
SERVICES = ("intake", "dispatch", "worklog", "sla", "notify", "kb", "channels")
TICKET_ACTIONS = {"cancel": "cancel", "request-info": "request_info",
                  "provide-info": "provide_info", "start": "start", "suspend": "suspend",
                  "resume": "resume", "resolve": "resolve", "confirm": "confirm",
                  "reopen": "reopen", "close": "close"}
_ACTIONS_RULE = "any(" + ",".join(f'"{a}"' for a in TICKET_ACTIONS) + ")"


def build_settings(config):
    gw = config.get("GATEWAY") or {}
    secret = str(gw.get("secret_key") or "")
    return {
        "tokens": auth.TokenCodec(secret, gw.get("access_token_ttl", 900)),
        "vault": vault.Vault(gw.get("data_key"), secret, purpose="national-id"),
        "refresh_ttl": int(gw.get("refresh_token_ttl", 14 * 86400)),
        "lockout_threshold": int(gw.get("lockout_threshold", 5)),
        "require_national_id": str(gw.get("require_national_id", "false")).lower()
        in ("1", "true", "yes", "on"),
        "lockout_minutes": int(gw.get("lockout_minutes", 15)),
        "password_reset_minutes": int(gw.get("password_reset_minutes", 30)),
        "public_url": str(gw.get("public_url") or "http://127.0.0.1:8000").rstrip("/"),
        "max_upload": int(gw.get("max_upload_bytes", 100 * 1024 * 1024)),
        # closing reports (现场服务报告 …) are capped lower, as the AISHU guide says
        "max_report": int(gw.get("max_report_bytes", 30 * 1024 * 1024)),
        "bucket": config["OBJECT_STORE"]["bucket"],
        "link_ttl": int(config["OBJECT_STORE"].get("link_ttl_seconds", 300)),
        "tz": zoneinfo.ZoneInfo(config.get("TIMEZONE", "Asia/Shanghai")),
        "archive_policy": filetypes.ArchivePolicy.from_config(config.get("UPLOADS")),
        # verified actors kept this many seconds per process (auth.ActorCache; 0 = off)
        "actor_cache": auth.ActorCache(float(gw.get("actor_cache_seconds", 5))),
        # ticket numbers in IM messages (gateway/im.py) start with intake's prefix
        "number_prefix": str((config.get("INTAKE") or {}).get("number_prefix") or "TS"),
    }


class GatewayService(ChannelsRoutes, ImRoutes, KbRoutes, RecoveryRoutes, ListingRoutes,
                     LeftoverRoutes, NotifyRoutes, ReportsRoutes, SlaRoutes, OpsRoutes):
    name = "gateway"

    correlation = Correlation()  # log context, one line per RPC/event, spans
    uow = UnitOfWorkProvider(metadata)
    settings = Settings(build_settings)
    store = ObjectStoreProvider()
    limits = RateLimitProvider()
    # requests nobody picks up within the deadline expire instead of running late
    intake = RpcProxy("intake", expiration=int(RPC_TIMEOUT * 1000))
    dispatch = RpcProxy("dispatch", expiration=int(RPC_TIMEOUT * 1000))
    worklog = RpcProxy("worklog", expiration=int(RPC_TIMEOUT * 1000))
    sla = RpcProxy("sla", expiration=3000)
    notify = RpcProxy("notify", expiration=3000)
    kb = RpcProxy("kb", expiration=3000)
    channels = RpcProxy("channels", expiration=int(RPC_TIMEOUT * 1000))

    # ---- plumbing ---------------------------------------------------------------------

    def _actor(self, request, scope=None):
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or len(header) < 12:
            raise exc.UNAUTHENTICATED()
        actor = handlers.authenticate(header[7:].strip(), self.uow, self.settings)
        logs.bind(actor_id=actor.get("id"))  # the request's log line and RPC context
        if actor["role"] == "system":
            needed = scope or ("tickets:read" if request.method == "GET" else "tickets:write")
            if needed not in actor["scopes"]:
                raise exc.SCOPE_REQUIRED(scope=needed)
        return actor

    # ---- health -----------------------------------------------------------------------

    @api("GET", "/healthz", doc=apidoc.HEALTHZ)
    def healthz(self, request):
        return {"status": "ok", "service": "gateway"}

    @api("GET", "/readyz", doc=apidoc.READYZ)
    def readyz(self, request):
        """Ready to serve: own database and object storage. `?deep=1` also asks every
        service (for operators and tests; a load balancer should not take every gateway out
        of rotation because one downstream service is down)."""
        checks = {}
        try:
            with self.uow as uow:
                uow.session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception:  # noqa: BLE001 - readiness reports, it does not fail
            checks["database"] = "unavailable"
        checks["object_store"] = "ok" if self.store.ping() else "unavailable"
        def probe(name):
            try:
                with eventlet.Timeout(3):
                    getattr(self, name).health()
                return name, "ok"
            except (Exception, eventlet.Timeout):  # noqa: BLE001
                return name, "unavailable"

        if request.args.get("deep") in ("1", "true"):
            checks.update(eventlet.GreenPool(len(SERVICES)).imap(probe, SERVICES))
        ready = all(v == "ok" for v in checks.values())
        return (200 if ready else 503), {"status": "ready" if ready else "not_ready",
                                         "checks": checks}

    # ---- API documentation ------------------------------------------------------------

    @api("GET", "/api/v1/openapi.json")
    def openapi(self, request):
        return apidoc.openapi_document()

    @api("GET", "/api/docs")
    def docs(self, request):
        return apidoc.docs_page()

    @api("GET", "/api/docs/assets/<path:asset>")
    def docs_asset(self, request, asset):
        return apidoc.docs_asset(asset)

    # ---- web client --------------------------------------------------------------------

    @api("GET", "/")
    def web_index(self, request):
        return webapp.asset("index.html")

    @api("GET", "/web/<path:asset>")
    def web_asset(self, request, asset):
        return webapp.asset(asset)

    # ---- auth and the current user ----------------------------------------------------

    @api("POST", "/api/v1/auth/register", doc=apidoc.REGISTER)
    def register(self, request):
        self.limits.hit("register", self.limits.client(request))
        return 201, handlers.register(json_body(request), self.uow, self.settings)

    @api("POST", "/api/v1/auth/login", doc=apidoc.LOGIN)
    def login(self, request):
        self.limits.hit("login_client", self.limits.client(request))
        body = json_body(request)
        login = body.get("login")
        if isinstance(login, str) and login.strip():  # counted for unknown logins too
            self.limits.hit("login_account", domain.normalise_login(login)[:254])
        return handlers.login(body, self.uow, self.settings, request.headers.get("User-Agent"))

    @api("POST", "/api/v1/auth/refresh", doc=apidoc.REFRESH)
    def refresh(self, request):
        return handlers.refresh(json_body(request), self.uow, self.settings)

    @api("POST", "/api/v1/auth/logout", doc=apidoc.LOGOUT)
    def logout(self, request):
        handlers.logout(self._actor(request), self.uow)
        return 204, None

    @api("GET", "/api/v1/me", doc=apidoc.ME)
    def me(self, request):
        actor = self._actor(request)
        if actor["role"] == "system":
            return {"id": actor["id"], "role": "system", "name": actor["name"],
                    "scopes": actor["scopes"]}
        return handlers.me(actor, self.uow)

    @api("PATCH", "/api/v1/me", doc=apidoc.ME_PATCH)
    def update_me(self, request):
        return handlers.update_me(self._actor(request), json_body(request), self.uow)

    @api("POST", "/api/v1/me/password", doc=apidoc.ME_PASSWORD)
    def change_password(self, request):
        handlers.change_password(self._actor(request), json_body(request), self.uow)
        return 204, None

    # ---- tickets ----------------------------------------------------------------------

    @api("GET", "/api/v1/products", doc=apidoc.PRODUCTS)
    def products(self, request):
        self._actor(request)
        return {"items": call(self.intake, "list_products", False)}

    @api("POST", "/api/v1/tickets", doc=apidoc.TICKET_CREATE)
    def create_ticket(self, request):
        actor = self._actor(request, scope="tickets:create")  # service tokens: that scope
        self.limits.hit("ticket_create", actor["id"])
        body = tokens.on_behalf(actor, json_body(request), self.uow)
        # every create carries a key: with the client's Idempotency-Key its retries are safe,
        # and with ours a redelivered RPC (intake died before replying) cannot duplicate it
        key = request.headers.get("Idempotency-Key")
        body["request_key"] = key[:80] if key else "gw-" + uuid.uuid4().hex
        return 201, call(self.intake, "create_ticket", actor, body)

    @api("GET", "/api/v1/tickets", doc=apidoc.TICKET_LIST)
    def list_tickets(self, request):
        actor = self._actor(request)
        query = query_dict(request, list_fields=("status", "type", "priority", "tag"))
        return call(self.intake, "list_tickets", actor, query)

    @api("GET", "/api/v1/tickets/<ticket_id>", doc=apidoc.TICKET_GET)
    def get_ticket(self, request, ticket_id):
        actor = self._actor(request)
        ticket = call(self.intake, "get_ticket", actor, ticket_id)
        # the one timeline also shows work-log entries, which the worklog service owns;
        # if it is down the ticket still shows, and says its work log is missing
        try:
            with eventlet.Timeout(5):
                entries = self.worklog.list_entries(actor, ticket["id"])["items"]
            ticket["worklogs"] = entries
        except (Exception, eventlet.Timeout):  # noqa: BLE001
            log.warning("worklog unavailable for ticket %s", ticket["id"])
            ticket["worklogs"], entries = None, []
        ticket["timeline"] = sorted(ticket["timeline"] + [
            {"at": e["started_at"], "kind": "worklog", "actor": e["handler"]["name"],
             "summary": e["title"], "minutes": e["minutes"], "on_site": e["on_site"]}
            for e in entries], key=lambda item: item["at"] or "")
        return ticket

    # ---- assignment (the dispatch service) ---------------------------------------------

    @api("POST", "/api/v1/tickets/<ticket_id>/assign", doc=apidoc.ASSIGN)
    def assign(self, request, ticket_id):
        return call(self.dispatch, "assign", self._actor(request), ticket_id, json_body(request))

    @api("POST", "/api/v1/tickets/<ticket_id>/reassign", doc=apidoc.REASSIGN)
    def reassign(self, request, ticket_id):
        return call(self.dispatch, "reassign", self._actor(request), ticket_id,
                    json_body(request))

    @api("POST", "/api/v1/tickets/<ticket_id>/unassign", doc=apidoc.UNASSIGN)
    def unassign(self, request, ticket_id):
        return call(self.dispatch, "unassign", self._actor(request), ticket_id,
                    json_body(request))

    @api("GET", "/api/v1/tickets/<ticket_id>/assignments", doc=apidoc.ASSIGNMENTS)
    def assignments(self, request, ticket_id):
        return call(self.dispatch, "assignment_history", self._actor(request), ticket_id)

    @api("POST", "/api/v1/tickets/<ticket_id>/offer", doc=apidoc.OFFER)
    def offer(self, request, ticket_id):
        return 201, call(self.dispatch, "offer", self._actor(request), ticket_id,
                         json_body(request, required=False))

    @api("GET", "/api/v1/offers", doc=apidoc.OFFERS)
    def offers(self, request):
        return {"items": call(self.dispatch, "list_offers", self._actor(request),
                              query_dict(request))}

    @api("POST", "/api/v1/offers/<offer_id>/accept", doc=apidoc.OFFER_ACCEPT)
    def accept_offer(self, request, offer_id):
        return call(self.dispatch, "accept_offer", self._actor(request), offer_id,
                    json_body(request, required=False))

    @api("POST", "/api/v1/offers/<offer_id>/decline", doc=apidoc.OFFER_DECLINE)
    def decline_offer(self, request, offer_id):
        return call(self.dispatch, "decline_offer", self._actor(request), offer_id,
                    json_body(request, required=False))

    @api("GET", "/api/v1/admin/routing-rules", doc=apidoc.RULES)
    def list_rules(self, request):
        return {"items": call(self.dispatch, "list_rules", self._actor(request))}

    @api("POST", "/api/v1/admin/routing-rules", doc=apidoc.RULE_CREATE)
    def create_rule(self, request):
        return 201, call(self.dispatch, "create_rule", self._actor(request), json_body(request))

    @api("PATCH", "/api/v1/admin/routing-rules/<rule_id>", doc=apidoc.RULE_PATCH)
    def update_rule(self, request, rule_id):
        return call(self.dispatch, "update_rule", self._actor(request), rule_id,
                    json_body(request))

    @api("DELETE", "/api/v1/admin/routing-rules/<rule_id>", doc=apidoc.RULE_DELETE)
    def delete_rule(self, request, rule_id):
        return call(self.dispatch, "delete_rule", self._actor(request), rule_id)

    # ---- work logs (the worklog service) ----------------------------------------------

    @api("GET", "/api/v1/tickets/<ticket_id>/worklogs", doc=apidoc.WORKLOGS_LIST)
    def list_worklogs(self, request, ticket_id):
        return call(self.worklog, "list_entries", self._actor(request), ticket_id)

    @api("POST", "/api/v1/tickets/<ticket_id>/worklogs", doc=apidoc.WORKLOG_CREATE)
    def add_worklog(self, request, ticket_id):
        body = json_body(request)
        if request.headers.get("Idempotency-Key"):
            body["request_key"] = request.headers["Idempotency-Key"][:80]
        return 201, call(self.worklog, "add_entry", self._actor(request), ticket_id, body)

    @api("PATCH", "/api/v1/worklogs/<entry_id>", doc=apidoc.WORKLOG_PATCH)
    def update_worklog(self, request, entry_id):
        return call(self.worklog, "update_entry", self._actor(request), entry_id,
                    json_body(request))

    @api("DELETE", "/api/v1/worklogs/<entry_id>", doc=apidoc.WORKLOG_DELETE)
    def delete_worklog(self, request, entry_id):
        return call(self.worklog, "delete_entry", self._actor(request), entry_id)

    @api("GET", "/api/v1/worklogs/<entry_id>/history", doc=apidoc.WORKLOG_HISTORY)
    def worklog_history(self, request, entry_id):
        return call(self.worklog, "entry_history", self._actor(request), entry_id)

    @api("GET", "/api/v1/tickets/<ticket_id>/time", doc=apidoc.TICKET_TIME)
    def ticket_time(self, request, ticket_id):
        return call(self.worklog, "ticket_time", self._actor(request), ticket_id)

    @api("GET", "/api/v1/reports/engineer-time", doc=apidoc.ENGINEER_TIME)
    def engineer_time(self, request):
        return call(self.worklog, "engineer_time", self._actor(request), query_dict(request))

    @api("PATCH", "/api/v1/tickets/<ticket_id>", doc=apidoc.TICKET_PATCH)
    def update_ticket(self, request, ticket_id):
        return call(self.intake, "update_ticket", self._actor(request), ticket_id,
                    json_body(request))

    @api("POST", "/api/v1/tickets/<ticket_id>/comments", doc=apidoc.COMMENT_CREATE)
    def add_comment(self, request, ticket_id):
        actor = self._actor(request)
        self.limits.hit("comment", actor["id"])
        body = json_body(request)
        if request.headers.get("Idempotency-Key"):
            body["request_key"] = request.headers["Idempotency-Key"][:80]
        return 201, call(self.intake, "add_comment", actor, ticket_id, body)

    @api("POST", "/api/v1/tickets/<ticket_id>/<" + _ACTIONS_RULE + ":action>",
         doc=apidoc.ticket_actions(TICKET_ACTIONS))
    def ticket_action(self, request, ticket_id, action):
        actor = self._actor(request)
        body = self._leftover_owners(actor, action, json_body(request, required=False))
        return call(self.intake, "transition", actor, ticket_id, TICKET_ACTIONS[action], body)

    @api("POST", "/api/v1/tickets/<ticket_id>/rating", doc=apidoc.RATING)
    def rate(self, request, ticket_id):
        return 201, call(self.intake, "rate", self._actor(request), ticket_id, json_body(request))

    @api("GET", "/api/v1/follow-ups", doc=apidoc.FOLLOW_UPS)
    def follow_ups(self, request):
        return call(self.intake, "list_follow_ups", self._actor(request), query_dict(request))

    @api("POST", "/api/v1/follow-ups/<follow_up_id>/done", doc=apidoc.FOLLOW_UP_DONE)
    def follow_up_done(self, request, follow_up_id):
        return call(self.intake, "complete_follow_up", self._actor(request), follow_up_id,
                    json_body(request))

    @api("GET", "/api/v1/root-causes", doc=apidoc.ROOT_CAUSES)
    def root_causes(self, request):
        self._actor(request)
        return {"items": call(self.intake, "list_root_causes", False)}

    @api("PUT", "/api/v1/admin/root-causes/<code>", doc=apidoc.ROOT_CAUSE_PUT)
    def put_root_cause(self, request, code):
        body = json_body(request)
        body["code"] = code
        return call(self.intake, "put_root_cause", self._actor(request), body)

    @api("POST", "/api/v1/tickets/<ticket_id>/attachments", upload=True,
         doc=apidoc.ATTACHMENT_UPLOAD)
    def upload_attachment(self, request, ticket_id):
        actor = self._actor(request)
        self.limits.hit("upload", actor["id"])
        kind = request.args.get("kind", "intake")
        ticket = call(self.intake, "authorize_attachment", actor, ticket_id, kind)
        limit = self.settings["max_upload"] if kind == "intake" else self.settings["max_report"]
        record = uploads.store_upload(request, ticket["ticket_id"], self.store,
                                      self.settings["bucket"], limit,
                                      policy=self.settings["archive_policy"])
        record["internal"] = request.args.get("internal") in ("1", "true")
        record["kind"] = kind
        try:
            out = call(self.intake, "add_attachment", actor, ticket["ticket_id"], record)
        except Exception:
            self.store.delete(record["object_key"])  # no orphan object without a record
            raise
        for private in ("bucket", "object_key"):
            out.pop(private, None)
        return 201, out

    @api("GET", "/api/v1/tickets/<ticket_id>/attachments/<attachment_id>",
         doc=apidoc.ATTACHMENT_LINK)
    def attachment_link(self, request, ticket_id, attachment_id):
        att = call(self.intake, "get_attachment", self._actor(request), ticket_id, attachment_id)
        url = self.store.presigned_get(att["object_key"], att["filename"],
                                       self.settings["link_ttl"])
        if request.args.get("redirect") in ("1", "true"):
            return Response(status=302, headers={"Location": url})
        return {"url": url, "expires_in": self.settings["link_ttl"], "filename": att["filename"],
                "size": att["size"], "sha256": att["sha256"], "content_type": att["content_type"]}

    # ---- service providers and engineers (dispatch's registry) ----------------------

    @api("GET", "/api/v1/providers", doc=apidoc.PROVIDERS_LIST)
    def list_providers(self, request):
        return {"items": call(self.dispatch, "list_providers", self._actor(request))}

    @api("PUT", "/api/v1/providers/<provider_id>", doc=apidoc.PROVIDER_PUT)
    def put_provider(self, request, provider_id):
        actor = self._actor(request)
        body = json_body(request)
        handlers.check_provider_company(self.uow, provider_id)
        body["id"] = provider_id
        return call(self.dispatch, "upsert_provider", actor, body)

    @api("GET", "/api/v1/engineers", doc=apidoc.ENGINEERS_LIST)
    def list_engineers(self, request):
        return call(self.dispatch, "list_engineers", self._actor(request), query_dict(request))

    @api("PUT", "/api/v1/engineers/<engineer_id>", doc=apidoc.ENGINEER_PUT)
    def put_engineer(self, request, engineer_id):
        actor = self._actor(request)
        body = json_body(request)
        user = handlers.check_engineer_account(self.uow, engineer_id, body.get("provider_id"))
        body["id"] = engineer_id
        body.setdefault("name", user.name)
        return call(self.dispatch, "upsert_engineer", actor, body)

    @api("POST", "/api/v1/engineers/<engineer_id>/availability", doc=apidoc.AVAILABILITY)
    def set_availability(self, request, engineer_id):
        body = json_body(request)
        return call(self.dispatch, "set_availability", self._actor(request), engineer_id,
                    body.get("availability"))

    @api("GET", "/api/v1/engineers/<engineer_id>/certifications", doc=apidoc.CERTS_LIST)
    def list_certifications(self, request, engineer_id):
        return {"items": call(self.dispatch, "list_certifications", self._actor(request),
                              engineer_id)}

    @api("POST", "/api/v1/engineers/<engineer_id>/certifications", doc=apidoc.CERT_CREATE)
    def add_certification(self, request, engineer_id):
        return 201, call(self.dispatch, "add_certification", self._actor(request), engineer_id,
                         json_body(request))

    @api("GET", "/api/v1/qualified-engineers", doc=apidoc.QUALIFIED)
    def qualified_engineers(self, request):
        q = query_dict(request, list_fields=("skills",))
        return call(self.dispatch, "qualified_engineers", self._actor(request),
                    q.pop("product_line", None), q.pop("at", None), q.pop("provider_id", None),
                    q.pop("skills", None), q.pop("limit", None))

    # ---- administration ---------------------------------------------------------------

    @api("GET", "/api/v1/admin/users", doc=apidoc.USERS_LIST)
    def list_users(self, request):
        return handlers.list_users(self._actor(request), query_dict(request), self.uow)

    @api("POST", "/api/v1/admin/users/<user_id>/approve", doc=apidoc.USER_APPROVE)
    def approve_user(self, request, user_id):
        return handlers.approve_user(self._actor(request), user_id, json_body(request),
                                     self.uow)

    @api("POST", "/api/v1/admin/users/<user_id>/reject", doc=apidoc.USER_REJECT)
    def reject_user(self, request, user_id):
        return handlers.reject_user(self._actor(request), user_id,
                                    json_body(request, required=False), self.uow)

    @api("POST", "/api/v1/admin/users/<user_id>/unlock", doc=apidoc.USER_UNLOCK)
    def unlock_user(self, request, user_id):
        return handlers.unlock_user(self._actor(request), user_id, self.uow)

    @api("PATCH", "/api/v1/admin/users/<user_id>", doc=apidoc.USER_PATCH)
    def update_user(self, request, user_id):
        return handlers.update_user(self._actor(request), user_id, json_body(request), self.uow)

    @api("GET", "/api/v1/admin/companies", doc=apidoc.COMPANIES_LIST)
    def list_companies(self, request):
        return {"items": handlers.list_companies(self._actor(request), request.args.get("kind"),
                                                 self.uow)}

    @api("POST", "/api/v1/admin/companies", doc=apidoc.COMPANY_CREATE)
    def create_company(self, request):
        return 201, handlers.create_company(self._actor(request), json_body(request), self.uow)

    @api("PATCH", "/api/v1/admin/companies/<company_id>", doc=apidoc.COMPANY_PATCH)
    def update_company(self, request, company_id):
        return handlers.update_company(self._actor(request), company_id, json_body(request),
                                       self.uow)

    @api("GET", "/api/v1/admin/service-tokens", doc=apidoc.TOKENS_LIST)
    def list_service_tokens(self, request):
        return {"items": tokens.list_service_tokens(self._actor(request), self.uow)}

    @api("POST", "/api/v1/admin/service-tokens", doc=apidoc.TOKEN_CREATE)
    def create_service_token(self, request):
        return 201, tokens.create_service_token(self._actor(request), json_body(request),
                                                  self.uow)

    @api("PATCH", "/api/v1/admin/service-tokens/<token_id>", doc=apidoc.TOKEN_PATCH)
    def update_service_token(self, request, token_id):
        return tokens.update_service_token(self._actor(request), token_id, json_body(request),
                                           self.uow)

    @api("DELETE", "/api/v1/admin/service-tokens/<token_id>", doc=apidoc.TOKEN_REVOKE)
    def revoke_service_token(self, request, token_id):
        return tokens.revoke_service_token(self._actor(request), token_id, self.uow)

    @api("GET", "/api/v1/admin/products", doc=apidoc.ADMIN_PRODUCTS)
    def admin_products(self, request):
        handlers.require_role(self._actor(request), "admin", "agent")
        return {"items": call(self.intake, "list_products", True)}

    @api("POST", "/api/v1/admin/products", doc=apidoc.PRODUCT_CREATE)
    def create_product(self, request):
        return 201, call(self.intake, "create_product", self._actor(request), json_body(request))

    @api("PUT", "/api/v1/admin/products/<code>", doc=apidoc.PRODUCT_PUT)
    def put_product(self, request, code):
        body = json_body(request)
        body["code"] = code
        return call(self.intake, "update_product", self._actor(request), body)

    # ---- fallbacks --------------------------------------------------------------------

    @api("OPTIONS", "/<path:path>")
    def preflight(self, request, path):
        return Response(status=204)

    @api("GET,POST,PUT,PATCH,DELETE", "/<path:path>")
    def not_found(self, request, path):
        raise exc.ROUTE_NOT_FOUND(method=request.method, path="/" + path)

    # ---- RPC for other services -------------------------------------------------------

    @rpc
    def health(self):
        with self.uow as uow:
            uow.session.execute(text("SELECT 1"))
        return {"service": self.name, "status": "ok"}
