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
FIELDS_NOT_EDITABLE = ErrorSpec(
    "fields_not_editable", 403,
    "These fields cannot be changed by you in status {status}: {fields}.",
    "当前状态（{status}）下您不能修改这些字段：{fields}。")
NOTE_NOT_ALLOWED = ErrorSpec("internal_note_forbidden", 403,
                             "Only support staff can write internal notes.",
                             "只有支持人员可以添加内部备注。")
TICKET_CLOSED = ErrorSpec("ticket_closed", 409,
                          "The ticket is {status}; it no longer accepts this.",
                          "工单已处于“{status}”状态，不能再执行此操作。")
STALE_VERSION = ErrorSpec("stale_version", 409,
                          "The ticket was changed by someone else; reload and try again.",
                          "工单已被他人修改，请刷新后重试。")

TRANSITION_ERRORS = {
    "unknown_action": ErrorSpec("unknown_action", 400, "Unknown action: {action}.",
                                "未知操作：{action}。"),
    "role_not_allowed": ErrorSpec("forbidden", 403,
                                  "You are not allowed to {action} this ticket.",
                                  "您无权对该工单执行“{action}”。"),
    "illegal_transition": ErrorSpec("illegal_transition", 409,
                                    "Cannot {action} a ticket whose status is {status}.",
                                    "状态为“{status}”的工单不能执行“{action}”。"),
    "work_started": ErrorSpec("illegal_transition", 409,
                              "Work has already started on this ticket; it can no longer be "
                              "cancelled.", "该工单已开始处理，不能再取消。"),
    "reason_required": ErrorSpec("reason_required", 400,
                                 "A reason is required to {action}.",
                                 "执行“{action}”需要填写原因。"),
}
