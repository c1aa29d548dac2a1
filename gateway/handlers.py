"""Account handlers: plain functions over the gateway's unit of work."""
import datetime as dt
import secrets

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from gongdan_common.validation import load

from . import auth, domain, events, exceptions as exc, schemas
from .models import Company, LoginFailure, RetiredRefreshToken, ServiceToken, Session, User

PRUNE_ONE_IN = 200  # old login_failures / retired_refresh_tokens rows go now and then


def _user_out(user, full=False):
    return schemas.UserOut(full=full).dump(user)


def _find_by_login(uow, login):
    login = domain.normalise_login(login)
    column = User.email if "@" in login else User.phone
    return uow.session.scalar(select(User).where(column == login))


def _unique_or_conflict(uow, email, phone, exclude_id=None):
    for column, value, field, field_zh in ((User.email, email, "email", "邮箱"),
                                           (User.phone, phone, "phone number", "手机号")):
        if value:
            stmt = select(User.id).where(column == value)
            if exclude_id:
                stmt = stmt.where(User.id != exclude_id)
            if uow.session.scalar(stmt):
                raise exc.ACCOUNT_EXISTS(field=field, field_zh=field_zh)


def register(payload, uow, settings):
    schema = schemas.RegisterSchema()
    # the OceanBase flow's real-name verification: the deployment decides
    schema.context = {"require_national_id": settings.get("require_national_id", False)}
    data = load(schema, payload)
    email = domain.normalise_login(data.get("email")) or None
    phone = domain.normalise_login(data.get("phone")) or None
    password_hash = auth.hash_password(data["password"])  # outside the transaction: slow
    with uow:
        _unique_or_conflict(uow, email, phone)
        now = auth.utcnow()
        user = User(name=data["name"], email=email, phone=phone, position=data.get("position"),
                    company_name_claimed=data["company_name"], status="pending",
                    password_hash=password_hash, language=data["language"],
                    created_at=now, updated_at=now)
        if data.get("national_id"):
            user.national_id_enc = settings["vault"].seal(data["national_id"])
            user.national_id_hint = data["national_id"][-4:]
        uow.session.add(user)
        try:
            uow.commit()
        except IntegrityError:  # a concurrent registration took the phone or email
            raise exc.ACCOUNT_EXISTS(field="phone number or email", field_zh="手机号或邮箱") from None
        return _user_out(user, full=True)


def login(payload, uow, settings, user_agent=None):
    data = load(schemas.LoginSchema(), payload)
    now = auth.utcnow()
    with uow:
        user = _find_by_login(uow, data["login"])
        state = domain.login_state(user, now) if user is not None else "unknown"
        if state == "locked":
            raise _locked(user, now, settings)
        if state is not None:  # no account, or one that cannot log in: counted by login
            ghost = uow.session.get(LoginFailure, _login_hash(data["login"]))
            if ghost is not None and domain.login_state(_Ghost(ghost), now) == "locked":
                raise _locked(ghost, now, settings)
        user_id, password_hash = (user.id, user.password_hash) if user else (None, None)
    if user_id is None:
        auth.burn_time(data["password"])  # as long as a real password check
        _login_failed_by_name(data, uow, settings, now)
    ok = auth.verify_password(password_hash, data["password"])  # slow: outside the transaction
    with uow:
        user = uow.session.get(User, user_id)
        state = domain.login_state(user, now)
        if state == "locked":  # locked by a concurrent attempt meanwhile
            raise _locked(user, now, settings)
        if not ok:
            if state is None:
                locked = domain.register_failure(user, now, settings["lockout_threshold"],
                                                 settings["lockout_minutes"])
                if locked:  # the owner is told (notify), in the same transaction
                    until = _aware(user.locked_until)
                    uow.emit(events.ACCOUNT_LOCKED, {
                        "user_id": user.id, "locked_until": until,
                        "until_local": format_until(until, settings["tz"]),
                        "attempts": settings["lockout_threshold"]})
                uow.commit()
                if locked:
                    raise _locked(user, now, settings)
                raise exc.INVALID_CREDENTIALS()
    if not ok:  # pending, rejected or disabled: they lock like unknown logins do
        _login_failed_by_name(data, uow, settings, now)
    with uow:
        user = uow.session.get(User, user_id)
        state = domain.login_state(user, now)
        # the password is right, so the account's state may be told
        if state == "pending":
            raise exc.ACCOUNT_PENDING()
        if state == "rejected":
            raise exc.ACCOUNT_REJECTED()
        if state == "disabled":
            raise exc.ACCOUNT_DISABLED()
        if state == "locked":
            raise _locked(user, now, settings)
        domain.register_success(user)
        out = _open_session(uow, user, now, settings, user_agent)
        uow.commit()
        return out


