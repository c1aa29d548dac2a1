"""Errors dispatch raises; the gateway maps them through the shared AppError shape.

Bad input is the shared VALIDATION_FAILED (400, per-field messages) from
`gongdan_common.validation.load`.
"""
from gongdan_common.errors import ErrorSpec

PROVIDER_NOT_FOUND = ErrorSpec("provider_not_found", 404,
                               "Service provider not found: {provider_id}.",
                               "服务商不存在：{provider_id}。")
ENGINEER_NOT_FOUND = ErrorSpec("engineer_not_found", 404,
                               "Engineer not found: {engineer_id}.",
                               "工程师不存在：{engineer_id}。")
NOT_ALLOWED = ErrorSpec("forbidden", 403,
                        "Only an administrator, or the administrator of this service provider, "
                        "may do this.",
                        "只有系统管理员或该服务商的管理员可以执行此操作。")
REGISTER_ADMIN_ONLY = ErrorSpec("forbidden", 403,
                                "Only an administrator can add a service provider.",
                                "只有系统管理员可以新增服务商。")
FIELDS_ADMIN_ONLY = ErrorSpec("forbidden", 403,
                              "Only an administrator can change these provider fields: {fields}.",
                              "只有系统管理员可以修改服务商的这些字段：{fields}。")
CERTIFICATE_CONFLICT = ErrorSpec(
    "certificate_conflict", 409,
    "Certificate {certificate_no} is already recorded for this engineer with other details.",
    "该工程师已登记证书 {certificate_no}，且内容不同。")

# ---- tickets ------------------------------------------------------------------------------
TICKET_NOT_FOUND = ErrorSpec("ticket_not_found", 404, "Ticket not found: {ticket_id}.",
                             "工单不存在：{ticket_id}。")
INTAKE_UNAVAILABLE = ErrorSpec(
    "intake_unavailable", 503,
    "The ticket service did not answer in time; please try again shortly.",
    "工单服务暂时没有响应，请稍后重试。")

# ---- who may assign -----------------------------------------------------------------------
ASSIGN_FORBIDDEN = ErrorSpec(
    "forbidden", 403,
    "Only the support desk, an administrator or a service provider's administrator may "
    "assign tickets.",
    "只有工单处理员、系统管理员或服务商管理员可以指派工单。")
INSTALLATION_LOCKED = ErrorSpec(
    "installation_locked", 403,
    "Installation tickets are dispatched automatically; a service provider can neither change "
    "nor cancel their assignment. Please ask the support desk.",
    "安装工单由系统自动下发，服务商无权变更或取消其指派，请联系工单处理员。")
PROVIDER_TYPE_FORBIDDEN = ErrorSpec(
    "provider_type_forbidden", 403,
    "A service provider assigns only repair and inspection tickets; this ticket's type is "
    "“{type}”.",
    "服务商只能指派维修工单和巡检工单；该工单类型为“{type}”。")
NOT_YOUR_TICKET = ErrorSpec(
    "not_your_ticket", 403,
    "This ticket is not with your service provider.",
    "该工单不在您所在的服务商名下。")
OTHER_PROVIDER = ErrorSpec(
    "engineer_of_other_provider", 403,
    "Engineer {engineer} works for another service provider; you can only assign your own "
    "engineers.",
    "工程师 {engineer} 属于其他服务商；您只能指派本服务商的工程师。")

# ---- the ticket's state -------------------------------------------------------------------
NOT_ASSIGNABLE = ErrorSpec(
    "not_assignable", 409,
    "The ticket is “{status}”; only new tickets or tickets waiting for information can be "
    "assigned.",
    "工单当前为“{status}”状态；只有新建或待补充信息的工单可以指派。")
NOT_REASSIGNABLE = ErrorSpec(
    "not_reassignable", 409,
    "The ticket is “{status}”; only assigned or in-progress tickets can be re-assigned.",
    "工单当前为“{status}”状态；只有已指派或处理中的工单可以变更指派。")
NOT_UNASSIGNABLE = ErrorSpec(
    "not_unassignable", 409,
    "The ticket is “{status}”; an assignment can only be cancelled before work starts.",
    "工单当前为“{status}”状态；只有在开始处理之前才能取消指派。")
ALREADY_ASSIGNED = ErrorSpec(
    "already_assigned", 409,
    "The ticket is already assigned to {engineer}; re-assign it instead.",
    "该工单已指派给 {engineer}，请使用变更指派。")
NOT_ASSIGNED = ErrorSpec("not_assigned", 409, "The ticket is not assigned to anyone.",
                         "该工单尚未指派给任何人。")
SAME_ENGINEER = ErrorSpec("same_engineer", 409, "The ticket is already assigned to {engineer}.",
                          "该工单已指派给 {engineer}。")
STALE_ASSIGNMENT = ErrorSpec(
    "stale_assignment", 409,
    "The ticket's assignment has changed since you looked (now: {current}); reload and try "
    "again.",
    "工单的指派已被他人更改（当前：{current}），请刷新后重试。")
ASSIGNMENT_CONFLICT = ErrorSpec(
    "assignment_conflict", 409,
    "Someone else changed this ticket's assignment at the same moment; reload and try again.",
    "其他人同时更改了该工单的指派，请刷新后重试。")

