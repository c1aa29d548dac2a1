"""What an export holds: per kind, its columns (header in zh and en, how a cell is written)
and the default choice; the job's states. Pure: no nameko, no sqlalchemy.

Cells show what people read on screen: statuses, types, categories, SLA targets and states
as labels in the requester's language, times in the desk's time zone. A cell a spreadsheet
would run as a formula (starting with = + - @, or a tab / carriage return before one) gets a
leading apostrophe (OWASP "CSV injection").
"""
import datetime as dt

from gongdan_common.labels import label

KINDS = ("tickets", "sla", "engineer_time", "satisfaction")
FORMATS = ("csv", "xlsx")
STATUSES = ("queued", "running", "done", "failed", "expired")
ACTIVE = ("queued", "running")

CATEGORY = {
    "function": ("功能", "Function"), "performance": ("性能", "Performance"),
    "network": ("网络", "Network"), "configuration": ("配置", "Configuration"),
    "consultation": ("咨询", "Consultation"), "permissions": ("权限", "Permissions"),
    "backup": ("备份", "Backup"), "security": ("安全", "Security"),
    "installation": ("安装部署", "Installation"), "other": ("其他", "Other")}
SLA_TARGET = {"completeness": ("完整性检查", "Completeness check"), "response": ("响应", "Response"),
              "resolution": ("解决", "Resolution"), "update": ("进展更新", "Progress update")}
SLA_STATE = {"pending": ("待首次响应", "Awaiting first response"), "running": ("计时中", "Running"),
             "paused": ("已暂停", "Paused"), "met": ("已达成", "Met"),
             "breached": ("已超时", "Breached"), "stopped": ("已停止", "Stopped")}
YES_NO = {True: ("是", "Yes"), False: ("否", "No")}


class Cell:
    """How one value is written: text (default), a label from a vocabulary, a time, a number."""
    TEXT, TIME, NUMBER = "text", "time", "number"

    def __init__(self, kind=TEXT, vocabulary=None, table=None):
        self.kind, self.vocabulary, self.table = kind, vocabulary, table

    def value(self, raw, lang, tz):
        if raw is None or raw == "":
            return None
        if self.kind == Cell.TIME:
            return local_time(raw, tz)
        if self.kind == Cell.NUMBER:
            return raw
        if self.vocabulary:
            return label(self.vocabulary, raw, lang)
        if self.table:
            pair = self.table.get(raw)
            return raw if pair is None else pair[0 if lang == "zh" else 1]
        return raw if isinstance(raw, str) else str(raw)


TEXT, TIME, NUMBER = Cell(), Cell(Cell.TIME), Cell(Cell.NUMBER)