class _Ghost:
    """A LoginFailure seen through `domain.login_state`: an active account as far as the
    lockout rule goes."""
    status = "active"

    def __init__(self, row):
        self.locked_until = row.locked_until


def _login_hash(login):
    return auth.sha256(domain.normalise_login(login))


def _login_failed_by_name(data, uow, settings, now):
    """A wrong password for a login with no account (or one that cannot log in): count it
    like an account's failures, so the fifth wrong try answers 423 account_locked either way
    and nobody can tell a registered phone or email from a made-up one. Always raises."""
    digest = _login_hash(data["login"])
    with uow:
        row = uow.session.get(LoginFailure, digest)
        if row is None:
            row = LoginFailure(login_hash=digest, failed_logins=0, updated_at=now)
            uow.session.add(row)
        locked = domain.register_failure(row, now, settings["lockout_threshold"],
                                         settings["lockout_minutes"])
        row.updated_at = now
        lock = _Ghost(row)  # read before the commit expires the row
        if secrets.randbelow(PRUNE_ONE_IN) == 0:
            # rows whose lock ended a day ago mean what no row means (a fresh count)
            uow.session.execute(delete(LoginFailure).where(
                LoginFailure.locked_until < now - dt.timedelta(days=1)))
        try:
            uow.commit()
        except IntegrityError:  # a concurrent first failure of the same login: one lost count
            pass
    if locked:
        raise _locked(lock, now, settings)
    raise exc.INVALID_CREDENTIALS()


def format_until(until, tz):
    """'2026-12-06 13:15 (Asia/Shanghai, UTC+08:00)': the configured zone named, so a reader
    elsewhere (or a UTC log) cannot misread the local time."""
    local = until.astimezone(tz)
    offset = local.strftime("%z") or "+0000"
    name = getattr(tz, "key", None) or local.tzname() or "UTC"
    return f"{local:%Y-%m-%d %H:%M} ({name}, UTC{offset[:3]}:{offset[3:]})"


def _locked(user, now, settings):
    until = user.locked_until
    until = until if until.tzinfo else until.replace(tzinfo=dt.timezone.utc)
    return exc.ACCOUNT_LOCKED(details={"locked_until": until.isoformat()},
                              attempts=settings["lockout_threshold"],
                              until=format_until(until, settings["tz"]),
                              minutes=domain.minutes_left(until, now))


def _open_session(uow, user, now, settings, user_agent, session=None):
    refresh = auth.new_refresh_token()
    if session is None:
        session = Session(user_id=user.id, created_at=now, user_agent=(user_agent or "")[:300])
        uow.session.add(session)
    else:  # a rotation: the old token is remembered, so that its reuse can be recognised
        uow.session.add(RetiredRefreshToken(refresh_hash=session.refresh_hash,
                                            session_id=session.id, retired_at=now))
        if secrets.randbelow(PRUNE_ONE_IN) == 0:
            # a token retired longer ago than a refresh token lives has expired anyway
            uow.session.execute(delete(RetiredRefreshToken).where(
                RetiredRefreshToken.retired_at < now - dt.timedelta(
                    seconds=settings["refresh_ttl"])))
    session.refresh_hash = auth.sha256(refresh)
    session.expires_at = now + dt.timedelta(seconds=settings["refresh_ttl"])
    uow.flush()
    return {"access_token": settings["tokens"].issue_access(user.id, session.id, now),
            "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": settings["tokens"].access_ttl, "user": _user_out(user, full=True)}


