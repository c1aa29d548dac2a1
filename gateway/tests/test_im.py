"""IM bridges over a real SQLite unit of work with intake faked: the binding can't be
hijacked, an unconfirmed binding can do nothing, unbound users get instructions only, a
bound user's message becomes one intake call as that user, retries act once; signatures.
The same path over HTTP with the real services: tests/test_im.py."""
import time

import pytest

from gateway import auth, im
from gateway.ratelimit import RATE_LIMITED
from gateway.models import Company, ImMessage, User
from gateway.tests.test_guard_handlers import uow  # noqa: F401 - fixture
from gongdan_common import signing, vault
from gongdan_common.errors import AppError

from services.intake import exceptions as intake_exc


@pytest.fixture
def settings():
    return {"vault": vault.Vault(None, "k" * 40)}


class FakeIntake:
    def __init__(self):
        self.calls = []

    def __call__(self, method, actor, *args):
        self.calls.append((method, actor, args))
        if method == "create_ticket":
            return {"id": "t-1", "number": "TS20261206001", "title": args[0]["title"],
                    "status": "new"}
        if args[0] == "TS20261206999":
            raise intake_exc.TICKET_NOT_FOUND()
        return {"id": "c-1"}


def add_people(uow):
    now = auth.utcnow()
    with uow:
        uow.session.add(Company(id="co-1", name="示例科技", kind="customer", created_at=now))
        for uid, name, phone in (("u-1", "李雷", "13900000001"), ("u-2", "韩梅梅", "13900000002")):
            uow.session.add(User(id=uid, name=name, phone=phone, status="active",
                                 role="customer", company_id="co-1", password_hash="x",
                                 language="zh", created_at=now, updated_at=now))
        uow.commit()


ME = {"id": "u-1", "role": "customer"}
MALLORY = {"id": "u-2", "role": "customer"}


def msg(text, user="wx-lilei", mid=None, **extra):
    return dict({"message_id": mid or str(time.monotonic_ns()), "user_id": user,
                 "text": text}, **extra)


def test_binding_flow_is_safe_and_then_messages_act_as_the_user(uow, settings):
    add_people(uow)
    admin = {"id": "u-admin", "role": "admin"}
    bridge = im.put_bridge(admin, "wecom", {"default_product": "AS-8"}, uow, settings)
    assert bridge["secret"].startswith("imb_")
    intake = FakeIntake()

    def send(data):
        return im.receive("wecom", data, "AS-8", uow, intake, "TS")

    # unbound: instructions in both languages, nothing created
    out = send(msg("打印机坏了"))
    assert out["action"] == "unbound" and "偏好设置" in out["text"] and "Preferences" in \
        out["text"]
    assert intake.calls == []
    # Mallory claims Li Lei's IM id on the portal; her code is useless from her own IM
    # account, and Li Lei's account never sent it: the binding stays pending, powerless
    hijack = im.start_binding(MALLORY, {"channel": "wecom", "im_user_id": "wx-lilei"}, uow)
    assert hijack["status"] == "pending" and len(hijack["code"]) == 8
    assert send(msg(f"bind {hijack['code']}", user="wx-mallory"))["action"] == "bind_failed"
    assert send(msg("还是坏的"))["action"] == "unbound"
    # Li Lei starts his own and sends his code from his IM account: bound to him alone
    mine = im.start_binding(ME, {"channel": "wecom", "im_user_id": "wx-lilei"}, uow)
    out = send(msg(f"绑定 {mine['code'].lower()}"))
    assert out["action"] == "bound" and "李雷" in out["text"]
    assert [b["status"] for b in im.list_bindings(ME, uow)] == ["confirmed"]
    assert im.list_bindings(MALLORY, uow) == []  # the competing pending one is gone
    # a message opens a ticket as him; one naming a number replies to it
    out = send(msg("打印机卡纸\n型号 HP-1020", mid="m-1"))
    assert out["action"] == "ticket_created" and out["ticket"]["number"] == "TS20261206001"
    method, actor, (body,) = intake.calls[-1]
    assert (method, actor["id"], actor["role"], actor["company_id"]) == \
        ("create_ticket", "u-1", "customer", "co-1")
    assert body["title"] == "打印机卡纸" and body["product"] == "AS-8"
    assert body["contact_phone"] == "13900000001" and body["request_key"] == "im-wecom-m-1"
    assert out["text"].startswith("已创建工单 TS20261206001")  # his language
    # the bridge retries the same message: the first answer, no second ticket
    assert send(msg("打印机卡纸\n型号 HP-1020", mid="m-1"))["duplicate"] is True
    assert len(intake.calls) == 1
    out = send(msg("补充：换了硒鼓也不行 TS20261206001"))
    assert out["action"] == "replied" and intake.calls[-1][0] == "add_comment"
    assert intake.calls[-1][2] == ("TS20261206001", {"body": "补充：换了硒鼓也不行 TS20261206001"})
    send(msg("好的", reply_to="ts20261206001"))
    assert intake.calls[-1][2][0] == "TS20261206001"
    # intake refuses (not his ticket): the error passes through, and a retry may try again
    with pytest.raises(AppError) as err:
        send(msg("看看 TS20261206999", mid="m-9"))
    assert err.value.code == "ticket_not_found"
    with uow:
        assert uow.session.get(ImMessage, ("wecom", "m-9")) is None


