"""Gateway rules and helpers without a broker: lockout, masking, tokens, file checks."""
import datetime as dt
import io
import types

import pytest

from gateway import auth, domain
from gateway import exceptions as exc
from gongdan_common import filetypes, vault
from gongdan_common.storage import HashingReader
from gongdan_common.errors import AppError, ErrorSpec, validation_error
from gongdan_common.i18n import pick_language, translate

NOW = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.timezone.utc)


def user(**over):
    u = types.SimpleNamespace(status="active", failed_logins=0, locked_until=None)
    u.__dict__.update(over)
    return u


def test_lockout_after_threshold_then_expires():
    u = user()
    assert [domain.register_failure(u, NOW, 3, 15) for _ in range(3)] == [False, False, True]
    assert domain.login_state(u, NOW) == "locked"
    assert domain.minutes_left(u.locked_until, NOW) == 15
    later = NOW + dt.timedelta(minutes=16)
    assert domain.login_state(u, later) is None
    assert domain.register_failure(u, later, 3, 15) is False and u.failed_logins == 1


@pytest.mark.parametrize("status,state", [("pending", "pending"), ("rejected", "rejected"),
                                          ("disabled", "disabled"), ("active", None)])
def test_login_state(status, state):
    assert domain.login_state(user(status=status), NOW) == state


def test_masking():
    assert domain.mask_phone("13812345678") == "138****5678"
    assert domain.mask_email("zhang.san@example.com") == "z***@example.com"
    assert domain.mask_national_id("1234") == "**************1234"
    assert domain.mask_national_id(None) is None
    assert domain.normalise_login(" 138-1234 5678 ") == "13812345678"
    assert domain.normalise_login("A@B.CN") == "a@b.cn"


