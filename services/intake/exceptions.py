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
LEFTOVER_NOT_FOUND = ErrorSpec("leftover_item_not_found", 404, "Leftover item not found.",
                               "遗留问题不存在。")
LEFTOVER_ERRORS = {
    "not_allowed": ErrorSpec("forbidden", 403,
                             "Only the item's owner, the ticket's engineer or provider, or the "
                             "support desk may do this to a leftover item.",
                             "只有遗留问题的责任人、工单的处理工程师或服务商、或支持人员可以执行此操作。"),
    "ticket_open": ErrorSpec("ticket_not_closed", 409,
                             "Leftover items are recorded when a ticket is resolved or closed; "
                             "this ticket is “{status}”.",
                             "遗留问题在工单解决或关闭时登记；该工单当前状态为“{status}”。"),
    "item_final": ErrorSpec("leftover_item_final", 409,
                            "This leftover item is already “{status}”; it takes no more changes.",
                            "该遗留问题已是“{status}”状态，不能再修改。",
                            labels={"status": "leftover_status"}),
    "due_in_past": ErrorSpec("due_date_in_past", 400,
                             "The due date {due_date} has already passed; choose today or later.",
                             "完成期限 {due_date} 已过，请选择今天或以后的日期。"),
    "too_many": ErrorSpec("too_many_leftover_items", 400,
                          "A ticket has at most {max} leftover items.",
                          "一个工单最多登记 {max} 项遗留问题。"),
    "nothing_to_update": ErrorSpec("nothing_to_update", 400,
                                   "Nothing to update: give a note, a percentage, a plan, a due "
                                   "date or an owner.",
                                   "没有需要更新的内容：请填写进展说明、进度、解决计划、完成期限或责任人。"),
    "reason_required": ErrorSpec("reason_required", 400,
                                 "Say why the leftover item is cancelled.",
                                 "取消遗留问题需要填写原因。"),
    "owner_unknown": ErrorSpec("owner_not_allowed", 400,
                               "The owner must be an active engineer, provider admin, agent or "
                               "admin you may name.",
                               "责任人必须是您可以指定的在职工程师、服务商管理员、支持人员或管理员。"),
}

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

# ---- tags, list settings, saved views, bulk actions (issue 14) -----------------------------
TAGS_STAFF_ONLY = ErrorSpec("tags_staff_only", 403,
                            "Tags are the support staff's own labels; only staff can see, "
                            "change or filter by them.",
                            "标签是支持人员的内部标记，只有工作人员可以查看、修改或按标签筛选。")
TOO_MANY_TAGS = ErrorSpec("too_many_tags", 409,
                          "A ticket can carry at most {limit} tags; remove some first.",
                          "每个工单最多 {limit} 个标签，请先移除一些。")
VIEW_NOT_FOUND = ErrorSpec("view_not_found", 404, "Saved view not found.", "保存的视图不存在。")
VIEW_SHARE_FORBIDDEN = ErrorSpec("view_share_forbidden", 403,
                                 "Only the support desk (agents and administrators) can share "
                                 "a view with the desk.",
                                 "只有支持台（工单处理员和管理员）可以共享视图。")
VIEW_NOT_OWNER = ErrorSpec("view_not_owner", 403,
                           "Only whoever created this view can change or delete it.",
                           "只有视图的创建者可以修改或删除它。")
TOO_MANY_VIEWS = ErrorSpec("too_many_views", 409,
                           "You already have {limit} saved views; delete one first.",
                           "您已保存 {limit} 个视图，请先删除一个。")
BULK_ACTION_FORBIDDEN = ErrorSpec("bulk_action_forbidden", 403,
                                  "Your role may not do this in bulk: “{action}”.",
                                  "您的角色无权批量执行“{action}”。",
                                  labels={"action": "bulk_action"})
BULK_TICKETS_REFUSED = ErrorSpec(
    "bulk_tickets_refused", 403,
    "Nothing was changed: you cannot act on these tickets (not found, or not yours): "
    "{tickets}.",
    "未做任何修改：以下工单不存在或您无权操作：{tickets}。")
BULK_IN_PROGRESS = ErrorSpec("bulk_in_progress", 409,
                             "A bulk action with this Idempotency-Key is still running; ask "
                             "again in a moment for its results.",
                             "使用该 Idempotency-Key 的批量操作仍在进行中，请稍后再查询结果。")
REPORTS_NOT_ALLOWED = ErrorSpec(
    "reports_forbidden", 403,
    "Reports are for support staff, providers and company administrators.",
    "报表仅供支持人员、服务商和企业管理员查看。")
REPORT_RANGE = ErrorSpec("report_range_invalid", 400,
                         "The report's period is not valid.",
                         "报表的时间范围无效。")
