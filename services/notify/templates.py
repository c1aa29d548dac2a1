"""Message templates: Chinese and English, a subject, a text body and an HTML body per kind.

Templates are Jinja2 in a sandbox (admins edit them; a template can read the context it is
given and nothing else). HTML bodies are autoescaped. A missing optional field renders as
empty text, never as an error; a template that does not parse, is too long or fails on a
sample context is refused when it is loaded or saved (`compile_template`), so a broken one
never waits until a customer should have been told.
"""
from jinja2 import TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment

LANGUAGES = ("zh", "en")
MAX_SUBJECT = 300
MAX_BODY = 20_000


class _Blank(Undefined):
    """Missing values render as '' (and stay falsy, iterable and attribute-able)."""

    def __str__(self):
        return ""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self


_text_env = SandboxedEnvironment(undefined=_Blank, autoescape=False, trim_blocks=True)
_html_env = SandboxedEnvironment(undefined=_Blank, autoescape=True, trim_blocks=True)


class TemplateInvalid(ValueError):
    """A template that must not be used: `problems` maps part -> message (en, zh)."""

    def __init__(self, problems):
        super().__init__("; ".join(f"{k}: {v[0]}" for k, v in problems.items()))
        self.problems = problems


SAMPLE_CONTEXT = {
    "ticket": {"id": "00000000-0000-0000-0000-000000000000", "number": "TS20261122001",
               "title": "示例 sample", "priority": "P2", "status": "assigned",
               "product": "AS-1", "product_line": "anyshare", "type": "defect"},
    "data": {}, "recipient": {"id": "u", "name": "张三"}, "actor": {"name": "李四"},
    "link": "http://example.test/#/tickets/x", "event": {"type": "sample"},
    "response_target": {"en": "30 minutes", "zh": "30 分钟"},
    # the daily digest's context (services/notify/digest.py compose); other kinds ignore it
    "digest": {"company": "示例科技", "date": "2026-11-22", "total": 1, "more": 0,
               "ticket_count": 1, "counts_text": "新建工单 1",
               "counts": [{"kind": "created", "label": "新建工单", "count": 1}],
               "link": "http://example.test/#/tickets",
               "tickets": [{"id": "x", "number": "TS20261122001", "title": "示例 sample",
                            "link": "http://example.test/#/tickets/x",
                            "lines": [{"kind": "created", "time": "09:00",
                                       "date": "2026-11-22", "line": "新建工单（P2）"}]}]},
}


def compile_template(parts):
    """Check {subject, text, html}; returns the compiled templates or raises TemplateInvalid."""
    problems, out = {}, {}
    for part, env, limit in (("subject", _text_env, MAX_SUBJECT), ("text", _text_env, MAX_BODY),
                             ("html", _html_env, MAX_BODY)):
        source = parts.get(part)
        if not isinstance(source, str) or not source.strip():
            problems[part] = ("Required.", "必填。")
            continue
        if len(source) > limit:
            problems[part] = (f"Longer than {limit} characters.", f"超过 {limit} 个字符。")
            continue
        try:
            template = env.from_string(source)
            _check_names(env.parse(source))
            rendered = template.render(SAMPLE_CONTEXT)
        except TemplateSyntaxError as err:
            problems[part] = (f"Line {err.lineno}: {err.message}",
                              f"第 {err.lineno} 行语法错误：{err.message}")
            continue
        except (SecurityError, TemplateError, TypeError, ValueError) as err:
            problems[part] = (f"Cannot render: {err}", f"无法渲染：{err}")
            continue
        if part == "subject" and "\n" in rendered.strip():
            problems[part] = ("A subject is one line.", "主题只能有一行。")
            continue
        out[part] = template
    if problems:
        raise TemplateInvalid(problems)
    return out


_ALLOWED_ROOTS = set(SAMPLE_CONTEXT)


