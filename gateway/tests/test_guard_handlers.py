"""Login and refresh handlers over a real SQLite unit of work (no broker): unknown logins
lock like accounts, refresh-token reuse revokes the family, old rows are pruned."""
import datetime as dt
import zoneinfo

import pytest

from gateway import auth, handlers
from gateway.models import LoginFailure, RetiredRefreshToken, Session, User, metadata
from gongdan_common.db import Database
from gongdan_common.errors import AppError


@pytest.fixture
def uow(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/gw.db", metadata)
    metadata.create_all(db.engine)
    yield db.unit_of_work()
    db.dispose()


@pytest.fixture
def settings():
    return {"tokens": auth.TokenCodec("k" * 40, 900), "refresh_ttl": 3600,
            "lockout_threshold": 3, "lockout_minutes": 15,
            "tz": zoneinfo.ZoneInfo("Asia/Shanghai"), "actor_cache": None}


def add_user(uow, phone, password="right-pass-1", status="active"):
    now = auth.utcnow()
    with uow:
        uow.session.add(User(name="u", phone=phone, status=status, role="customer",
                             password_hash=auth.hash_password(password), language="zh",
                             failed_logins=0, created_at=now, updated_at=now))
        uow.commit()


def outcome(uow, settings, login, password="wrong-pass-1"):
    try:
        handlers.login({"login": login, "password": password}, uow, settings)
        return 200, None
    except AppError as err:
        msg = err.message("en")
        return err.status, (err.code, msg.split(" until ")[0], sorted(err.details))


def test_unknown_and_pending_logins_lock_like_an_account(uow, settings):
    add_user(uow, "13900000001")
    add_user(uow, "13900000002", status="pending")
    real = [outcome(uow, settings, "13900000001") for _ in range(4)]
    ghost = [outcome(uow, settings, "13900000099") for _ in range(4)]
    pending = [outcome(uow, settings, "139-0000-0002") for _ in range(4)]
    assert real == ghost == pending
    assert [s for s, _ in real] == [401, 401, 423, 423]
    # the right password of the locked real account: the plain lockout message
    assert outcome(uow, settings, "13900000001", "right-pass-1")[0] == 423
    with uow:  # the made-up login is kept only as a hash
        rows = uow.session.query(LoginFailure).all()
        assert len(rows) == 2 and all(len(r.login_hash) == 64 for r in rows)
        assert "13900000099" not in {r.login_hash for r in rows}


def test_lock_message_names_zone_and_offset():
    until = dt.datetime(2026, 12, 6, 5, 15, tzinfo=dt.timezone.utc)
    assert handlers.format_until(until, zoneinfo.ZoneInfo("Asia/Shanghai")) == \
        "2026-12-06 13:15 (Asia/Shanghai, UTC+08:00)"
    assert handlers.format_until(until, zoneinfo.ZoneInfo("America/St_Johns")) == \
        "2026-12-06 01:45 (America/St_Johns, UTC-03:30)"


def test_refresh_reuse_revokes_family_and_old_rows_are_pruned(uow, settings, monkeypatch):
    add_user(uow, "13900000003")
    first = handlers.login({"login": "13900000003", "password": "right-pass-1"}, uow, settings)
    second = handlers.refresh({"refresh_token": first["refresh_token"]}, uow, settings)
    with pytest.raises(AppError) as reuse:
        handlers.refresh({"refresh_token": first["refresh_token"]}, uow, settings)
    assert reuse.value.code == "refresh_invalid"
    with pytest.raises(AppError):
        handlers.refresh({"refresh_token": second["refresh_token"]}, uow, settings)
    with uow:
        assert uow.session.query(Session).one().revoked_at is not None
        old = uow.session.query(RetiredRefreshToken).one()
        old.retired_at = auth.utcnow() - dt.timedelta(hours=2)  # older than refresh_ttl
        uow.commit()
    monkeypatch.setattr(handlers, "PRUNE_ONE_IN", 1)
    other = handlers.login({"login": "13900000003", "password": "right-pass-1"}, uow, settings)
    handlers.refresh({"refresh_token": other["refresh_token"]}, uow, settings)
    with uow:
        hashes = {r.refresh_hash for r in uow.session.query(RetiredRefreshToken)}
        assert hashes == {auth.sha256(other["refresh_token"])}


def test_gateway_migrations_match_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, pool

    from gongdan_common.migrate import upgrade

    url = f"sqlite:///{tmp_path}/migrated.db"
    upgrade("gateway", url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert ctx.get_current_revision() == "0004_password_resets"
            assert compare_metadata(ctx, metadata) == []
    finally:
        engine.dispose()