def test_tokens_expire_and_resist_forgery():
    codec = auth.TokenCodec("k" * 40, access_ttl=60)
    token = codec.issue_access("u1", "s1", dt.datetime.now(dt.timezone.utc))
    assert codec.decode_access(token)["sub"] == "u1"
    old = codec.issue_access("u1", "s1", dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    with pytest.raises(AppError) as err:
        codec.decode_access(old)
    assert err.value.code == "token_expired"
    with pytest.raises(AppError) as err:
        auth.TokenCodec("x" * 40, 60).decode_access(token)
    assert err.value.code == "token_invalid"
    with pytest.raises(ValueError):
        auth.TokenCodec("short", 60)


def test_passwords_and_identity_vault():
    h = auth.hash_password("correct horse")
    assert h.startswith("$argon2id$")
    assert auth.verify_password(h, "correct horse") and not auth.verify_password(h, "wrong")
    box = vault.Vault(None, "s" * 40)
    sealed = box.seal("110101199003071234")
    assert "1101" not in sealed and box.open(sealed) == "110101199003071234"
    # each purpose its own derived key; GATEWAY.data_key, when set, is the key itself
    other = vault.Vault(None, "s" * 40, purpose="mailbox-password")
    with pytest.raises(vault.InvalidToken):
        other.open(sealed)
    key = "x" * 43 + "="
    assert vault.Vault(key, "s" * 40).open(vault.Vault(key, "t" * 40, "other").seal("v")) == "v"


@pytest.mark.parametrize("name,head,ok", [
    ("a.png", b"\x89PNG\r\n\x1a\nrest", True),
    ("a.PNG", b"\x89PNG\r\n\x1a\nrest", True),
    ("a.png", b"MZ\x90\x00", False),
    ("a.jpg", b"\xff\xd8\xff\xe0", True),
    ("a.docx", b"PK\x03\x04", True),
    ("a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", True),
    ("a.mp4", b"\x00\x00\x00\x18ftypmp42", True),
    ("a.7z", b"7z\xbc\xaf\x27\x1c", True),
    ("a.rar", b"Rar!\x1a\x07\x00", True),
    ("a.log", "日志 错误".encode("gb18030"), True),
    ("a.txt", "中文".encode("utf-8")[:-1], True),   # a character cut at the head's end
    ("a.txt", b"\x00\x00", False),
    ("a.exe", b"MZ", False),
    ("a", b"hello", False),
    ("a.html", b"<html>", False),
])
def test_file_type_by_content(name, head, ok):
    if ok:
        assert filetypes.check(name, head)
    else:
        with pytest.raises(filetypes.Refused):
            filetypes.check(name, head)


def test_safe_filename_keeps_chinese_and_drops_paths():
    assert filetypes.safe_filename("../../etc/passwd") == "passwd"
    assert filetypes.safe_filename("C:\\temp\\截图 1.png") == "截图 1.png"
    assert filetypes.safe_filename('a"<>|.png') == "a.png"
    assert filetypes.safe_filename("") == "file"


def test_hashing_reader_replays_head_counts_and_limits():
    data = b"0123456789" * 100
    stream = io.BytesIO(data)
    head = stream.read(8)
    reader = HashingReader(stream, head=head, limit=2000)
    out = b"".join(iter(lambda: reader.read(64), b""))
    assert out == data and reader.size == len(data)
    import hashlib
    assert reader.sha256.hexdigest() == hashlib.sha256(data).hexdigest()
    small = HashingReader(io.BytesIO(data), limit=100)
    with pytest.raises(ValueError):
        small.read(-1)


def test_language_negotiation_and_translation():
    assert pick_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert pick_language("en-US,en;q=0.9,zh;q=0.5") == "en"
    assert pick_language("fr-FR") == "en" and pick_language(None) == "en"
    assert translate("Length must be between 1 and 200.") == "长度必须在 1 到 200 之间。"


def test_error_renders_in_both_languages():
    spec = ErrorSpec("x", 409, "Cannot {what}.", "不能{what}。")
    err = spec(what="go")
    assert err.render("zh") == {"error": {"code": "x", "message": "不能go。", "details": {}}}
    from marshmallow import ValidationError
    v = validation_error(ValidationError({"title": ["Missing data for required field."],
                                          "env": {"os": ["Unknown field."]}}))
    assert v.render("zh")["error"]["details"]["fields"] == {
        "title": ["缺少必填字段。"], "env": {"os": ["未知字段。"]}}
    assert v.render("en")["error"]["details"]["fields"]["title"] == [
        "Missing data for required field."]


def test_actor_cache_expires_forgets_and_never_keeps_a_stale_look_up():
    now = [100.0]
    cache = auth.ActorCache(5, max_entries=3, clock=lambda: now[0])
    zhang = {"id": "u1", "role": "customer", "name": "张三", "scopes": ["a"]}
    gen = cache.generation
    cache.put(("session", "s1", "u1"), zhang, gen)
    got = cache.get(("session", "s1", "u1"))
    assert got == zhang
    got["scopes"].append("b")  # a caller changing its copy changes nothing kept
    assert cache.get(("session", "s1", "u1"))["scopes"] == ["a"]
    now[0] += 5.0
    assert cache.get(("session", "s1", "u1")) is None  # the bound: ttl seconds
    # a look-up that started before a revocation is not kept
    gen = cache.generation
    auth.forget_actors("someone-else")
    cache.put(("session", "s1", "u1"), zhang, gen)
    assert cache.get(("session", "s1", "u1")) is None
    # forget drops that user's entries (every session) and nobody else's
    gen = cache.generation
    cache.put(("session", "s1", "u1"), zhang, gen)
    cache.put(("session", "s2", "u1"), zhang, gen)
    cache.put(("session", "s3", "u2"), dict(zhang, id="u2"), gen)
    auth.forget_actors("u1")
    assert [cache.get(("session", s, u)) is None for s, u in
            (("s1", "u1"), ("s2", "u1"), ("s3", "u2"))] == [True, True, False]
    auth.forget_actors(everything=True)
    assert cache.get(("session", "s3", "u2")) is None
    # bounded: never more than max_entries
    gen = cache.generation
    for n in range(10):
        cache.put(("session", f"x{n}", "u"), zhang, gen)
        assert len(cache._entries) <= 3
    off = auth.ActorCache(0)
    off.put(("session", "s", "u"), zhang, off.generation)
    assert off.get(("session", "s", "u")) is None


def test_digits_other_than_ascii_are_refused_not_a_500():
    # "²".isdigit() and "١".isdigit() are true, int() refuses both (schemathesis found it)
    from gateway.domain import national_id_problem
    from gateway.routes.kb import _group_id
    assert national_id_problem("١" * 15) == "format"
    assert national_id_problem("²" * 17 + "X") == "format"
    assert national_id_problem("11010519491231002X") is None
    assert _group_id("²") == -1 and _group_id("١٢") == -1 and _group_id("12") == 12


def test_actor_cache_one_look_up_for_requests_that_miss_together():
    """Requests that miss while a look-up of their key is under way wait for it: one
    database look-up, each its own copy. After a forget during the look-up the waiters ask
    again themselves; a refused look-up is not shared."""
    import eventlet

    cache = auth.ActorCache(5)
    zhang = {"id": "u1", "role": "customer", "name": "张三", "scopes": ["a"]}
    calls = []

    def look_up(forget=False, refuse=False):
        calls.append(1)
        eventlet.sleep(0.01)
        if forget and len(calls) == 1:
            auth.forget_actors("u1")
        if refuse:
            raise exc.TOKEN_INVALID()
        return dict(zhang, scopes=list(zhang["scopes"]))

    def fetch(key, **kw):
        return cache.fetch(key, lambda: look_up(**kw))

    pool = eventlet.GreenPool()
    got = list(pool.imap(lambda _: fetch(("session", "s1", "u1")), range(10)))
    assert len(calls) == 1 and all(a == zhang for a in got)
    assert len({id(a) for a in got}) == 10 and len({id(a["scopes"]) for a in got}) == 10
    assert fetch(("session", "s1", "u1")) == zhang and len(calls) == 1  # kept

    calls.clear()
    got = list(pool.imap(lambda _: fetch(("session", "s2", "u1"), forget=True), range(4)))
    assert len(calls) == 2 and all(a == zhang for a in got)  # the waiters asked again
    assert cache.get(("session", "s2", "u1")) is not None  # a look-up after the forget: kept

    calls.clear()

    def refused(_):
        try:
            fetch(("session", "s3", "u1"), refuse=True)
        except AppError as err:
            return err.code
    assert list(pool.imap(refused, range(3))) == ["token_invalid"] * 3
    assert len(calls) == 3 and cache.get(("session", "s3", "u1")) is None