def refresh(payload, uow, settings):
    """Rotate: each refresh token works once. Presenting a used one revokes the session
    (the token family: the login and every rotation of it, the newest token included),
    because it means the token was copied and either holder may be the thief."""
    data = load(schemas.RefreshSchema(), payload)
    now = auth.utcnow()
    digest = auth.sha256(data["refresh_token"])
    with uow:
        session = uow.session.scalar(select(Session).where(Session.refresh_hash == digest))
        if session is None:
            retired = uow.session.get(RetiredRefreshToken, digest)
            if retired is not None:
                family = uow.session.get(Session, retired.session_id)
                if family is not None and family.revoked_at is None:
                    family.revoked_at = now
                    uow.commit()
                    auth.forget_actors(family.user_id)
            raise exc.REFRESH_INVALID()
        if session.revoked_at is not None or _aware(session.expires_at) <= now:
            raise exc.REFRESH_INVALID()
        user = uow.session.get(User, session.user_id)
        if user is None or domain.login_state(user, now) not in (None,):
            session.revoked_at = now
            uow.commit()
            auth.forget_actors(session.user_id)
            raise exc.REFRESH_INVALID()
        out = _open_session(uow, user, now, settings, None, session=session)
        uow.commit()
        return out


def logout(actor, uow):
    with uow:
        session = uow.session.get(Session, actor.get("session_id"))
        if session is not None and session.revoked_at is None:
            session.revoked_at = auth.utcnow()
            uow.commit()
    auth.forget_actors(actor.get("id"))
    return None


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def authenticate(bearer, uow, settings):
    """Access token or service token -> the actor passed to every service call.

    What the database said is kept for a few seconds (settings["actor_cache"], see
    auth.ActorCache for how revocation stays bounded); an access token's signature and
    expiry are checked on every request."""
    cache = settings.get("actor_cache")
    if bearer.startswith(auth.SERVICE_TOKEN_PREFIX):
        key = ("service", auth.sha256(bearer))
    else:
        claims = settings["tokens"].decode_access(bearer)
        key = ("session", claims["sid"], claims["sub"])
    if cache is None:
        return _verify(bearer, key, uow, settings)
    return cache.fetch(key, lambda: _verify(bearer, key, uow, settings))


def _verify(bearer, key, uow, settings):
    """The actor for a token, from the database; refusals are never cached."""
    if key[0] == "service":
        with uow:
            token = uow.session.scalar(select(ServiceToken).where(
                ServiceToken.token_hash == key[1]))
            if token is None or token.revoked_at is not None:
                raise exc.TOKEN_INVALID()
            # "svc:" + 32 hex digits: 36 characters, the width of every actor-id column
            return {"id": "svc:" + token.id.replace("-", ""), "role": "system",
                    "name": token.name, "scopes": list(token.scopes),
                    "companies": list(token.companies or ()),
                    "company_id": None, "provider_id": None}
    _, sid, sub = key
    claims = {"sid": sid, "sub": sub}
    with uow:
        row = uow.session.execute(
            select(User, Session.revoked_at, Company)
            .join(Session, Session.user_id == User.id)
            .outerjoin(Company, Company.id == User.company_id)
            .where(Session.id == claims["sid"], User.id == claims["sub"])).first()
    if row is None:
        raise exc.TOKEN_INVALID()
    user, revoked_at, company = row
    if revoked_at is not None:
        raise exc.SESSION_REVOKED()
    if user.status != "active":
        raise exc.ACCOUNT_DISABLED()
    return actor_for(user, company, session_id=claims["sid"])


def actor_for(user, company, session_id=None):
    is_provider = company is not None and company.kind == "provider"
    return {"id": user.id, "role": user.role, "name": user.name,
            "company_id": company.id if company is not None and company.kind == "customer" else None,
            "company_name": company.name if company is not None else None,
            "company_region": company.region if company is not None else None,
            "provider_id": company.id if is_provider else None,
            "language": user.language, "session_id": session_id}


def me(actor, uow):
    with uow:
        return _user_out(uow.session.get(User, actor["id"]), full=True)


def update_me(actor, payload, uow):
    data = load(schemas.MePatchSchema(), payload)
    with uow:
        user = uow.session.get(User, actor["id"])
        for k, v in data.items():
            setattr(user, k, v)
        user.updated_at = auth.utcnow()
        uow.commit()
        auth.forget_actors(user.id)  # the actor carries name and language
        return _user_out(user, full=True)


