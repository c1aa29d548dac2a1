"""One error vocabulary for every service and the gateway.

Services raise `AppError` (usually through an `ErrorSpec` declared in their own
`exceptions.py`). Nameko serialises it over RPC; because the class is registered with
`deserialize_to_instance`, the gateway gets the same `AppError` back and turns it into
`{error: {code, message, details}}` with the HTTP status it carries. Messages are kept in
both English and Chinese; the gateway picks one per request.
"""
import json

from nameko.exceptions import deserialize_to_instance

from .i18n import translate
from .labels import PARAMETERS, localise


@deserialize_to_instance
class AppError(Exception):
    """args = (payload as JSON text,): nameko 2.14 turns non-string exception arguments into
    strings (404 -> "404"), so the payload crosses RPC as one JSON string and is parsed back."""

    def __init__(self, payload):
        if isinstance(payload, str):
            payload = json.loads(payload)
        super().__init__(json.dumps(payload, ensure_ascii=False))
        self.payload = payload

    @property
    def code(self):
        return self.payload["code"]

    @property
    def status(self):
        return self.payload.get("status", 400)

    @property
    def details(self):
        return self.payload.get("details") or {}

    def message(self, lang="en"):
        msg = self.payload.get("message") or {}
        return _one(msg, lang) or self.code

    def __str__(self):
        return f"{self.code}: {self.message('en')}"

    def render(self, lang="en"):
        """The public JSON body, localised."""
        details = dict(self.details)
        fields = details.get("fields")
        if fields:
            details["fields"] = _localise_fields(fields, lang)
        return {"error": {"code": self.code, "message": self.message(lang), "details": details}}


def _one(message, lang):
    """A {en, zh} pair -> its text for `lang`; a plain string (a message some code wrote
    without its pair) is shown as it is, translated where a known pair exists: a 400 with
    an English-only line beats a 500."""
    if isinstance(message, dict):
        return message.get(lang) or message.get("en") or next(iter(message.values()), "")
    text = str(message)
    return translate(text) if lang == "zh" else text


def _localise_fields(fields, lang):
    out = {}
    for name, msgs in fields.items():
        if isinstance(msgs, dict) and not {"en", "zh"} >= set(msgs):
            out[name] = _localise_fields(msgs, lang)  # nested schema
        elif isinstance(msgs, (dict, str)):
            out[name] = [_one(msgs, lang)]
        else:
            out[name] = [_one(m, lang) for m in msgs]
    return out


class ErrorSpec:
    """A declared error: code, HTTP status and a bilingual message template.

    Parameters that name a code (status, action, type, missing reports, role: see
    labels.PARAMETERS; `labels` maps others or overrides) are shown by their label in each
    language, so a message never shows `suspended` or `inspection_report`. Every spec is
    recorded in SPECS for the test that renders them all."""

    SPECS = []

    def __init__(self, code, status, en, zh, labels=None):
        self.code, self.status, self.en, self.zh = code, status, en, zh
        self.labels = {**PARAMETERS, **(labels or {})}
        ErrorSpec.SPECS.append(self)

    def text(self, lang, **params):
        for name, vocabulary in self.labels.items():
            if vocabulary and name in params:
                params[name] = localise(vocabulary, params[name], lang)
        return (self.zh if lang == "zh" else self.en).format(**params)

    def __call__(self, details=None, **params):
        return AppError({
            "code": self.code,
            "status": self.status,
            "message": {"en": self.text("en", **params), "zh": self.text("zh", **params)},
            "details": details or {},
        })


# Errors any service can raise.
VALIDATION_FAILED = ErrorSpec(
    "validation_failed", 400,
    "Some fields are missing or invalid.", "部分字段缺失或无效。")
NOT_FOUND = ErrorSpec("not_found", 404, "{what} was not found.", "未找到{what_zh}。")
FORBIDDEN = ErrorSpec(
    "forbidden", 403, "You are not allowed to do this.", "您无权执行此操作。")
CONFLICT = ErrorSpec("conflict", 409, "{reason}", "{reason_zh}")
# the database or the message broker is away for a moment: the gateway adds Retry-After
UNAVAILABLE = ErrorSpec(
    "service_unavailable", 503,
    "The service is temporarily unavailable; try again in a few seconds.",
    "服务暂时不可用，请几秒后重试。")


def unavailable_error(exc):
    """`UNAVAILABLE()` when `exc` means the database (or the broker) cannot be reached right
    now - a refused or dropped connection, a pool timeout - else None. Such a failure is
    the system's, temporary, and retrying helps: 503, never 500."""
    import sqlalchemy.exc as sa
    from kombu.exceptions import OperationalError as BrokerUnreachable
    if isinstance(exc, AppError):
        return None
    # PendingRollbackError / DisconnectionError: a connection lost mid-transaction or at
    # checkout, seen while the database restarts
    if isinstance(exc, (sa.OperationalError, sa.InterfaceError, sa.TimeoutError,
                        sa.PendingRollbackError, sa.DisconnectionError,
                        BrokerUnreachable, ConnectionError)) or \
            (isinstance(exc, sa.DBAPIError) and exc.connection_invalidated):
        return UNAVAILABLE()
    try:  # the driver's own error, when one escapes SQLAlchemy's wrapping (pool reset)
        import psycopg2
    except ImportError:  # pragma: no cover - SQLite-only installation
        return None
    if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        return UNAVAILABLE()
    return None


def validation_error(err):
    """marshmallow.ValidationError -> AppError with per-field messages in both languages."""
    return VALIDATION_FAILED(details={"fields": _bilingual(err.messages)})


def _bilingual(messages):
    if isinstance(messages, dict):
        return {str(k): _bilingual(v) for k, v in messages.items()}
    if isinstance(messages, (list, tuple)):
        flat = []
        for m in messages:
            if isinstance(m, (dict, list)):
                return _bilingual(m) if isinstance(m, dict) else _bilingual(list(m))
            flat.append({"en": str(m), "zh": translate(str(m))})
        return flat
    return [{"en": str(messages), "zh": translate(str(messages))}]
