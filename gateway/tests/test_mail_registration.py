"""The gateway's side of channels' `unknown_sender: register` over a real SQLite unit of
work: a pending registration per address, never a second one, nothing for a malformed
address; no password logs in to it; an admin gives it the phone number a ticket needs.
The whole path (LMTP in, approval, retry) runs in tests/test_mail_in.py."""

import pytest

from gateway import auth, handlers
from gateway.models import User
from gateway.routes.channels import NO_PASSWORD, mail_sender, register_mail_sender
from gateway.tests.test_guard_handlers import uow  # noqa: F401 - fixture
from gongdan_common.errors import AppError

ADMIN = {"id": "adm", "role": "admin"}


def test_a_mail_sender_registers_once_as_pending(uow):  # noqa: F811
    made = register_mail_sender(uow, " Zhao@NewCo.test ", "赵六", "en")
    assert made == {"status": "pending", "created": True}
    assert register_mail_sender(uow, "zhao@newco.test", "other") == {
        "status": "pending", "created": False}
    assert mail_sender(uow, "zhao@newco.test") == {"status": "pending"}
    assert register_mail_sender(uow, "no-at-sign", "x")["status"] == "unknown"
    with uow:
        (user,) = uow.session.query(User).all()
        assert (user.email, user.name, user.language, user.company_name_claimed) == (
            "zhao@newco.test", "赵六", "en", "newco.test")
        assert user.password_hash == NO_PASSWORD
    assert auth.verify_password(NO_PASSWORD, "") is False
    assert auth.verify_password(NO_PASSWORD, NO_PASSWORD) is False


def test_an_admin_gives_the_account_a_phone(uow):  # noqa: F811
    register_mail_sender(uow, "a@newco.test", None)
    register_mail_sender(uow, "b@newco.test", "")
    with uow:
        a, b = sorted(uow.session.query(User).all(), key=lambda u: u.email)
        assert b.name == "b"  # no From name: the address's local part
        ids = a.id, b.id
    out = handlers.update_user(ADMIN, ids[0], {"phone": "139-1111-2222"}, uow)
    assert out["phone"] == "13911112222"
    with pytest.raises(AppError) as taken:
        handlers.update_user(ADMIN, ids[1], {"phone": "13911112222"}, uow)
    assert taken.value.status == 409
    with pytest.raises(AppError) as bad:
        handlers.update_user(ADMIN, ids[1], {"phone": "call me"}, uow)
    assert bad.value.status == 400 and "phone" in bad.value.details["fields"]