def change_password(actor, payload, uow):
    data = load(schemas.PasswordChangeSchema(), payload)
    with uow:
        user = uow.session.get(User, actor["id"])
        current_hash = user.password_hash
    if not auth.verify_password(current_hash, data["current_password"]):
        raise exc.WRONG_PASSWORD()
    new_hash = auth.hash_password(data["new_password"])
    with uow:
        user = uow.session.get(User, actor["id"])
        user.password_hash = new_hash
        user.updated_at = auth.utcnow()
        # every other session ends: a changed password must lock out whoever had the old one
        for s in uow.session.scalars(select(Session).where(
                Session.user_id == user.id, Session.revoked_at.is_(None),
                Session.id != actor.get("session_id"))):
            s.revoked_at = auth.utcnow()
        uow.commit()
    auth.forget_actors(actor["id"])
    return None


# ---- administration ----------------------------------------------------------------

def require_role(actor, *roles):
    if actor["role"] not in roles:
        raise exc.ROLE_REQUIRED(roles=", ".join(roles))


def list_users(actor, query, uow):
    require_role(actor, "admin", "customer_admin")
    q = load(schemas.UserListQuerySchema(), query)
    stmt = select(User)
    if actor["role"] == "customer_admin":  # a company admin sees their own company
        stmt = stmt.where(User.company_id == actor["company_id"])
    for name in ("status", "role", "company_id"):
        if q.get(name):
            stmt = stmt.where(getattr(User, name) == q[name])
    if q.get("q"):
        term = f"%{q['q']}%"
        stmt = stmt.where(or_(User.name.ilike(term), User.email.ilike(term),
                              User.phone.ilike(term), User.company_name_claimed.ilike(term)))
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        users = uow.session.scalars(stmt.order_by(User.created_at.desc())
                                    .offset((q["page"] - 1) * q["page_size"])
                                    .limit(q["page_size"])).all()
        full = actor["role"] == "admin"
        return {"items": [_user_out(u, full=full) for u in users], "total": total,
                "page": q["page"], "page_size": q["page_size"]}


def _user(uow, user_id):
    user = uow.session.get(User, user_id)
    if user is None:
        raise exc.USER_NOT_FOUND()
    return user


def _bind(uow, role, company_id):
    kind = domain.ROLE_COMPANY_KIND[role]
    if kind == "vendor" and not company_id:
        return None
    company = uow.session.get(Company, company_id) if company_id else None
    if company is None:
        raise exc.COMPANY_NOT_FOUND()
    if not domain.company_kind_ok(role, company.kind):
        raise exc.COMPANY_KIND_MISMATCH(role=role, kind=kind)
    return company.id


def approve_user(actor, user_id, payload, uow):
    require_role(actor, "admin")
    data = load(schemas.ApproveSchema(), payload)
    with uow:
        user = _user(uow, user_id)
        if user.status != "pending":
            raise exc.NOT_PENDING(status=user.status)
        user.company_id = _bind(uow, data["role"], data.get("company_id"))
        user.role = data["role"]
        user.status = "active"
        user.review_note, user.reviewed_by = data.get("note"), actor["id"]
        user.updated_at = auth.utcnow()
        uow.commit()
        return _user_out(user, full=True)


def reject_user(actor, user_id, payload, uow):
    require_role(actor, "admin")
    data = load(schemas.RejectSchema(), payload)
    with uow:
        user = _user(uow, user_id)
        if user.status != "pending":
            raise exc.NOT_PENDING(status=user.status)
        user.status = "rejected"
        user.review_note, user.reviewed_by = data.get("note"), actor["id"]
        user.updated_at = auth.utcnow()
        uow.commit()
        return _user_out(user, full=True)


def update_user(actor, user_id, payload, uow):
    require_role(actor, "admin")
    data = load(schemas.UserAdminPatchSchema(), payload)
    with uow:
        user = _user(uow, user_id)
        role = data.get("role", user.role)
        if "role" in data or "company_id" in data:
            user.company_id = _bind(uow, role, data.get("company_id", user.company_id))
        if "phone" in data:
            phone = domain.normalise_login(data["phone"])
            _unique_or_conflict(uow, None, phone, exclude_id=user.id)
            user.phone = phone
        for k in ("role", "status", "name", "position"):
            if k in data:
                setattr(user, k, data[k])
        if data.get("status") == "disabled":
            for s in uow.session.scalars(select(Session).where(
                    Session.user_id == user.id, Session.revoked_at.is_(None))):
                s.revoked_at = auth.utcnow()
        user.updated_at = auth.utcnow()
        uow.commit()
        auth.forget_actors(user.id)  # role, status, company: the next request sees them
        return _user_out(user, full=True)


