"""HTTP routes of "forgot password"; the logic is gateway/recovery.py."""
from .. import domain, recovery, schemas
from ..apidoc import doc
from ..http import api, json_body

RESET_REQUEST = doc(
    "auth", "Ask for a password reset link (mailed to the account's email address)",
    body=schemas.ResetRequestSchema, response=schemas.ResetRequestedOut, status=202, auth=False,
    errors=(400, 429),
    description="Answers 202 alike whether or not the account exists. Only an active account "
                "with an email address gets a mail (notify's `password_reset` rule); the link "
                "works once, for GATEWAY.password_reset_minutes, and asking again replaces it. "
                "Counted per login typed and per client address (RATE_LIMITS.password_reset_*).")
RESET_CONFIRM = doc(
    "auth", "Set a new password with the token from a reset link",
    body=schemas.ResetConfirmSchema, status=204, auth=False, errors=(400,),
    description="Uses the link up, ends a lockout and signs out every session of the account. "
                "An unknown, used, replaced or expired token answers 400 reset_link_invalid.")


class RecoveryRoutes:
    @api("POST", "/api/v1/auth/password-reset", doc=RESET_REQUEST)
    def request_password_reset(self, request):
        self.limits.hit("password_reset_client", self.limits.client(request))
        body = json_body(request)
        login = body.get("login")
        if isinstance(login, str) and login.strip():  # one mailbox cannot be flooded
            self.limits.hit("password_reset_account", domain.normalise_login(login)[:254])
        return 202, recovery.request_reset(body, self.uow, self.settings)

    @api("POST", "/api/v1/auth/password-reset/confirm", doc=RESET_CONFIRM)
    def confirm_password_reset(self, request):
        # not counted: a token is 256 random bits, nothing to guess
        recovery.confirm_reset(json_body(request), self.uow)
        return 204, None
