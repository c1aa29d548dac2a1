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
