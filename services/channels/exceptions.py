"""Errors channels raises; the gateway maps them through the shared AppError shape
`{error: {code, message, details}}` with the status each carries."""
from gongdan_common.errors import ErrorSpec

MAILBOX_NOT_FOUND = ErrorSpec("mailbox_not_found", 404, "Mailbox not found.", "邮箱不存在。")
MAILBOX_EXISTS = ErrorSpec("mailbox_exists", 409,
                           "A mailbox with this name or address exists already.",
                           "已存在同名或同地址的邮箱。")
MAIL_NOT_FOUND = ErrorSpec("mail_not_found", 404, "Mail not found.", "邮件不存在。")
MAIL_NOT_HELD = ErrorSpec("mail_not_held", 409,
                          "Only a held-aside mail can be retried or discarded; this one is {status}.",
                          "只有被搁置的邮件可以重试或丢弃；该邮件当前状态为 {status}。")
ADMIN_ONLY = ErrorSpec("forbidden", 403, "Only an administrator may manage mail channels.",
                       "只有系统管理员可以管理邮件渠道。")
