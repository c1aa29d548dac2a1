"""Errors notify raises (the shared VALIDATION_FAILED covers field-level bad input)."""
from gongdan_common.errors import ErrorSpec

NOTIFICATION_NOT_FOUND = ErrorSpec("notification_not_found", 404,
                                   "Notification not found: {id}.", "通知不存在：{id}。")
WEBHOOK_NOT_FOUND = ErrorSpec("webhook_not_found", 404, "Webhook not found: {id}.",
                              "Webhook 不存在：{id}。")
DELIVERY_NOT_FOUND = ErrorSpec("delivery_not_found", 404, "Delivery not found: {id}.",
                               "投递记录不存在：{id}。")
RULE_NOT_FOUND = ErrorSpec("rule_not_found", 404, "Notification rule not found: {id}.",
                           "通知规则不存在：{id}。")
TEMPLATE_NOT_FOUND = ErrorSpec("template_not_found", 404,
                               "No template {kind} in language {language}.",
                               "没有语言为 {language} 的模板 {kind}。")
ADMIN_ONLY = ErrorSpec("forbidden", 403, "Only an administrator may do this.",
                       "只有系统管理员可以执行此操作。")
WEBHOOK_FORBIDDEN = ErrorSpec("forbidden", 403,
                              "Only administrators and internal systems (service tokens) may "
                              "manage webhooks, and only their own.",
                              "只有系统管理员和内部系统（服务令牌）可以管理 Webhook，且只能管理自己的。")
PEOPLE_ONLY = ErrorSpec("forbidden", 403, "Only a signed-in person has an inbox.",
                        "只有登录用户才有收件箱。")
DIGEST_NOT_AVAILABLE = ErrorSpec("digest_not_available", 403,
                                 "Only a customer company's administrator can receive the "
                                 "daily digest (it is about the company's tickets).",
                                 "只有客户企业管理员可以订阅每日摘要（摘要内容为企业的工单动态）。")
ROBOT_NOT_FOUND = ErrorSpec("robot_not_found", 404, "Robot not found: {id}.",
                            "机器人不存在：{id}。")
ROBOT_FORBIDDEN = ErrorSpec("forbidden", 403,
                            "Robots are kept by administrators, and by a customer company's or "
                            "a provider's administrator for their own company.",
                            "机器人由系统管理员管理；企业管理员和服务商管理员可管理本企业的机器人。")
ROBOT_OWNER_REQUIRED = ErrorSpec("validation_failed", 400,
                                 "Name the company the robot belongs to (owner_kind, owner_id).",
                                 "请指定机器人所属的企业（owner_kind、owner_id）。")
URL_REFUSED = ErrorSpec("webhook_url_refused", 400, "{reason}", "{reason_zh}")
TEMPLATE_INVALID = ErrorSpec("template_invalid", 400,
                             "The template cannot be used; nothing was saved.",
                             "模板无法使用，未保存。")
DIRECTORY_UNAVAILABLE = ErrorSpec("directory_unavailable", 503,
                                  "The account directory did not answer in time.",
                                  "账户目录暂时没有响应。")