def test_wrong_codes_end_pending_bindings_and_codes_expire(uow, settings):
    add_people(uow)
    im.put_bridge({"id": "a", "role": "admin"}, "feishu", {}, uow, settings)
    started = im.start_binding(ME, {"channel": "feishu", "im_user_id": "ou_1"}, uow)
    for _ in range(im.CODE_TRIES):
        assert im.try_bind("feishu", msg("bind WRONG123", user="ou_1"), uow)["action"] == \
            "bind_failed"
    # five wrong guesses: the pending binding is gone, the right code no longer works
    assert im.try_bind("feishu", msg(f"bind {started['code']}", user="ou_1"), uow)[
        "action"] == "bind_failed"
    assert im.list_bindings(ME, uow) == []
    again = im.start_binding(ME, {"channel": "feishu", "im_user_id": "ou_1"}, uow)
    with uow:
        from gateway.models import ImBinding
        row = uow.session.query(ImBinding).one()
        row.code_expires_at = auth.utcnow().replace(year=2020)
        uow.commit()
    assert im.try_bind("feishu", msg(f"bind {again['code']}", user="ou_1"), uow)[
        "action"] == "bind_failed"
    # not a bind command at all
    assert im.try_bind("feishu", msg("bind me to the moon", user="ou_1"), uow) is None


def test_bridges_and_bindings_bad_input(uow, settings):
    add_people(uow)
    with pytest.raises(AppError) as err:
        im.put_bridge(ME, "wecom", {}, uow, settings)
    assert err.value.status == 403
    with pytest.raises(AppError) as err:
        im.put_bridge({"id": "a", "role": "admin"}, "We Com!", {}, uow, settings)
    assert err.value.status == 400 and "channel" in err.value.details["fields"]
    with pytest.raises(AppError) as err:  # no such bridge
        im.start_binding(ME, {"channel": "dingtalk", "im_user_id": "x"}, uow)
    assert err.value.code == "channel_not_found"
    with pytest.raises(AppError) as err:
        im.start_binding({"id": "svc:1", "role": "system"}, {"channel": "x", "im_user_id": "y"},
                         uow)
    assert err.value.status == 403
    with pytest.raises(AppError) as err:
        im.delete_binding(ME, "nope", uow)
    assert err.value.status == 404
    rotated = im.put_bridge({"id": "a", "role": "admin"}, "wecom", {}, uow, settings)
    again = im.put_bridge({"id": "a", "role": "admin"}, "wecom", {"rotate_secret": True}, uow,
                          settings)
    assert again["secret"] != rotated["secret"]
    assert "secret" not in im.put_bridge({"id": "a", "role": "admin"}, "wecom",
                                         {"active": False}, uow, settings)
    with pytest.raises(AppError) as err:  # switched off: as if there were none
        im.bridge_secret("wecom", uow, settings)
    assert err.value.status == 404


def test_signature_checks():
    body = '{"text":"你好"}'.encode()
    now = int(time.time())
    good = signing.signature_header("s3cret", now, body)
    im.verify("s3cret", good, body, now)
    for header, code in ((None, "signature_invalid"), ("garbage", "signature_invalid"),
                         (signing.signature_header("other", now, body), "signature_invalid"),
                         (good.replace("v1=", "v1=0"), "signature_invalid"),
                         (signing.signature_header("s3cret", now - 301, body),
                          "signature_stale")):
        with pytest.raises(AppError) as err:
            im.verify("s3cret", header, body, now)
        assert (err.value.status, err.value.code) == (401, code)
    with pytest.raises(AppError):  # the body changed after signing
        im.verify("s3cret", good, body + b" ", now)


def test_the_portal_rate_limits_apply_to_im_users(uow, settings):
    add_people(uow)
    im.put_bridge({"id": "a", "role": "admin"}, "wecom", {}, uow, settings)
    code = im.start_binding(ME, {"channel": "wecom", "im_user_id": "wx-1"}, uow)["code"]
    im.try_bind("wecom", msg(f"bind {code}", user="wx-1"), uow)
    asked, intake = [], FakeIntake()

    def limit(name, actor):
        asked.append((name, actor["id"]))
        if name == "ticket_create":
            raise RATE_LIMITED(limit="30/minute", seconds=30)

    with pytest.raises(AppError) as err:
        im.receive("wecom", msg("刷屏", user="wx-1", mid="m-x"), "P", uow, intake, "TS", limit)
    assert err.value.status == 429 and intake.calls == []
    with uow:  # refused: not remembered, the bridge may retry it later
        assert uow.session.get(ImMessage, ("wecom", "m-x")) is None
    out = im.receive("wecom", msg("补充 TS20261206001", user="wx-1"), "P", uow, intake, "TS",
                     limit)
    assert out["action"] == "replied" and asked[-1] == ("comment", "u-1")


def test_bindable_channels_are_the_active_bridges_for_people_only(uow, settings):
    add_people(uow)
    admin = {"id": "a", "role": "admin"}
    assert im.bindable_channels(ME, uow) == []
    for channel in ("wecom", "feishu-hq", "dingtalk"):
        im.put_bridge(admin, channel, {}, uow, settings)
    im.put_bridge(admin, "dingtalk", {"active": False}, uow, settings)
    # only names: no default product, secret or dates of the bridges
    assert im.bindable_channels(ME, uow) == [{"channel": "feishu-hq"}, {"channel": "wecom"}]
    with pytest.raises(AppError) as err:  # a service token binds no IM account
        im.bindable_channels({"id": "svc:1", "role": "system"}, uow)
    assert err.value.status == 403