def _check_names(tree):
    """Only the documented context names may be read (a typo is caught at save time)."""
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in _ALLOWED_ROOTS | assigned:
            raise ValueError(f"unknown name '{name.name}' (use one of "
                             f"{', '.join(sorted(_ALLOWED_ROOTS))})")


class _Missing(Undefined):
    """Strict rendering: a missing value fails when shown, and is falsy in `{% if %}`."""

    def __str__(self):
        self._fail_with_undefined_error()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Missing(name=f"{self._undefined_name}.{name}")


def _shown(value):
    if isinstance(value, Undefined) or value is None or (isinstance(value, str)
                                                          and not value.strip()):
        raise ValueError(f"empty value shown: {getattr(value, '_undefined_name', value)!r}")
    return value


def render_strict(kind, language, context):
    """Render a shipped template refusing any missing or empty shown value (raises
    ValueError naming it): the check that every shipped template gets what its event
    carries (issue 17: an assignment mail with an empty title and product)."""
    env = SandboxedEnvironment(undefined=_Missing, autoescape=False, trim_blocks=True,
                               finalize=_shown)
    parts = DEFAULTS[kind][language]
    try:
        return {part: env.from_string(parts[part]).render(context) for part in parts}
    except TemplateError as err:
        raise ValueError(f"{kind}/{language}: {err}") from None
    except ValueError as err:
        raise ValueError(f"{kind}/{language}: {err}") from None


def render(compiled, context):
    subject = " ".join(compiled["subject"].render(context).split())
    return {"subject": subject[:MAX_SUBJECT], "text": compiled["text"].render(context),
            "html": compiled["html"].render(context)}


def _html(paragraph_zh_or_en):
    # account and webhook messages have no ticket: the link names itself then
    return ("<html><body style=\"font-family:sans-serif\">" + paragraph_zh_or_en +
            "<p><a href=\"{{ link }}\">{% if ticket.number %}{{ ticket.number }}{% else %}"
            "{{ link }}{% endif %}</a></p></body></html>")


def _t(subject, text):
    """A shipped template: the HTML body is the text in paragraphs plus the ticket link."""
    html = _html("".join(f"<p>{line}</p>" for line in text.split("\n") if line.strip()))
    return {"subject": subject, "text": text + "\n\n{{ link }}\n", "html": html}


# the daily digest (one message for many events): grouped by ticket, one line per event
_DIGEST_TEXT = """{hello}
{intro}
{{% for t in digest.tickets %}}

{{{{ t.number }}}} {{{{ t.title }}}}
{{% for i in t.lines %}}
  {{{{ i.time }}}}  {{{{ i.line }}}}
{{% endfor %}}
  {{{{ t.link }}}}
{{% endfor %}}
{{% if digest.more %}}

{more}
{{% endif %}}

{{{{ digest.link }}}}
"""
_DIGEST_HTML = """<html><body style="font-family:sans-serif">
<p>{hello}</p>
<p>{intro}</p>
{{% for t in digest.tickets %}}
<h3><a href="{{{{ t.link }}}}">{{{{ t.number }}}}</a> {{{{ t.title }}}}</h3>
<ul>
{{% for i in t.lines %}}
<li>{{{{ i.time }}}} {{{{ i.line }}}}</li>
{{% endfor %}}
</ul>
{{% endfor %}}
{{% if digest.more %}}<p>{more}</p>{{% endif %}}
<p><a href="{{{{ digest.link }}}}">{all}</a></p>
</body></html>"""