# ---- is the engineer qualified now --------------------------------------------------------
ENGINEER_ON_LEAVE = ErrorSpec("engineer_on_leave", 409, "Engineer {engineer} is on leave.",
                              "工程师 {engineer} 正在休假。")
PROVIDER_INACTIVE = ErrorSpec(
    "provider_inactive", 409,
    "The engineer's service provider ({provider}) is not active.",
    "该工程师所在的服务商（{provider}）已停用。")
NOT_CERTIFIED = ErrorSpec(
    "engineer_not_certified", 409,
    "Engineer {engineer} holds no certification for product line {product_line}.",
    "工程师 {engineer} 没有产品线 {product_line} 的认证。")
CERTIFICATION_EXPIRED = ErrorSpec(
    "certification_expired", 409,
    "Engineer {engineer}'s certification for {product_line} expired on {valid_until}.",
    "工程师 {engineer} 的 {product_line} 认证已于 {valid_until} 到期。")
CERTIFICATION_NOT_YET_VALID = ErrorSpec(
    "certification_not_yet_valid", 409,
    "Engineer {engineer}'s certification for {product_line} is valid only from {valid_from}.",
    "工程师 {engineer} 的 {product_line} 认证自 {valid_from} 起才生效。")

# ---- offers -------------------------------------------------------------------------------
OFFER_NOT_FOUND = ErrorSpec("offer_not_found", 404, "Offer not found: {offer_id}.",
                            "派单邀请不存在：{offer_id}。")
OFFER_FORBIDDEN = ErrorSpec(
    "forbidden", 403,
    "Only the administrator of the service provider the ticket was offered to may answer.",
    "只有被派单的服务商管理员可以响应该派单。")
OFFER_DESK_ONLY = ErrorSpec(
    "forbidden", 403, "Only the support desk or an administrator offers tickets to providers.",
    "只有工单处理员或系统管理员可以向服务商派单。")
OFFER_NOT_PENDING = ErrorSpec("offer_not_pending", 409, "This offer is already “{status}”.",
                              "该派单已是“{status}”状态。",
                              labels={"status": "offer_status"})
OFFER_PENDING = ErrorSpec(
    "offer_pending", 409,
    "The ticket is already offered to {provider} until {due_at}.",
    "该工单已派给 {provider}，等待其在 {due_at} 前响应。")
NOT_OFFERABLE = ErrorSpec(
    "not_offerable", 409,
    "Only repair and inspection tickets are offered to service providers; this ticket's type "
    "is “{type}”.",
    "只有维修工单和巡检工单会派给服务商；该工单类型为“{type}”。")
NO_PROVIDER_LEFT = ErrorSpec(
    "no_provider_left", 409,
    "No other active service provider with an engineer qualified for {product_line} covers "
    "this ticket.",
    "没有其他覆盖该工单、且有 {product_line} 认证工程师的有效服务商。")
PROVIDER_NOT_QUALIFIED = ErrorSpec(
    "provider_not_qualified", 409,
    "Service provider {provider} has no engineer qualified for {product_line} today.",
    "服务商 {provider} 今天没有具备 {product_line} 资质的工程师。")

# ---- routing rules ------------------------------------------------------------------------
RULE_NOT_FOUND = ErrorSpec("rule_not_found", 404, "Routing rule not found: {rule_id}.",
                           "分派规则不存在：{rule_id}。")
RULES_ADMIN_ONLY = ErrorSpec("forbidden", 403, "Only an administrator manages routing rules.",
                             "只有系统管理员可以管理分派规则。")
READ_FORBIDDEN = ErrorSpec("forbidden", 403, "You may not see this.", "您无权查看此内容。")

# domain.Refused keys -> errors
REFUSALS = {
    "forbidden": ASSIGN_FORBIDDEN, "installation_locked": INSTALLATION_LOCKED,
    "provider_type_forbidden": PROVIDER_TYPE_FORBIDDEN, "not_your_ticket": NOT_YOUR_TICKET,
    "other_provider": OTHER_PROVIDER, "not_assignable": NOT_ASSIGNABLE,
    "not_reassignable": NOT_REASSIGNABLE, "not_unassignable": NOT_UNASSIGNABLE,
    "already_assigned": ALREADY_ASSIGNED, "not_assigned": NOT_ASSIGNED,
    "same_engineer": SAME_ENGINEER, "stale_assignment": STALE_ASSIGNMENT,
    "on_leave": ENGINEER_ON_LEAVE, "provider_inactive": PROVIDER_INACTIVE,
    "not_certified": NOT_CERTIFIED, "certification_expired": CERTIFICATION_EXPIRED,
    "certification_not_yet_valid": CERTIFICATION_NOT_YET_VALID,
    "offer_forbidden": OFFER_FORBIDDEN, "offer_not_pending": OFFER_NOT_PENDING,
}


def refused(refusal, **extra):
    """domain.Refused -> AppError; the rule's parameters also go to `details`."""
    params = dict(refusal.params, **extra)
    details = {"reason": refusal.key, **params}
    return REFUSALS[refusal.key](details=details, **params)
