"""Errors sla raises; the gateway maps them through the shared AppError shape."""
from gongdan_common.errors import ErrorSpec

TIMER_NOT_FOUND = ErrorSpec("timer_not_found", 404, "Timer not found.", "定时器不存在。")
CALENDAR_NOT_FOUND = ErrorSpec("calendar_not_found", 404, "Business calendar not found.",
                               "工作日历不存在。")
POLICY_NOT_FOUND = ErrorSpec("policy_not_found", 404, "SLA policy not found.",
                             "SLA 策略不存在。")
NO_POLICY = ErrorSpec("sla_policy_not_matched", 404,
                      "No SLA policy matches this ticket (company, type, priority).",
                      "没有与该工单（客户、类型、优先级）匹配的 SLA 策略。")
NO_CLOCKS = ErrorSpec("sla_not_started", 404,
                      "No SLA clock has started for this ticket yet.",
                      "该工单的 SLA 计时尚未开始。")
NAME_TAKEN = ErrorSpec("name_taken", 409, "The name '{name}' is already used.",
                       "名称“{name}”已被使用。")
CALENDAR_IN_USE = ErrorSpec("calendar_in_use", 409,
                            "The calendar is used by policies: {names}.",
                            "该日历仍被以下策略使用：{names}。")
ADMIN_ONLY = ErrorSpec("admin_only", 403, "Only an administrator may do this.",
                       "仅系统管理员可以执行此操作。")
STAFF_ONLY = ErrorSpec("staff_only", 403, "Only support staff may see this.",
                       "仅支持人员可以查看。")
POLICY_MATCHES_NOTHING = ErrorSpec(
    "policy_matches_nothing", 400,
    "The policy can never match a ticket: {why}.", "该策略不会匹配任何工单：{why_zh}。")
NO_TARGET = ErrorSpec("policy_without_target", 400,
                      "A policy needs at least one target (completeness, response, "
                      "resolution or update minutes).",
                      "策略至少需要一个时限（完整性检查、响应、解决或进展更新分钟数）。")

# calendar.CalendarError keys -> errors
CALENDAR_ERRORS = {
    "unknown_time_zone": ErrorSpec("unknown_time_zone", 400, "Unknown time zone '{tz}'.",
                                   "未知时区“{tz}”。"),
    "bad_time": ErrorSpec("bad_time", 400, "'{value}' is not a time of day (HH:MM).",
                          "“{value}”不是有效的时刻（HH:MM）。"),
    "bad_range": ErrorSpec("bad_hours", 400, "{day}: a range is [start, end], got {value}.",
                           "{day}：时间段应为 [开始, 结束]，收到 {value}。"),
    "inverted_hours": ErrorSpec("inverted_hours", 400,
                                "{day}: working hours end ({end}) before they start ({start}).",
                                "{day}：工作时间结束（{end}）早于开始（{start}）。"),
    "overlapping_hours": ErrorSpec("overlapping_hours", 400,
                                   "{day}: working hours {first} and {second} overlap.",
                                   "{day}：工作时间 {first} 与 {second} 重叠。"),
    "bad_weekday": ErrorSpec("bad_weekday", 400,
                             "Unknown weekday '{value}' (use mon tue wed thu fri sat sun).",
                             "未知星期“{value}”（请用 mon tue wed thu fri sat sun）。"),
    "never_open": ErrorSpec("calendar_never_open", 400,
                            "The calendar has no working hours at all.",
                            "该日历没有任何工作时间。"),
    "inverted_closure": ErrorSpec("inverted_closure", 400,
                                  "A closure ends ({end}) before it starts ({start}).",
                                  "停工时段的结束（{end}）早于开始（{start}）。"),
    "bad_instant": ErrorSpec("bad_instant", 400, "'{value}' is not an ISO 8601 instant.",
                             "“{value}”不是 ISO 8601 时间。"),
    "bad_date": ErrorSpec("bad_date", 400, "'{value}' is not a date (YYYY-MM-DD).",
                          "“{value}”不是日期（YYYY-MM-DD）。"),
    "negative_duration": ErrorSpec("negative_duration", 400,
                                   "A duration cannot be negative.", "时长不能为负数。"),
}
