"""Account rules: roles, what an approval binds, lockout, masking. Pure Python."""
import datetime as dt

ROLES = ("customer", "customer_admin", "agent", "provider_admin", "engineer", "admin")
COMPANY_KINDS = ("customer", "provider", "vendor")
# which kind of company each role belongs to (agents and admins work for the vendor)
ROLE_COMPANY_KIND = {"customer": "customer", "customer_admin": "customer",
                     "provider_admin": "provider", "engineer": "provider",
                     "agent": "vendor", "admin": "vendor"}
# tickets:create: open tickets for the customer companies the token is allowed for (its
# `companies`, set by an admin); the rule is gongdan_common.visibility.may_file_for
SCOPES = ("tickets:read", "tickets:write", "tickets:create")


def company_kind_ok(role, company_kind):
    return ROLE_COMPANY_KIND[role] == company_kind


def login_state(user, now):
    """Why this account may not log in right now, or None. Checked before the password
    is, so a locked account is told it is locked, not that the password is wrong."""
    if user.status == "pending":
        return "pending"
    if user.status in ("rejected", "disabled"):
        return user.status
    if user.locked_until and _aware(user.locked_until) > now:
        return "locked"
    return None


def register_failure(user, now, threshold, lock_minutes):
    """Count a wrong password; lock for a while at the threshold. Returns True if locked now."""
    if user.locked_until and _aware(user.locked_until) <= now:
        user.failed_logins = 0  # an expired lock starts a fresh count
        user.locked_until = None
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= threshold:
        user.locked_until = now + dt.timedelta(minutes=lock_minutes)
        return True
    return False


def register_success(user):
    user.failed_logins = 0
    user.locked_until = None


def _aware(value):
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def minutes_left(until, now):
    return max(1, int((_aware(until) - now).total_seconds() + 59) // 60)


def mask_phone(phone):
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7 if len(digits) > 7 else 1) + digits[-4:]


def mask_email(email):
    if not email or "@" not in email:
        return email
    local, domain = email.split("@", 1)
    return (local[0] + "***" if local else "***") + "@" + domain


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def national_id_problem(value):
    """A mainland resident identity number (居民身份证号码, GB 11643): 18 characters, the last
    the ISO 7064 MOD 11-2 check character (0-9 or X), or the older 15 digits. Returns None when
    valid, else "format" or "checksum". `value` is already stripped and upper-cased."""
    # isdigit() alone also takes "²" or "١", which int() refuses: ASCII digits only
    if not value.isascii():
        return "format"
    if len(value) == 15:
        return None if value.isdigit() else "format"
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit()
                                                           or value[17] == "X"):
        return "format"
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS))
    return None if _ID_CHECK[total % 11] == value[17] else "checksum"


def mask_national_id(hint):
    """Only the last four characters are ever kept in clear; show them behind a fixed mask."""
    return None if not hint else "*" * 14 + hint


def normalise_login(value):
    value = (value or "").strip()
    return value.lower() if "@" in value else value.replace(" ", "").replace("-", "")
