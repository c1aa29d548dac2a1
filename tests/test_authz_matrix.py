"""The authorization matrix: every role x every GET endpoint that reads or lists
ticket-derived data, over the real system (tests/support/system.py).

A small world is built once per backend: two customer companies (A, B), two providers (P1,
P2) covering one product line, their admins and engineers, and four tickets —
  A  (customer A, assigned by the desk to P1's engineer, worked, resolved; a KB draft written
     from it by that engineer),
  A2 (customer A's colleague, new),
  B  (customer B, assigned to P2's engineer, worked, resolved; its writing suggestion open),
  O  (customer B, a repair ticket offered to P1, pending).
`VISIBLE` says which tickets each actor may see (gongdan_common.visibility's rule). Then:
- item endpoints of a ticket (and of its attachment, work-log entry, KB draft, draft file):
  the row's status when the actor may see it, 404 — never 403 — when they may not;
- list and report endpoints: the row's status, and no id, number or title of a ticket the
  actor may not see anywhere in the body (for a provider's staff, no id of the other
  provider or its engineers either); the ticket search returns exactly the visible ones;
- anonymous, an unapproved registration and a disabled account get nothing (401/403).
`test_every_get_route_is_in_the_matrix` fails when a GET route under /api/v1 is added to the
gateway without a row here (or a reason it serves no ticket-derived data).
"""
import datetime as dt
import re
import time
from dataclasses import dataclass, field

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from gateway.http import ApiHandler
from gateway.service import GatewayService
from tests.conftest import unique
from tests.support.system import Api

pytestmark = pytest.mark.integration

TICKETS = ("A", "A2", "B", "O")
ALL = set(TICKETS)
VISIBLE = {
    "agent": ALL, "admin": ALL, "system": ALL,
    "customer_a": {"A"}, "customer_a2": {"A2"}, "customer_b": {"B", "O"},
    "company_admin_a": {"A", "A2"}, "company_admin_b": {"B", "O"},
    "provider_admin_p1": {"A", "O"}, "provider_admin_p2": {"B"},
    "engineer_p1": {"A"}, "engineer_p1b": set(), "engineer_p2": {"B"},
    "anonymous": set(), "unapproved": set(), "disabled": set(),
}
ACTORS = tuple(VISIBLE)
# who may read the draft written from ticket A: the desk, the system, its author (P1's
# engineer on A) and the staff who may see A (P1's admin) — never a customer
DRAFT_READERS = {"agent", "admin", "system", "engineer_p1", "provider_admin_p1"}

KIND = {"agent": "desk", "admin": "desk", "system": "system",
        "customer_a": "customer", "customer_a2": "customer", "customer_b": "customer",
        "company_admin_a": "customer_admin", "company_admin_b": "customer_admin",
        "provider_admin_p1": "provider_admin", "provider_admin_p2": "provider_admin",
        "engineer_p1": "engineer", "engineer_p1b": "engineer", "engineer_p2": "engineer",
        "anonymous": "nobody", "unapproved": "nobody", "disabled": "disabled"}
PROVIDER_OF = {"provider_admin_p1": "P1", "engineer_p1": "P1", "engineer_p1b": "P1",
               "provider_admin_p2": "P2", "engineer_p2": "P2"}


def now(offset=0):
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset)).isoformat()


@dataclass
class World:
    api: dict
    tickets: dict                                 # key -> {id, number, title}
    attachment: dict = field(default_factory=dict)  # ticket key -> attachment id
    entry: dict = field(default_factory=dict)       # ticket key -> work-log entry id
    draft: str = ""                                 # article written from A
    public: str = ""                                # a public article linked to B
    draft_file: str = ""
    providers: dict = field(default_factory=dict)   # P1/P2 -> provider id
    engineers: dict = field(default_factory=dict)   # P1/P2 -> [engineer ids]
    tag: str = ""
    leftover: dict = field(default_factory=dict)    # ticket key -> leftover item id

    def markers(self, actor):
        """What must not appear in a body this actor receives."""
        out = []
        for key in ALL - VISIBLE[actor]:
            t = self.tickets[key]
            out += [t["id"], t["number"], t["title"]]
        if actor not in DRAFT_READERS:
            out.append(self.draft)
        own = PROVIDER_OF.get(actor)
        if own:
            other = "P2" if own == "P1" else "P1"
            out += [self.providers[other], *self.engineers[other]]
        return out