# kind -> language -> {subject, text, html}
DEFAULTS = {
    "assigned": {
        "zh": _t("[{{ ticket.number }}] 新工单已指派给您：{{ ticket.title }}",
                 "{{ recipient.name }}，您好：\n工单 {{ ticket.number }}（{{ ticket.priority }}）"
                 "已指派给您。\n标题：{{ ticket.title }}\n产品：{{ ticket.product }}"
                 "{% if data.reason %}\n说明：{{ data.reason }}{% endif %}"),
        "en": _t("[{{ ticket.number }}] Ticket assigned to you: {{ ticket.title }}",
                 "Hello {{ recipient.name }},\nticket {{ ticket.number }} ({{ ticket.priority }})"
                 " was assigned to you.\nTitle: {{ ticket.title }}\nProduct: {{ ticket.product }}"
                 "{% if data.reason %}\nNote: {{ data.reason }}{% endif %}"),
    },
    "unassigned": {
        "zh": _t("[{{ ticket.number }}] 工单已改派他人", "工单 {{ ticket.number }} 已改派给其他工程师。"),
        "en": _t("[{{ ticket.number }}] Ticket re-assigned",
                 "Ticket {{ ticket.number }} was re-assigned to another engineer."),
    },
    "accepted": {
        "zh": _t("[{{ ticket.number }}] 我们已收到您的工单",
                 "{{ recipient.name }}，您好：\n您的工单 {{ ticket.number }}「{{ ticket.title }}」"
                 "已受理，优先级 {{ ticket.priority }}。{% if response_target %}我们将在"
                 "{{ response_target.zh }}内响应。{% endif %}"),
        "en": _t("[{{ ticket.number }}] We received your ticket",
                 "Hello {{ recipient.name }},\nyour ticket {{ ticket.number }} "
                 "\"{{ ticket.title }}\" was accepted with priority {{ ticket.priority }}."
                 "{% if response_target %} We will respond within {{ response_target.en }}."
                 "{% endif %}"),
    },
    "reply": {
        "zh": _t("[{{ ticket.number }}] 工单有新回复", "{{ actor.name }} 回复了工单 {{ ticket.number }}：\n"
                 "{{ data.body }}"),
        "en": _t("[{{ ticket.number }}] New reply on your ticket",
                 "{{ actor.name }} replied on ticket {{ ticket.number }}:\n{{ data.body }}"),
    },
    "needs_info": {
        "zh": _t("[{{ ticket.number }}] 需要您补充信息",
                 "处理工单 {{ ticket.number }} 需要您补充信息。{% if data.reason %}\n{{ data.reason }}"
                 "{% endif %}"),
        "en": _t("[{{ ticket.number }}] More information needed",
                 "We need more information to work on ticket {{ ticket.number }}."
                 "{% if data.reason %}\n{{ data.reason }}{% endif %}"),
    },
    "resolved": {
        "zh": _t("[{{ ticket.number }}] 工单已处理，请确认",
                 "工单 {{ ticket.number }} 已处理完成，请确认问题是否已解决并评价。"
                 "{% if data.description %}\n处理说明：{{ data.description }}{% endif %}"),
        "en": _t("[{{ ticket.number }}] Resolved: please confirm",
                 "Ticket {{ ticket.number }} was resolved. Please confirm whether your problem "
                 "is solved and rate the service.{% if data.description %}\nResolution: "
                 "{{ data.description }}{% endif %}"),
    },
    "closed": {
        "zh": _t("[{{ ticket.number }}] 工单已关闭", "工单 {{ ticket.number }}「{{ ticket.title }}」已关闭。"),
        "en": _t("[{{ ticket.number }}] Ticket closed",
                 "Ticket {{ ticket.number }} \"{{ ticket.title }}\" is closed."),
    },
    "new_ticket": {
        "zh": _t("[{{ ticket.number }}] 新工单待处理：{{ ticket.title }}",
                 "新工单 {{ ticket.number }}（{{ ticket.priority }}）待分派：{{ ticket.title }}"),
        "en": _t("[{{ ticket.number }}] New ticket: {{ ticket.title }}",
                 "New ticket {{ ticket.number }} ({{ ticket.priority }}) waits for triage: "
                 "{{ ticket.title }}"),
    },
    "customer_reply": {
        "zh": _t("[{{ ticket.number }}] 客户回复了工单", "客户回复了工单 {{ ticket.number }}：\n{{ data.body }}"),
        "en": _t("[{{ ticket.number }}] The customer replied",
                 "The customer replied on ticket {{ ticket.number }}:\n{{ data.body }}"),
    },
    "follow_up_due": {
        "zh": _t("[{{ ticket.number }}] 回访到期", "工单 {{ ticket.number }} 的回访已到期，请尽快回访。"),
        "en": _t("[{{ ticket.number }}] Follow-up due",
                 "The follow-up visit for ticket {{ ticket.number }} is due."),
    },
    "low_rating": {
        "zh": _t("[{{ ticket.number }}] 客户差评：产品 {{ data.product_score }} 星，服务 {{ data.service_score }} 星",
                 "工单 {{ ticket.number }}「{{ ticket.title }}」收到低分评价：产品满意度 "
                 "{{ data.product_score }} 星，服务满意度 {{ data.service_score }} 星。"
                 "{% if data.comment %}\n客户意见：{{ data.comment }}{% endif %}\n请尽快回访客户。"),
        "en": _t("[{{ ticket.number }}] Low rating: product {{ data.product_score }}, "
                 "service {{ data.service_score }} stars",
                 "Ticket {{ ticket.number }} \"{{ ticket.title }}\" was rated low: product "
                 "{{ data.product_score }} stars, service {{ data.service_score }} stars."
                 "{% if data.comment %}\nThe customer said: {{ data.comment }}{% endif %}\n"
                 "Please follow up with the customer."),
    },
    "leftover_assigned": {
        "zh": _t("[{{ ticket.number }}] 您是遗留问题的责任人",
                 "工单 {{ ticket.number }}「{{ ticket.title }}」的遗留问题 #{{ data.item.seq }} 由您负责，"
                 "请在 {{ data.item.due_date }} 前解决：\n{{ data.item.description }}\n"
                 "解决计划：{{ data.item.plan }}"),
        "en": _t("[{{ ticket.number }}] You own a leftover issue",
                 "Leftover issue #{{ data.item.seq }} of ticket {{ ticket.number }} "
                 "\"{{ ticket.title }}\" is yours, due {{ data.item.due_date }}:\n"
                 "{{ data.item.description }}\nPlan: {{ data.item.plan }}"),
    },
    "leftover_overdue": {
        "zh": _t("[{{ ticket.number }}] 遗留问题已逾期",
                 "工单 {{ ticket.number }} 的遗留问题 #{{ data.item.seq }}（责任人 "
                 "{{ data.item.owner_name }}）已超过完成期限 {{ data.item.due_date }}"
                 "（逾期 {{ data.days_overdue }} 天），尚未解决：\n{{ data.item.description }}"),
        "en": _t("[{{ ticket.number }}] Leftover issue overdue",
                 "Leftover issue #{{ data.item.seq }} of ticket {{ ticket.number }} (owner "
                 "{{ data.item.owner_name }}) passed its due date {{ data.item.due_date }} "
                 "({{ data.days_overdue }} days ago) and is not done:\n"
                 "{{ data.item.description }}"),
    },
    "sla_warning": {
        "zh": _t("[{{ ticket.number }}] SLA 即将超时", "工单 {{ ticket.number }}（{{ ticket.priority }}）"
                 "的 SLA 即将超时。"),
        "en": _t("[{{ ticket.number }}] SLA about to breach",
                 "Ticket {{ ticket.number }} ({{ ticket.priority }}) is about to breach its SLA."),
    },
    "sla_breached": {
        "zh": _t("[{{ ticket.number }}] SLA 已超时", "工单 {{ ticket.number }}（{{ ticket.priority }}）"
                 "的 SLA 已超时。"),
        "en": _t("[{{ ticket.number }}] SLA breached",
                 "Ticket {{ ticket.number }} ({{ ticket.priority }}) breached its SLA."),
    },
    "dispatch_failed": {
        "zh": _t("[{{ ticket.number }}] 工单无法自动分派", "工单 {{ ticket.number }} 无法自动分派，需要人工处理。"),
        "en": _t("[{{ ticket.number }}] Ticket needs manual dispatch",
                 "Ticket {{ ticket.number }} could not be dispatched automatically."),
    },
    "digest": {
        "zh": {"subject": "{{ digest.company }} 工单每日摘要 {{ digest.date }}",
               "text": _DIGEST_TEXT.format(
                   hello="{{ recipient.name }}，您好：",
                   intro="以下是 {{ digest.company }} 自上次摘要以来的工单动态"
                         "（{{ digest.ticket_count }} 个工单）：{{ digest.counts_text }}。",
                   more="……另有 {{ digest.more }} 条动态未列出，请登录查看。"),
               "html": _DIGEST_HTML.format(
                   hello="{{ recipient.name }}，您好：",
                   intro="以下是 {{ digest.company }} 自上次摘要以来的工单动态"
                         "（{{ digest.ticket_count }} 个工单）：{{ digest.counts_text }}。",
                   more="……另有 {{ digest.more }} 条动态未列出，请登录查看。",
                   all="查看全部工单")},
        "en": {"subject": "Daily ticket digest for {{ digest.company }}, {{ digest.date }}",
               "text": _DIGEST_TEXT.format(
                   hello="Hello {{ recipient.name }},",
                   intro="here is what happened on the tickets of {{ digest.company }} since "
                         "the last digest ({{ digest.ticket_count }} tickets): "
                         "{{ digest.counts_text }}.",
                   more="... and {{ digest.more }} more, not listed: sign in to see them."),
               "html": _DIGEST_HTML.format(
                   hello="Hello {{ recipient.name }},",
                   intro="here is what happened on the tickets of {{ digest.company }} since "
                         "the last digest ({{ digest.ticket_count }} tickets): "
                         "{{ digest.counts_text }}.",
                   more="... and {{ digest.more }} more, not listed: sign in to see them.",
                   all="All tickets")},
    },
    "account_locked": {
        "zh": _t("您的账号已被临时锁定",
                 "由于连续 {{ data.attempts }} 次密码错误，您的账号已被锁定至 {{ data.until_local }}，"
                 "到时自动解锁。如果这不是您本人的操作，请联系管理员并修改密码。"),
        "en": _t("Your account is locked for a while",
                 "After {{ data.attempts }} wrong passwords in a row your account is locked "
                 "until {{ data.until_local }}, then unlocks by itself. If this was not you, "
                 "tell your administrator and change your password."),
    },
    "password_reset": {
        "zh": _t("重置您的密码",
                 "有人（希望是您本人）申请重置您的账号密码。请在 {{ data.minutes }} 分钟内打开下面的链接"
                 "设置新密码，链接只能使用一次：\n{{ data.link }}\n如果不是您本人申请，请忽略本邮件，"
                 "您的密码不会改变。"),
        "en": _t("Reset your password",
                 "Someone (hopefully you) asked to reset the password of your account. Open this "
                 "link within {{ data.minutes }} minutes to choose a new one; it works once:\n"
                 "{{ data.link }}\nIf it was not you, ignore this mail: your password stays "
                 "as it is."),
    },
    "webhook_disabled": {
        "zh": _t("Webhook 已停用", "您的 Webhook {{ data.url }} 连续 {{ data.failures }} 次投递失败，"
                 "已被停用。"),
        "en": _t("Webhook disabled", "Your webhook {{ data.url }} was disabled after "
                 "{{ data.failures }} failed deliveries in a row."),
    },
}

KINDS = tuple(DEFAULTS)

# compiled once at import: a broken shipped template fails the service's start (and tests)
_COMPILED_DEFAULTS = {(kind, lang): compile_template(parts)
                      for kind, langs in DEFAULTS.items() for lang, parts in langs.items()}


def default_compiled(kind, language):
    return _COMPILED_DEFAULTS[(kind, language)]