# kind -> [(column, zh header, en header, cell)]; the first `DEFAULTS[kind]` are the default
COLUMNS = {
    "tickets": [
        ("number", "工单编号", "Number", TEXT), ("title", "标题", "Title", TEXT),
        ("type", "工单类型", "Type", Cell(vocabulary="type")),
        ("status", "状态", "Status", Cell(vocabulary="status")),
        ("priority", "优先级", "Priority", TEXT),
        ("product", "产品", "Product", TEXT), ("product_line", "产品线", "Product line", TEXT),
        ("category", "问题分类", "Category", Cell(table=CATEGORY)),
        ("company_name", "客户企业", "Customer", TEXT),
        ("submitter_name", "提交人", "Submitter", TEXT),
        ("handler_name", "处理人", "Handler", TEXT),
        ("created_at", "创建时间", "Created", TIME),
        ("updated_at", "更新时间", "Updated", TIME),
        ("sla_due_at", "SLA 到期时间", "SLA due", TIME),
        ("sla_breached", "SLA 已超时", "SLA breached", Cell(table=YES_NO)),
        ("device_sn", "设备序列号", "Device SN", TEXT), ("region", "区域", "Region", TEXT),
    ],
    "sla": [
        ("ticket_number", "工单编号", "Ticket", TEXT),
        ("priority", "优先级", "Priority", TEXT),
        ("type", "工单类型", "Type", Cell(vocabulary="type")),
        ("target", "SLA 目标", "Target", Cell(table=SLA_TARGET)),
        ("state", "状态", "State", Cell(table=SLA_STATE)),
        ("breached", "已超时", "Breached", Cell(table=YES_NO)),
        ("target_minutes", "目标（工作分钟）", "Target (business minutes)", NUMBER),
        ("spent_minutes", "已用（工作分钟）", "Spent (business minutes)", NUMBER),
        ("due_at", "到期时间", "Due", TIME), ("met_at", "达成时间", "Met at", TIME),
        ("breached_at", "超时时间", "Breached at", TIME),
        ("ticket_created_at", "工单创建时间", "Ticket created", TIME),
    ],
    "engineer_time": [
        ("ticket_number", "工单编号", "Ticket", TEXT),
        ("handler_name", "处理人", "Engineer", TEXT),
        ("started_at", "开始时间", "Start", TIME), ("ended_at", "结束时间", "End", TIME),
        ("minutes", "时长（分钟）", "Minutes", NUMBER),
        ("title", "标题", "Title", TEXT), ("on_site", "现场", "On site", Cell(table=YES_NO)),
        ("product_line", "产品线", "Product line", TEXT),
        ("description", "描述", "Description", TEXT),
    ],
    "satisfaction": [
        ("ticket_number", "工单编号", "Ticket", TEXT), ("title", "标题", "Title", TEXT),
        ("product_score", "产品满意度", "Product stars", NUMBER),
        ("service_score", "服务满意度", "Service stars", NUMBER),
        ("comment", "评价内容", "Comment", TEXT),
        ("product_line", "产品线", "Product line", TEXT),
        ("company_name", "客户企业", "Customer", TEXT),
        ("handler_name", "工程师", "Engineer", TEXT),
        ("rater_name", "评价人", "Rated by", TEXT), ("rated_at", "评价时间", "Rated at", TIME),
    ],
}
DEFAULTS = {"tickets": 13, "sla": 11, "engineer_time": 8, "satisfaction": 10}
# kind -> (owner service, RPC): each owner authorises and filters its own rows, as its
# list or report does
SOURCES = {"tickets": ("intake", "export_tickets"), "satisfaction": ("intake", "export_ratings"),
           "engineer_time": ("worklog", "export_entries"), "sla": ("sla", "export_clocks")}
KIND_TITLES = {"tickets": ("工单列表", "tickets"), "sla": ("SLA报表", "sla"),
               "engineer_time": ("工程师工时", "engineer-time"),
               "satisfaction": ("满意度", "satisfaction")}


def column_names(kind):
    return [c[0] for c in COLUMNS[kind]]


def default_columns(kind):
    return column_names(kind)[:DEFAULTS[kind]]


def unknown_columns(kind, columns):
    known = set(column_names(kind))
    return [c for c in columns if c not in known]


def headers(kind, columns, lang):
    spec = {c[0]: c for c in COLUMNS[kind]}
    return [spec[c][1] if lang == "zh" else spec[c][2] for c in columns]


def row_writer(kind, columns, lang, tz):
    """item dict -> list of cell values (str, number or None) in `columns` order."""
    spec = {c[0]: c[3] for c in COLUMNS[kind]}
    cells = [(c, spec[c]) for c in columns]
    return lambda item: [cell.value(item.get(name), lang, tz) for name, cell in cells]


def local_time(raw, tz):
    """An ISO 8601 instant (UTC when naive) -> 'YYYY-MM-DD HH:MM:SS' in the desk's zone."""
    try:
        at = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    except ValueError:
        return raw
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Text a spreadsheet shows as typed, never evaluates."""
    return "'" + value if value.startswith(FORMULA_START) else value


def file_name(kind, fmt, lang, at):
    """What the browser saves the file as, e.g. 工单列表-20261207-0210.xlsx."""
    title = KIND_TITLES[kind][0 if lang == "zh" else 1]
    return f"{title}-{at.strftime('%Y%m%d-%H%M')}.{fmt}"