def _wait(check, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError("never happened: " + what)


def _ok(r, status=200):
    assert r.status_code == status, r.text
    return r.json()


@pytest.fixture(scope="module")
def world(system, admin, make_company, make_user, new_ticket):
    tag = unique("AUTHZ").upper()
    line = unique("authz-line-").lower()
    product = unique("AZ-")
    _ok(admin.post("/admin/products", {"code": product, "name": "授权矩阵设备",
                                       "product_line": line}), 201)
    co_a, co_b = make_company("customer"), make_company("customer")
    p1, p2 = make_company("provider"), make_company("provider")
    for p in (p1, p2):
        _ok(admin.put(f"/providers/{p['id']}", {"name": p["name"], "product_lines": [line]}))
    api = {"admin": admin, "agent": make_user("agent"),
           "customer_a": make_user(company=co_a), "customer_a2": make_user(company=co_a),
           "customer_b": make_user(company=co_b),
           "company_admin_a": make_user("customer_admin", company=co_a),
           "company_admin_b": make_user("customer_admin", company=co_b),
           "provider_admin_p1": make_user("provider_admin", company=p1),
           "provider_admin_p2": make_user("provider_admin", company=p2),
           "engineer_p1": make_user("engineer", company=p1),
           "engineer_p1b": make_user("engineer", company=p1),
           "engineer_p2": make_user("engineer", company=p2),
           "anonymous": Api(system.base_url)}
    for name, provider in (("engineer_p1", p1), ("engineer_p1b", p1), ("engineer_p2", p2)):
        uid = api[name].user["id"]
        _ok(admin.put(f"/engineers/{uid}", {"provider_id": provider["id"], "skills": [line]}))
        _ok(admin.post(f"/engineers/{uid}/certifications", {
            "product_line": line, "certificate_no": "AZ-" + uid[:8],
            "valid_from": (dt.date.today() - dt.timedelta(days=30)).isoformat(),
            "valid_until": (dt.date.today() + dt.timedelta(days=365)).isoformat()}), 201)
    token = _ok(admin.post("/admin/service-tokens", {"name": unique("authz-"),
                                                     "scopes": ["tickets:read"]}), 201)
    api["system"] = Api(system.base_url, token=token["token"])
    # an unapproved registration cannot log in; a disabled account's token stops working
    phone = "137" + unique("")[-8:]
    _ok(Api(system.base_url).post("/auth/register", {
        "name": unique("待审"), "phone": phone, "email": f"{phone}@example.test",
        "password": "secret-pass-1", "company_name": "nobody yet"}), 201)
    pending = Api(system.base_url).post("/auth/login", {"login": phone,
                                                        "password": "secret-pass-1"})
    assert pending.status_code in (401, 403), pending.text
    api["unapproved"] = Api(system.base_url)
    api["disabled"] = make_user(company=co_a)

    # SLA clocks for both companies' tickets (company-scoped: other tests are not touched)
    calendar = _ok(admin.post("/admin/sla/calendars", {
        "name": unique("authz-24x7-"), "tz": "Asia/Shanghai", "always_open": True}), 201)
    for co in (co_a, co_b):
        _ok(admin.post("/admin/sla/policies", {
            "name": unique("authz-"), "company_id": co["id"], "calendar_id": calendar["id"],
            "response_minutes": 600, "resolution_minutes": 6000}), 201)

    def ticket(who, key, **kw):
        t = new_ticket(api[who], product=product, title=f"{tag}-{key} 设备告警",
                       category="function", **kw)
        return {"id": t["id"], "number": t["number"], "title": t["title"],
                "created_at": t["created_at"]}

    tickets = {"A": ticket("customer_a", "A"), "A2": ticket("customer_a2", "A2"),
               "B": ticket("customer_b", "B"), "O": ticket("customer_b", "O", type="repair")}
    w = World(api=api, tickets=tickets, tag=tag,
              providers={"P1": p1["id"], "P2": p2["id"]},
              engineers={"P1": [api["engineer_p1"].user["id"], api["engineer_p1b"].user["id"]],
                         "P2": [api["engineer_p2"].user["id"]]})
    agent = api["agent"]
    _ok(agent.post(f"/tickets/{tickets['O']['id']}/offer", {"provider_id": p1["id"]}), 201)

    for key, eng, owner in (("A", "engineer_p1", "customer_a"),
                            ("B", "engineer_p2", "customer_b")):
        tid = tickets[key]["id"]
        w.attachment[key] = _ok(api[owner].post(
            f"/tickets/{tid}/attachments",
            files={"file": (f"{tag}-{key}.txt", b"log line\n" * 20)}), 201)["id"]
        _ok(agent.post(f"/tickets/{tid}/assign", {"engineer_id": api[eng].user["id"]}))
        _wait(lambda: api[eng].get(f"/tickets/{tid}").status_code == 200,
              f"{eng} sees ticket {key}")
        _ok(api[eng].post(f"/tickets/{tid}/start"))
        _ok(api[eng].post(f"/tickets/{tid}/comments", {"body": "内部：检查日志",
                                                      "internal": True}), 201)
        time.sleep(1.1)
        w.entry[key] = _ok(api[eng].post(f"/tickets/{tid}/worklogs", {
            "started_at": tickets[key]["created_at"], "ended_at": now(), "title": "远程诊断",
            "description": "查看日志"}), 201)["id"]
        _ok(api[eng].post(f"/tickets/{tid}/resolve", {
            "root_cause": "configuration", "description": f"{tag} 调整配置",
            "completed_at": now(), "leftover_items": [{
                "description": f"{tag}-{key} 遗留", "plan": "下个版本修复",
                "owner_id": api[eng].user["id"],
                "due_date": (dt.date.today() + dt.timedelta(days=30)).isoformat()}]}))
        w.leftover[key] = _ok(agent.get(f"/tickets/{tid}"))["leftover_items"][0]["id"]
    _wait(lambda: api["provider_admin_p1"].get(
        f"/tickets/{tickets['O']['id']}").status_code == 200, "P1 sees the offered ticket")
    for key in TICKETS:
        _wait(lambda: agent.get(f"/tickets/{tickets[key]['id']}/sla").status_code == 200,
              f"sla clocks of {key}")

    def suggested(key):
        items = agent.get("/kb/writing-suggestions", params={"page_size": 50}).json()["items"]
        return any(i["ticket_id"] == tickets[key]["id"] for i in items)
    _wait(lambda: suggested("A") and suggested("B"), "writing suggestions of A and B")
    draft = _ok(api["engineer_p1"].post(f"/tickets/{tickets['A']['id']}/kb", {}), 201)
    w.draft = draft["id"]
    w.draft_file = _ok(api["engineer_p1"].post(
        f"/kb/articles/{w.draft}/files", params={"filename": "trace.txt"},
        data=b"trace\n" * 10, headers={"Content-Type": "text/plain"}), 201)["id"]

    # a public, published article the desk linked to ticket B: everyone reads it, and only
    # those who may see B are shown the link
    public = _ok(agent.post("/kb/articles", {"title": f"{tag} 公开说明", "body": "重启服务即可。",
                                             "visibility": "public"}), 201)
    _ok(agent.post(f"/kb/articles/{public['id']}/publish"))
    _ok(agent.post(f"/tickets/{tickets['B']['id']}/kb/links", {"article_id": public["id"]}))
    # A related to B and parent of A2: a reader of A or A2 is shown only the ends they may open
    _ok(agent.post(f"/tickets/{tickets['A']['id']}/links", {"other": tickets["B"]["id"]}), 201)
    _ok(agent.post(f"/tickets/{tickets['A2']['id']}/links", {"other": tickets["A"]["id"],
                                                             "kind": "parent"}), 201)
    w.public = public["id"]

    def report_has_both():
        body = agent.get("/reports/sla", params={"group_by": "provider"}).text
        return p1["id"] in body and p2["id"] in body
    _wait(report_has_both, "both providers in the desk's SLA report")

    _ok(admin.patch(f"/admin/users/{api['disabled'].user['id']}", {"status": "disabled"}))
    return w


# ---- the rows ---------------------------------------------------------------------------

NOBODY = {"nobody": 401, "disabled": (401, 403)}


@dataclass
class Row:
    route: str                 # the gateway's rule, as in its route table
    path: object               # (world, ticket key) -> path, or world -> path for lists
    visible: dict              # role kind -> status when the actor may see the data
    tickets: tuple = TICKETS   # item rows: the tickets tried
    readers: object = None     # item rows: who may see it (default: VISIBLE)
    params: dict = None

    @property
    def is_item(self):
        return "<" in self.route


STAFF_200 = {"desk": 200, "system": 200, "provider_admin": 200, "engineer": 200,
             "customer": 403, "customer_admin": 403}
ALL_200 = {k: 200 for k in ("desk", "system", "provider_admin", "engineer", "customer",
                            "customer_admin")}
PEOPLE_200 = dict(ALL_200, system=403)  # per-person data: a service token has none
DESK_ONLY = {"desk": 200, "system": 403, "provider_admin": 403, "engineer": 403,
             "customer": 403, "customer_admin": 403}
ADMIN_ONLY = dict(DESK_ONLY, agent=403)  # the delivery log and webhooks: not the agents'
# IM group robots: administrators, and company / provider admins for their own company
ROBOT_KEEPERS = dict(ADMIN_ONLY, provider_admin=200, customer_admin=200)


def draft_readers(_key):
    return DRAFT_READERS


def everyone(_key):
    return set(ACTORS)


ROWS = [
    Row("/api/v1/tickets/<ticket_id>", lambda w, k: f"/tickets/{w.tickets[k]['id']}", ALL_200),
    Row("/api/v1/tickets/<ticket_id>/assignments",
        lambda w, k: f"/tickets/{w.tickets[k]['id']}/assignments", STAFF_200),
    Row("/api/v1/tickets/<ticket_id>/attachments/<attachment_id>",
        lambda w, k: f"/tickets/{w.tickets[k]['id']}/attachments/{w.attachment[k]}", ALL_200,
        tickets=("A", "B")),
    Row("/api/v1/tickets/<ticket_id>/kb", lambda w, k: f"/tickets/{w.tickets[k]['id']}/kb",
        ALL_200),
    Row("/api/v1/tickets/<ticket_id>/sla", lambda w, k: f"/tickets/{w.tickets[k]['id']}/sla",
        ALL_200),
    Row("/api/v1/tickets/<ticket_id>/time", lambda w, k: f"/tickets/{w.tickets[k]['id']}/time",
        ALL_200),
    Row("/api/v1/tickets/<ticket_id>/worklogs",
        lambda w, k: f"/tickets/{w.tickets[k]['id']}/worklogs", ALL_200),
    Row("/api/v1/leftovers/<item_id>", lambda w, k: f"/leftovers/{w.leftover[k]}", ALL_200,
        tickets=("A", "B")),
    Row("/api/v1/tickets/<ticket_id>/links",
        lambda w, k: f"/tickets/{w.tickets[k]['id']}/links", ALL_200),
    Row("/api/v1/worklogs/<entry_id>/history", lambda w, k: f"/worklogs/{w.entry[k]}/history",
        ALL_200, tickets=("A", "B")),
    Row("/api/v1/kb/articles/<article_id>", lambda w, k: f"/kb/articles/{w.draft}",
        ALL_200, tickets=("A",), readers=draft_readers),
    Row("/api/v1/kb/articles/<article_id>/versions",
        lambda w, k: f"/kb/articles/{w.draft}/versions", ALL_200, tickets=("A",),
        readers=draft_readers),
    Row("/api/v1/kb/articles/<article_id>/versions/<int:version>",
        lambda w, k: f"/kb/articles/{w.draft}/versions/1", ALL_200, tickets=("A",),
        readers=draft_readers),
    Row("/api/v1/kb/articles/<article_id>", lambda w, k: f"/kb/articles/{w.public}",
        ALL_200, tickets=("B",), readers=everyone),
    Row("/api/v1/kb/files/<file_id>", lambda w, k: f"/kb/files/{w.draft_file}", ALL_200,
        tickets=("A",), readers=draft_readers),
    # lists and reports
    Row("/api/v1/tickets", lambda w: "/tickets", ALL_200,
        params={"keyword": None, "page_size": 100}),
    Row("/api/v1/offers", lambda w: "/offers", dict(STAFF_200, engineer=403)),
    Row("/api/v1/follow-ups", lambda w: "/follow-ups", DESK_ONLY),
    Row("/api/v1/leftovers", lambda w: "/leftovers", ALL_200, params={"page_size": 200}),
    Row("/api/v1/reports/sla", lambda w: "/reports/sla", dict(STAFF_200, system=403),
        params={"group_by": "provider"}),
    Row("/api/v1/reports/sla", lambda w: "/reports/sla", dict(STAFF_200, system=403),
        params={"group_by": "engineer"}),
    Row("/api/v1/reports/sla", lambda w: "/reports/sla", dict(STAFF_200, system=403),
        params={"group_by": "type"}),
    Row("/api/v1/reports/engineer-time", lambda w: "/reports/engineer-time",
        dict(STAFF_200, system=403),
        params={"from": now(-86400 * 2), "to": now(86400)}),
    # charts and satisfaction (issue 14): customer admins read their company's figures
    Row("/api/v1/reports/volume", lambda w: "/reports/volume", dict(ALL_200, customer=403)),
    Row("/api/v1/reports/backlog", lambda w: "/reports/backlog", dict(ALL_200, customer=403)),
    Row("/api/v1/reports/satisfaction", lambda w: "/reports/satisfaction",
        dict(ALL_200, customer=403), params={"group_by": "provider"}),
    Row("/api/v1/reports/satisfaction", lambda w: "/reports/satisfaction",
        dict(ALL_200, customer=403), params={"group_by": "engineer"}),
    Row("/api/v1/reports/sla-trend", lambda w: "/reports/sla-trend", dict(STAFF_200, system=403)),
    Row("/api/v1/reports/workload", lambda w: "/reports/workload", dict(STAFF_200, system=403)),
    Row("/api/v1/kb/writing-suggestions", lambda w: "/kb/writing-suggestions", STAFF_200,
        params={"status": "open", "page_size": 50}),
    Row("/api/v1/kb/writing-suggestions", lambda w: "/kb/writing-suggestions", STAFF_200,
        params={"status": "written", "page_size": 50}),
    Row("/api/v1/kb/articles", lambda w: "/kb/articles", ALL_200,
        params={"page_size": 50}),
    Row("/api/v1/kb/articles", lambda w: "/kb/articles", STAFF_200,
        params={"status": "draft", "page_size": 50}),
    Row("/api/v1/kb/search", lambda w: "/kb/search", STAFF_200,
        params={"q": None, "status": "draft"}),
    Row("/api/v1/kb/search", lambda w: "/kb/search", ALL_200, params={"q": None}),
    Row("/api/v1/kb/reports/deflection", lambda w: "/kb/reports/deflection", DESK_ONLY,
        params={"from": now(-86400 * 2), "to": now(86400)}),
    Row("/api/v1/notifications", lambda w: "/notifications", PEOPLE_200,
        params={"page_size": 50}),
    Row("/api/v1/notifications/unread-count", lambda w: "/notifications/unread-count",
        PEOPLE_200),
    Row("/api/v1/admin/deliveries", lambda w: "/admin/deliveries", ADMIN_ONLY),
    # mails taken in name their tickets: administrators only (channels checks the role)
    Row("/api/v1/admin/mails", lambda w: "/admin/mails", ADMIN_ONLY,
        params={"status": "all", "limit": 200}),
    Row("/api/v1/webhooks", lambda w: "/webhooks", dict(ADMIN_ONLY, system=200)),
    Row("/api/v1/robots", lambda w: "/robots", ROBOT_KEEPERS),
    # tags in use with counts, over the tickets the caller sees (staff: tags are internal)
    Row("/api/v1/tags", lambda w: "/tags", STAFF_200),
]

# GET routes under /api/v1 that serve no ticket-derived data, and why
NOT_TICKET_DERIVED = {
    "/api/v1/openapi.json": "the API description",
    "/api/v1/me": "the caller's own account",
    "/api/v1/me/preferences": "the caller's own notification settings",
    # an export's rows are read as the requester from the list's / reports' own visibility
    # (tests/test_exports.py checks a customer admin's file holds only their company's)
    "/api/v1/exports": "the caller's own export jobs",
    "/api/v1/exports/<job_id>": "the caller's own export job (anyone else: 404)",
    "/api/v1/exports/<job_id>/download": "the caller's own export file (anyone else: 404)",
    "/api/v1/products": "the product catalogue",
    "/api/v1/root-causes": "the root-cause catalogue",
    "/api/v1/leftovers/owners": "accounts the caller may name as a leftover item's owner",
    "/api/v1/admin/products": "the product catalogue (desk)",
    "/api/v1/admin/companies": "accounts: companies (admin)",
    "/api/v1/admin/users": "accounts: users (admin; a company admin their company's)",
    "/api/v1/admin/service-tokens": "accounts: service tokens (admin)",
    "/api/v1/admin/routing-rules": "dispatch configuration (desk)",
    "/api/v1/admin/sla/calendars": "sla configuration",
    "/api/v1/admin/sla/calendars/<calendar_id>": "sla configuration",
    "/api/v1/admin/sla/policies": "sla configuration",
    "/api/v1/admin/sla/policies/<policy_id>": "sla configuration",
    "/api/v1/admin/notification-rules": "notify configuration (admin)",
    "/api/v1/admin/notification-templates": "notify configuration (admin)",
    "/api/v1/admin/mailboxes": "channels configuration: support mailboxes (admin)",
    "/api/v1/admin/mails/<mail_id>": "admin only, like /admin/mails (a row)",
    "/api/v1/providers": "dispatch's provider registry (no ticket data)",
    "/api/v1/engineers": "dispatch's engineer registry (no ticket ids; open load as a count)",
    "/api/v1/engineers/<engineer_id>/certifications": "dispatch's registry",
    "/api/v1/qualified-engineers": "dispatch's registry",
    "/api/v1/kb/synonyms": "the search dictionary: vocabulary, no ticket or article data",
    "/api/v1/canned-replies": "staff's reply texts (no ticket data; scoped per person, desk, "
                              "provider: tests/test_canned.py)",
    # a server-sent event stream never ends, so a row cannot read it; it is authorised like
    # the ticket (404 for who may not open it): tests/test_canned.py
    "/api/v1/tickets/<ticket_id>/presence": "a live stream, checked in tests/test_canned.py",
    # ticket-derived but reachable only by roles that see every ticket (checked first,
    # before any id is looked up), with the list form in ROWS
    "/api/v1/admin/deliveries/<delivery_id>": "admin only, like /admin/deliveries (a row)",
    "/api/v1/webhooks/<webhook_id>": "admin and system only, like /webhooks (a row)",
    "/api/v1/webhooks/<webhook_id>/deliveries": "admin and system only (see /webhooks)",
    "/api/v1/webhooks/<webhook_id>/deliveries/<delivery_id>":
        "admin and system only (see /webhooks)",
    "/api/v1/robots/<robot_id>": "a company's own robots: the robot's company is checked "
                                  "before anything is read (services/notify/tests/"
                                  "test_robots.py); the list is a row",
    "/api/v1/robots/<robot_id>/deliveries": "as /robots/<robot_id>",
    "/api/v1/admin/im-bridges": "IM bridge configuration (admin)",
    "/api/v1/me/im-bindings": "the caller's own IM bindings",
    "/api/v1/me/im-channels": "which IM platforms are active (channel and platform names, no "
                              "secrets, no ticket data)",
    "/api/v1/me/list-settings": "the caller's own ticket-list columns",
    "/api/v1/views": "saved filters, not results: using one is a /tickets request (a row)",
    "/api/v1/notifications/stream": "the caller's own inbox as server-sent events: the "
                                    "same items as /notifications (a row)",
}


def expected_status(row, actor, visible=True):
    kind = KIND[actor]
    if kind in ("nobody", "disabled"):
        return NOBODY[kind]
    if actor in row.visible:  # a refinement for one actor of a kind
        return row.visible[actor]
    if not visible:
        return 404
    return row.visible[kind]


def _status_ok(got, want):
    return got in want if isinstance(want, tuple) else got == want


def _leaks(body, markers):
    return [m for m in markers if m and re.search(re.escape(m) + r"(?![0-9])", body)]


def _params(row, w):
    out = dict(row.params or {})
    for k in ("keyword", "q"):
        if k in out and out[k] is None:
            out[k] = w.tag
    return out


def _row_id(row):
    extra = ",".join(f"{k}={v}" for k, v in (row.params or {}).items()
                     if k in ("group_by", "status"))
    return row.route.replace("/api/v1", "") + (f"?{extra}" if extra else "")


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_matrix(system, world, row):
    """Every actor against one endpoint; all failures of the row reported together."""
    w, problems, checks = world, [], 0
    for actor in ACTORS:
        api = w.api[actor]
        markers = w.markers(actor)
        targets = row.tickets if row.is_item else (None,)
        for key in targets:
            if row.is_item:
                readers = row.readers(key) if row.readers else {
                    a for a in ACTORS if key in VISIBLE[a]}
                want = expected_status(row, actor, actor in readers)
                r = api.get(row.path(w, key), params=_params(row, w))
            else:
                want = expected_status(row, actor)
                r = api.get(row.path(w), params=_params(row, w))
            checks += 1
            where = f"{actor} GET {r.request.path_url}"
            if not _status_ok(r.status_code, want):
                problems.append(f"{where}: {r.status_code}, expected {want}: {r.text[:200]}")
            # an id the caller sent may come back in a 404's message: that tells nothing
            leaked = _leaks(r.text, [m for m in markers if m not in r.request.path_url])
            if leaked:
                problems.append(f"{where}: leaks {leaked}")
    assert not problems, f"{len(problems)} of {checks} checks failed:\n" + "\n".join(problems)


@pytest.mark.parametrize("actor", [a for a in ACTORS if KIND[a] not in ("nobody", "disabled")])
def test_ticket_search_lists_exactly_the_visible_tickets(system, world, actor):
    body = _ok(world.api[actor].get("/tickets", params={"keyword": world.tag,
                                                        "page_size": 100}))
    got = {k for k, t in world.tickets.items() if t["id"] in {i["id"] for i in body["items"]}}
    assert got == VISIBLE[actor]
    assert body["total"] == len(VISIBLE[actor])


def test_the_world_is_not_vacuous(system, world):
    """The leak checks mean something only if the data is there for those who may see it."""
    desk = world.api["agent"]
    by_provider = desk.get("/reports/sla", params={"group_by": "provider"}).text
    assert world.providers["P1"] in by_provider and world.providers["P2"] in by_provider
    by_engineer = desk.get("/reports/sla", params={"group_by": "engineer"}).text
    assert world.engineers["P1"][0] in by_engineer and world.engineers["P2"][0] in by_engineer
    p2 = world.api["provider_admin_p2"].get("/kb/writing-suggestions",
                                            params={"page_size": 50}).json()
    assert world.tickets["B"]["id"] in [i["ticket_id"] for i in p2["items"]]
    drafts = world.api["provider_admin_p1"].get("/kb/articles", params={
        "status": "draft", "page_size": 50}).json()
    assert world.draft in [a["id"] for a in drafts["items"]]
    assert world.api["engineer_p1"].get("/kb/search", params={
        "q": world.tag, "status": "draft"}).json()["total"] >= 1
    linked = world.api["engineer_p2"].get(f"/kb/articles/{world.public}").json()
    assert world.tickets["B"]["id"] in [t["ticket_id"] for t in linked["tickets"]]


def _get_routes():
    out = set()
    for name in dir(GatewayService):
        for ext in getattr(getattr(GatewayService, name), ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(ext, ApiHandler) and "GET" in ext.method.split(","):
                out.add(ext.url)
    return {u for u in out if u.startswith("/api/v1/")}


def test_every_get_route_is_in_the_matrix():
    """A new GET route under /api/v1 needs a row in ROWS or a reason in NOT_TICKET_DERIVED."""
    routes = _get_routes()
    covered = {row.route for row in ROWS}
    missing = routes - covered - set(NOT_TICKET_DERIVED)
    assert not missing, f"GET routes missing from the authorization matrix: {sorted(missing)}"
    stale = (covered | set(NOT_TICKET_DERIVED)) - routes
    assert not stale, f"matrix rows for routes the gateway does not serve: {sorted(stale)}"
    assert "/api/v1/tickets/<ticket_id>" in routes  # the route table was really read


# ---- writes: no existence oracle --------------------------------------------------------

MISSING = "00000000-0000-4000-8000-000000000000"


def _writes(w):
    """(label, method, path template with {t}, body, kwargs) of every ticket-scoped write."""
    e1 = w.api["engineer_p1"].user["id"]
    log = {"started_at": now(-3600), "ended_at": now(-60), "title": "x", "description": "y"}
    out = [("assign", "POST", "/tickets/{t}/assign", {"engineer_id": e1}),
           ("reassign", "POST", "/tickets/{t}/reassign", {"engineer_id": e1, "reason": "x"}),
           ("unassign", "POST", "/tickets/{t}/unassign", {"reason": "x"}),
           ("offer", "POST", "/tickets/{t}/offer", {"provider_id": w.providers["P1"]}),
           ("worklog", "POST", "/tickets/{t}/worklogs", log),
           ("comment", "POST", "/tickets/{t}/comments", {"body": "x"}),
           ("note", "POST", "/tickets/{t}/comments", {"body": "x", "internal": True}),
           ("patch", "PATCH", "/tickets/{t}", {"title": "changed"}),
           ("rating", "POST", "/tickets/{t}/rating", {"product_score": 1, "service_score": 1}),
           ("kb-from-ticket", "POST", "/tickets/{t}/kb", {}),
           ("kb-link", "POST", "/tickets/{t}/kb/links", {"article_id": w.public}),
           ("tags", "POST", "/tickets/{t}/tags", {"tags": ["x"]}),
           ("leftovers-add", "POST", "/tickets/{t}/leftovers", {"items": [{
               "description": "x", "plan": "y", "owner_id": e1,
               "due_date": (dt.date.today() + dt.timedelta(days=3)).isoformat()}]}),
           ("merge", "POST", "/tickets/{t}/merge", {"into": MISSING}),
           ("link", "POST", "/tickets/{t}/links", {"other": MISSING}),
           ("unlink", "DELETE", "/tickets/{t}/links/" + MISSING, None),
           ("presence", "POST", "/tickets/{t}/presence", {"replying": True})]
    out += [(a, "POST", "/tickets/{t}/" + a, {"reason": "x"})
            for a in ("start", "cancel", "request-info", "provide-info", "resume", "confirm",
                      "reopen", "close")]
    out += [("suspend", "POST", "/tickets/{t}/suspend", {"reason": "x",
                                                          "planned_end": now(3600)}),
            ("resolve", "POST", "/tickets/{t}/resolve", {
                "root_cause": "configuration", "description": "x", "completed_at": now(-60)})]
    return out


def _shape(r):
    try:
        code = r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    return r.status_code, code


@pytest.mark.parametrize("actor", [a for a in ACTORS
                                   if KIND[a] not in ("nobody", "disabled", "desk", "system")])
def test_writes_to_an_invisible_ticket_answer_as_for_a_missing_one(system, world, actor):
    """Every ticket-scoped write, by someone who may not see the ticket, answers exactly what
    the same request answers for an id that does not exist: 404, same code — never a 403 whose
    reason (the ticket's type, who holds it, its status) would tell it exists. Runs last: the
    requests change nothing (they are refused), but should one pass, it must not spoil the
    other rows."""
    w, api, problems = world, world.api[actor], []
    e1 = w.api["engineer_p1"].user["id"]
    for key in sorted(ALL - VISIBLE[actor]):
        tid = w.tickets[key]["id"]
        for label, method, path, body in _writes(w):
            missing = _shape(api.request(method, path.format(t=MISSING), json=body))
            got = _shape(api.request(method, path.format(t=tid), json=body))
            if got != missing or got[0] != 404:
                problems.append(f"{actor} {label} on {key}: {got}, for a missing id {missing}")
        up = api.post(f"/tickets/{tid}/attachments", files={"file": ("a.txt", b"x\n")})
        if _shape(up)[0] != 404:
            problems.append(f"{actor} upload on {key}: {_shape(up)}")
        if key in w.entry:
            for method, body in (("PATCH", {"title": "x"}), ("DELETE", None)):
                got = _shape(api.request(method, f"/worklogs/{w.entry[key]}", json=body))
                missing = _shape(api.request(method, f"/worklogs/{MISSING}", json=body))
                if got != missing or got[0] != 404:
                    problems.append(f"{actor} {method} work log of {key}: {got} vs {missing}")
        if key in w.leftover:
            for verb, body in (("updates", {"note": "x", "owner_id": e1}), ("done", {}),
                               ("cancel", {"note": "x"})):
                got = _shape(api.post(f"/leftovers/{w.leftover[key]}/{verb}", body))
                missing = _shape(api.post(f"/leftovers/{MISSING}/{verb}", body))
                if got != missing or got[0] != 404:
                    problems.append(f"{actor} leftover {verb} of {key}: {got} vs {missing}")
    offers = w.api["agent"].get("/offers", params={"ticket_id": w.tickets["O"]["id"]}).json()
    if "O" not in VISIBLE[actor] or KIND[actor] != "provider_admin":
        for offer in offers["items"]:
            for verb in ("accept", "decline"):
                got = _shape(api.post(f"/offers/{offer['id']}/{verb}", {}))
                missing = _shape(api.post(f"/offers/{MISSING}/{verb}", {}))
                if got != missing or got[0] != 404:
                    problems.append(f"{actor} {verb} offer of O: {got} vs {missing}")
    assert not problems, "\n".join(problems)
