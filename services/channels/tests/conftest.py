"""Fixtures of channels' tests: a migrated database (SQLite and PostgreSQL through
services/conftest.py's `service_database`) and fakes of what lies outside the service:
intake (deciding visibility the way intake does: a customer sees their own tickets), the
gateway's user directory, the object store and the mail sender."""
import datetime as dt
import itertools

import pytest

from gongdan_common.db import Database
from gongdan_common.errors import ErrorSpec
from gongdan_common.storage import STORAGE_UNAVAILABLE
from gongdan_common.migrate import upgrade
from services.channels import handlers
from services.channels.dependencies import Unavailable
from services.channels.models import metadata

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
ZHANG = {"id": "u-zhang", "role": "customer", "name": "张三", "company_id": "c-1"}
LI = {"id": "u-li", "role": "customer", "name": "李四", "company_id": "c-2"}
ENGINEER = {"id": "u-eng", "role": "engineer", "name": "王工", "provider_id": "p-1"}
MAILBOX = {"id": "mb-1", "name": "support", "address": "support@gongdan.test",
           "protocol": "imap", "product": "AB-7", "ticket_type": "consult",
           "category": "consultation", "done_folder": None}

NOT_FOUND = ErrorSpec("ticket_not_found", 404, "Ticket not found.", "工单不存在。")
CLOSED = ErrorSpec("ticket_closed", 409, "closed", "已关闭")
REFUSED = ErrorSpec("transition_not_allowed", 409, "no", "不可")


class FakeIntake:
    def __init__(self):
        self.tickets, self.comments, self.attachments, self.creates = {}, [], [], []
        self.transitions, self.comment_keys = [], {}
        self.seq = itertools.count(1)
        self.away = False

    def _check(self):
        if self.away:
            raise Unavailable("intake is not running")

    def add_ticket(self, owner, status="in_progress"):
        n = next(self.seq)
        t = {"id": f"0b6c3f4e-1d2a-4a8b-9c0d-{n:012d}", "number": f"TS20261123{n:03d}",
             "submitter_id": owner["id"], "status": status, "title": "existing"}
        self.tickets[t["id"]] = t
        return t

    def _visible(self, actor, ticket_id):
        t = self.tickets.get(ticket_id)
        if t is None or (actor["role"] == "customer" and t["submitter_id"] != actor["id"]):
            raise NOT_FOUND()
        return t

    def create_ticket(self, actor, payload):
        self._check()
        for t in self.tickets.values():  # intake's request_key idempotency
            if t.get("request_key") == payload["request_key"]:
                return t
        self.creates.append((actor, payload))
        t = self.add_ticket(actor, "new")
        t.update(title=payload["title"], request_key=payload["request_key"], payload=payload)
        return t

    def get_ticket(self, actor, ticket_id):
        self._check()
        return dict(self._visible(actor, ticket_id))

    def list_tickets(self, actor, query):
        self._check()
        return {"items": [t for t in self.tickets.values() if t["number"] == query["number"]
                          and (actor["role"] != "customer" or t["submitter_id"] == actor["id"])]}

    def add_comment(self, actor, ticket_id, payload):
        self._check()
        t = self._visible(actor, ticket_id)
        key = payload.get("request_key")
        if key and key in self.comment_keys:  # intake's request_key idempotency
            return {"id": self.comment_keys[key]}
        if t["status"] in ("closed", "cancelled"):
            raise CLOSED()
        self.comments.append((actor["id"], ticket_id, payload["body"]))
        if key:
            self.comment_keys[key] = len(self.comments)
        return {"id": len(self.comments)}

    def transition(self, actor, ticket_id, action, payload):
        t = self._visible(actor, ticket_id)
        if action == "reopen" and t["status"] == "resolved" and actor["id"] == t["submitter_id"]:
            t["status"] = "in_progress"
            self.transitions.append((ticket_id, action, payload))
            return t
        raise REFUSED()

    def add_attachment(self, actor, ticket_id, record):
        self._visible(actor, ticket_id)
        self.attachments.append((ticket_id, record))
        return record


class FakeDirectory:
    def __init__(self):
        self.users = {"zhang@example.com": ZHANG, "li@example.com": LI,
                      "eng@example.com": ENGINEER}
        self.pending = {}  # address -> status of a registration that is not active
        self.registrations = []

    def register_mail_sender(self, address, name=None, language="zh"):
        """The gateway's: a pending account unless the address has one already."""
        if address in self.users or address in self.pending:
            return {"status": self.pending.get(address, "active"), "created": False}
        self.pending[address] = "pending"
        self.registrations.append((address, name))
        return {"status": "pending", "created": True}

    def mail_sender(self, address):
        actor = self.users.get(address)
        if actor is None:
            return {"status": self.pending.get(address, "unknown")}
        return {"status": "active", "actor": actor, "phone": "13800000000", "language": "zh"}


class FakeStore:
    def __init__(self):
        self.objects = {}
        self.down = False

    def put_stream(self, key, reader, length, content_type):
        if self.down:
            raise STORAGE_UNAVAILABLE()
        self.objects[key] = reader.read(length + 1)

    def get_bytes(self, key):
        return self.objects[key]

    def delete(self, key):
        self.objects.pop(key, None)


class FakeReplier:
    def __init__(self):
        self.sent = []

    def send(self, to, subject, text, in_reply_to, sender):
        self.sent.append({"to": to, "subject": subject, "text": text,
                          "in_reply_to": in_reply_to, "sender": sender})


@pytest.fixture
def database(service_database):
    url = service_database("channels")
    upgrade("channels", url)
    db = Database(url, metadata)
    yield db
    db.dispose()


@pytest.fixture
def deps(database):
    settings = handlers.settings_from_config({"CHANNELS": {"flood_per_minute": 3},
                                              "GATEWAY": {"max_upload_bytes": 60 * 1024 * 1024}})
    clock = {"now": NOW}
    settings["now"] = lambda: clock["now"]
    d = handlers.Deps(database.unit_of_work(), FakeIntake(), FakeDirectory(), FakeStore(),
                      FakeReplier(), settings)
    d.clock = clock
    return d


@pytest.fixture(scope="session")
def dovecot():
    """A real IMAP server (Debian's dovecot-imapd) on a free port, for this session."""
    from tests.support.dovecot import Dovecot, available
    if not available():
        pytest.fail("dovecot is not installed: apt-get install dovecot-imapd "
                    "(./gongdan test installs it)")
    with Dovecot({"support@gongdan.test": "secret-1",
                  "sales@gongdan.test": "secret-2"}) as server:
        yield server
