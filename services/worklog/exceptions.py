"""Errors worklog raises; the gateway maps them through the shared AppError shape
`{error: {code, message, details}}` with the status each carries."""
from gongdan_common.errors import VALIDATION_FAILED, ErrorSpec

TICKET_NOT_FOUND = ErrorSpec("ticket_not_found", 404, "Ticket not found.", "工单不存在。")
ENTRY_NOT_FOUND = ErrorSpec("worklog_entry_not_found", 404,
                            "Work-log entry not found.", "处理日志不存在。")
ROLE_CANNOT_WRITE = ErrorSpec(
    "forbidden", 403,
    "Your role (“{role}”) may read a ticket's work log but not write it.",
    "您的角色（{role}）只能查看工单处理日志，不能录入或修改。")
NOT_HANDLER = ErrorSpec(
    "not_handler", 403,
    "Only the ticket's current handler (or the support desk) can write its work log.",
    "只有工单当前处理人（或支持人员）可以录入处理日志。")
NOT_AUTHOR = ErrorSpec(
    "not_author", 403,
    "Only the entry's author (or the support desk) can change or delete it.",
    "只有日志录入人（或支持人员）可以修改或删除该处理日志。")
HANDLER_IS_SELF = ErrorSpec(
    "forbidden", 403,
    "Engineers log their own work; only the support desk may name another handler.",
    "工程师只能录入本人的处理日志；只有支持人员可以指定其他处理人。")
WRONG_STATUS = ErrorSpec(
    "ticket_not_in_progress", 409,
    "Work can be logged only while the ticket is in progress; this ticket is “{status}”.",
    "只有“处理中”的工单可以录入或修改处理日志；该工单当前状态为“{status}”。")
REPORT_FORBIDDEN = ErrorSpec(
    "forbidden", 403,
    "You may see only your own time (engineers) or your provider's (provider admins).",
    "工程师只能查看本人的工时，服务商接口人只能查看本服务商的工时。")
STALE_ENTRY = ErrorSpec(
    "stale_version", 409,
    "The entry was changed by someone else; reload and try again.",
    "该处理日志已被他人修改，请刷新后重试。")
INTAKE_UNAVAILABLE = ErrorSpec(
    "service_unavailable", 503,
    "The ticket service did not answer in time; try again shortly.",
    "工单服务暂时无响应，请稍后重试。")

_REFUSALS = {"role_cannot_write": ROLE_CANNOT_WRITE, "not_handler": NOT_HANDLER,
             "not_author": NOT_AUTHOR, "handler_is_self": HANDLER_IS_SELF,
             "wrong_status": WRONG_STATUS, "report_forbidden": REPORT_FORBIDDEN}


def refused(err):
    """domain.Refused -> AppError."""
    params = dict(err.params)
    if err.key == "wrong_status":
        status = params.get("status") or "unknown"
        return WRONG_STATUS(details={"status": status}, status=status)
    return _REFUSALS[err.key](**params)


TIME_MESSAGES = {
    "in_future": ("Cannot be in the future.", "不能晚于当前时间。"),
    "not_after_start": ("The end must be after the start.", "结束时间必须晚于开始时间。"),
    "too_long": ("One entry may cover at most {hours} hours; split longer work.",
                 "单条日志最长 {hours} 小时，更长的工作请分多条录入。"),
    "before_ticket": ("Cannot be before the ticket was created ({created_at}).",
                      "不能早于工单创建时间（{created_at}）。"),
    "period_empty": ("'to' must be after 'from'.", "结束时间（to）必须晚于开始时间（from）。"),
    "period_too_long": ("A report may cover at most {days} days.", "统计区间最长 {days} 天。"),
}


def invalid_times(err):
    """domain.InvalidTimes -> the shared 400 validation error with per-field messages."""
    fields = {}
    for name, problems in err.problems.items():
        fields[name] = [{"en": TIME_MESSAGES[key][0].format(**params),
                         "zh": TIME_MESSAGES[key][1].format(**params)}
                        for key, params in problems]
    return VALIDATION_FAILED(details={"fields": fields})
