"""Errors intake raises; the gateway maps them through the shared AppError shape."""
from gongdan_common.errors import ErrorSpec

TICKET_NOT_FOUND = ErrorSpec("ticket_not_found", 404,
                             "Ticket not found.", "工单不存在。")
ATTACHMENT_NOT_FOUND = ErrorSpec("attachment_not_found", 404,
                                 "Attachment not found.", "附件不存在。")
PRODUCT_UNKNOWN = ErrorSpec("product_unknown", 400,
                            "Unknown or inactive product: {product}.",
                            "产品不存在或已停用：{product}。")
PRODUCT_EXISTS = ErrorSpec("product_exists", 409,
                           "A product with code {code} already exists.",
                           "产品编码 {code} 已存在。")
NOT_ALLOWED = ErrorSpec("forbidden", 403,
                        "Your role may not do this on this ticket.",
                        "您的角色无权对该工单执行此操作。")
COMPANY_REQUIRED = ErrorSpec("company_required", 400,
                             "Staff creating a ticket must name the customer company (company_id).",
                             "工作人员代客户提交工单时必须指定客户企业（company_id）。")
COMPANY_NOT_ALLOWED = ErrorSpec(
    "company_not_allowed", 403,
    "This service token may not open tickets for that company; an administrator lists the "
    "companies it may file for.",
    "该服务令牌无权为该企业提交工单；可提交的企业由管理员在令牌上配置。")
FIELDS_NOT_EDITABLE = ErrorSpec(
    "fields_not_editable", 403,
    "These fields cannot be changed by you in status “{status}”: {fields}.",
    "当前状态（{status}）下您不能修改这些字段：{fields}。")
NOTE_NOT_ALLOWED = ErrorSpec("internal_note_forbidden", 403,
                             "Only support staff can write internal notes.",
                             "只有支持人员可以添加内部备注。")
TICKET_CLOSED = ErrorSpec("ticket_closed", 409,
                          "The ticket is “{status}”; it no longer accepts this.",
                          "工单已处于“{status}”状态，不能再执行此操作。")
STALE_VERSION = ErrorSpec("stale_version", 409,
                          "The ticket was changed by someone else; reload and try again.",
                          "工单已被他人修改，请刷新后重试。")
REQUEST_KEY_USED = ErrorSpec("request_key_used", 409,
                             "This request key was already used on this ticket by someone else.",
                             "该请求标识已被他人在此工单上使用。")

ROOT_CAUSE_UNKNOWN = ErrorSpec("root_cause_unknown", 400,
                               "Unknown root cause {code}; choose one from the list.",
                               "根本原因 {code} 不在列表中，请从列表中选择。")
REPORTS_MISSING = ErrorSpec(
    "reports_missing", 409,
    "A ticket of type “{type}” cannot be closed without: {missing}. Upload them as "
    "attachments of that kind first.",
    "{type}工单关闭前必须上传：{missing}。请先以相应类型上传附件。")
VISIT_TIME_REQUIRED = ErrorSpec("visit_time_required", 400,
                                "Field work needs the on-site visit time (visited_at).",
                                "现场服务工单需要填写上门时间（visited_at）。")
PLANNED_END_PAST = ErrorSpec("planned_end_in_past", 400,
                             "The planned end of a suspension must be in the future.",
                             "挂起的计划结束时间必须晚于当前时间。")
ALREADY_RATED = ErrorSpec("already_rated", 409,
                          "This resolution has already been rated.",
                          "本次处理结果已经评价过了。")
NOT_RATEABLE = ErrorSpec("not_rateable", 409,
                         "Only a resolved or closed ticket can be rated, by whoever submitted it.",
                         "只有提交人可以对已解决或已关闭的工单进行评价。")
REPORT_KIND_STAFF_ONLY = ErrorSpec("report_kind_forbidden", 403,
                                   "Only the engineer or the desk can upload closing reports.",
                                   "只有工程师或支持人员可以上传关闭报告。")
FOLLOW_UP_NOT_FOUND = ErrorSpec("follow_up_not_found", 404, "Follow-up not found.",
                                "回访任务不存在。")
ROOT_CAUSE_EXISTS = ErrorSpec("root_cause_exists", 409, "Root cause {code} already exists.",
                              "根本原因 {code} 已存在。")

TRANSITION_ERRORS = {
    "unknown_action": ErrorSpec("unknown_action", 400, "Unknown action: “{action}”.",
                                "未知操作：{action}。"),
    "role_not_allowed": ErrorSpec("forbidden", 403,
                                  "You are not allowed to do this to the ticket: “{action}”.",
                                  "您无权对该工单执行“{action}”。"),
    "illegal_transition": ErrorSpec("illegal_transition", 409,
                                    "“{action}” is not possible for a ticket in status “{status}”.",
                                    "“{action}”不适用于状态为“{status}”的工单。"),
    "work_started": ErrorSpec("illegal_transition", 409,
                              "Work has already started on this ticket; it can no longer be "
                              "cancelled.", "该工单已开始处理，不能再取消。"),
    "not_handler": ErrorSpec("not_handler", 403,
                             "Only the engineer this ticket is assigned to can do this: “{action}”.",
                             "只有该工单的处理工程师可以执行“{action}”。"),
    "reason_required": ErrorSpec("reason_required", 400,
                                 "A reason is required for “{action}”.",
                                 "执行“{action}”需要填写原因。"),
}
REPORTS_NOT_ALLOWED = ErrorSpec(
    "reports_forbidden", 403,
    "Reports are for support staff, providers and company administrators.",
    "报表仅供支持人员、服务商和企业管理员查看。")
REPORT_RANGE = ErrorSpec("report_range_invalid", 400,
                         "The report's period is not valid.",
                         "报表的时间范围无效。")