def unlock_user(actor, user_id, uow):
    require_role(actor, "admin")
    with uow:
        user = _user(uow, user_id)
        domain.register_success(user)
        user.updated_at = auth.utcnow()
        uow.commit()
        return _user_out(user, full=True)


def list_companies(actor, kind, uow):
    require_role(actor, "admin", "agent")
    with uow:
        stmt = select(Company).order_by(Company.name)
        if kind:
            stmt = stmt.where(Company.kind == kind)
        return schemas.CompanyOut(many=True).dump(uow.session.scalars(stmt).all())


def create_company(actor, payload, uow):
    require_role(actor, "admin")
    data = load(schemas.CompanyCreateSchema(), payload)
    with uow:
        if uow.session.scalar(select(Company.id).where(Company.name == data["name"])):
            raise exc.COMPANY_EXISTS(name=data["name"])
        company = Company(created_at=auth.utcnow(), **data)
        uow.session.add(company)
        try:
            uow.commit()
        except IntegrityError:
            raise exc.COMPANY_EXISTS(name=data["name"]) from None
        return schemas.CompanyOut().dump(company)


def update_company(actor, company_id, payload, uow):
    require_role(actor, "admin")
    data = load(schemas.CompanyPatchSchema(), payload)
    with uow:
        company = uow.session.get(Company, company_id)
        if company is None:
            raise exc.COMPANY_NOT_FOUND()
        for k, v in data.items():
            setattr(company, k, v)
        try:
            uow.commit()
        except IntegrityError:
            raise exc.COMPANY_EXISTS(name=data.get("name")) from None
        auth.forget_actors(everything=True)  # actors carry their company's facts
        return schemas.CompanyOut().dump(company)


class AdminExists(Exception):
    """create-admin found the account and was not asked to change it."""

    def __init__(self, user, why):
        super().__init__(why)
        self.user, self.why = user, why


def create_admin(name, email, phone, password, uow, reset_password=False):
    """First administrator (from the command line). Idempotent on email/phone: an existing
    administrator is left as it is, and an existing account's password, role and lock change
    only with `reset_password` - running it twice, or the demo's own run, must never lock
    anybody out (issue 17). Returns (the account, whether it was written)."""
    email = domain.normalise_login(email) if email else None
    phone = domain.normalise_login(phone) if phone else None
    with uow:
        by_email = email and uow.session.scalar(select(User).where(User.email == email))
        by_phone = phone and uow.session.scalar(select(User).where(User.phone == phone))
        if by_email and by_phone and by_email.id != by_phone.id:
            raise AdminExists(_user_out(by_email, full=True),
                              f"{email} and {phone} belong to two different accounts")
        user = by_email or by_phone
        now = auth.utcnow()
        if user is not None and not reset_password:
            if user.role == "admin" and user.status == "active":
                return _user_out(user, full=True), False
            raise AdminExists(_user_out(user, full=True),
                              f"the account exists with role {user.role} ({user.status})")
        if user is None:
            user = User(name=name, email=email, phone=phone, created_at=now,
                        company_name_claimed=None, language="zh")
            uow.session.add(user)
        user.role, user.status, user.password_hash = "admin", "active", \
            auth.hash_password(password)
        user.failed_logins, user.locked_until, user.updated_at = 0, None, now
        uow.commit()
        return _user_out(user, full=True), True


# ---- consistency with dispatch's registry --------------------------------------------

def check_provider_company(uow, company_id):
    """Dispatch keys providers by the provider company's id: it must be one."""
    with uow:
        company = uow.session.get(Company, company_id)
        if company is None or company.kind != "provider":
            raise exc.PROVIDER_COMPANY_REQUIRED()


def check_engineer_account(uow, user_id, provider_id):
    """An engineer record belongs to an engineer account of that provider."""
    with uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise exc.USER_NOT_FOUND()
        if user.role != "engineer" or (provider_id and user.company_id != provider_id):
            raise exc.ENGINEER_ACCOUNT_REQUIRED()
        return user
