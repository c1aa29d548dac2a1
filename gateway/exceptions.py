"""Errors raised by the gateway itself (accounts, auth, uploads); same shape as services'."""
from gongdan_common.storage import STORAGE_UNAVAILABLE  # noqa: F401 (re-exported)
from gongdan_common.errors import ErrorSpec

UNAUTHENTICATED = ErrorSpec("unauthenticated", 401,
                            "Sign in first: this request has no valid access token.",
                            "请先登录：该请求没有有效的访问令牌。")
TOKEN_EXPIRED = ErrorSpec("token_expired", 401,
                          "Your access token has expired; refresh it or sign in again.",
                          "访问令牌已过期，请刷新令牌或重新登录。")
TOKEN_INVALID = ErrorSpec("token_invalid", 401,
                          "The access token is not valid.", "访问令牌无效。")
SESSION_REVOKED = ErrorSpec("session_revoked", 401,
                            "This session was signed out; sign in again.",
                            "该会话已退出登录，请重新登录。")
REFRESH_INVALID = ErrorSpec("refresh_invalid", 401,
                            "The refresh token is invalid, expired or already used; sign in again.",
                            "刷新令牌无效、已过期或已被使用，请重新登录。")
INVALID_CREDENTIALS = ErrorSpec("invalid_credentials", 401,
                                "Wrong account or password.", "账号或密码错误。")
ACCOUNT_LOCKED = ErrorSpec(
    "account_locked", 423,
    "Your account is locked after {attempts} wrong passwords, until {until} (about {minutes} "
    "min). This is not a wrong-password message: wait, or ask your administrator to unlock it.",
    "连续 {attempts} 次密码错误，您的账号已被锁定，至 {until}（约 {minutes} 分钟后）自动解锁。"
    "这不是密码错误提示：请稍后再试，或联系管理员解锁。")
ACCOUNT_PENDING = ErrorSpec("account_pending", 403,
                            "Your registration is waiting for an administrator's approval.",
                            "您的注册申请正在等待管理员审核。")
ACCOUNT_REJECTED = ErrorSpec("account_rejected", 403,
                             "Your registration was not approved. Contact your administrator.",
                             "您的注册申请未通过审核，请联系管理员。")
ACCOUNT_DISABLED = ErrorSpec("account_disabled", 403,
                             "This account is disabled. Contact your administrator.",
                             "该账号已停用，请联系管理员。")
ACCOUNT_EXISTS = ErrorSpec("account_exists", 409,
                           "An account with this {field} already exists.",
                           "该{field_zh}已被注册。")
USER_NOT_FOUND = ErrorSpec("user_not_found", 404, "User not found.", "用户不存在。")
COMPANY_NOT_FOUND = ErrorSpec("company_not_found", 404, "Company not found.", "企业不存在。")
COMPANY_EXISTS = ErrorSpec("company_exists", 409, "A company named {name} already exists.",
                           "名为 {name} 的企业已存在。")
COMPANY_KIND_MISMATCH = ErrorSpec(
    "company_kind_mismatch", 400,
    "The role “{role}” must belong to a {kind} company.", "角色“{role}”必须归属于{kind}。",
    labels={"kind": "company_kind"})
NOT_PENDING = ErrorSpec("not_pending", 409, "This registration was already reviewed (“{status}”).",
                        "该注册申请已审核（{status}）。", labels={"status": "user_status"})
ROLE_REQUIRED = ErrorSpec("forbidden", 403, "This needs one of these roles: {roles}.",
                          "此操作需要以下角色之一：{roles}。")
SCOPE_REQUIRED = ErrorSpec("forbidden", 403, "This service token lacks the {scope} scope.",
                           "该服务令牌缺少 {scope} 权限。")
RESET_LINK_INVALID = ErrorSpec(
    "reset_link_invalid", 400,
    "This password reset link is not valid: it was already used, has expired or was replaced "
    "by a newer one. Ask for a new link.",
    "该重置密码链接无效：已被使用、已过期或已有更新的链接。请重新申请。")
WRONG_PASSWORD = ErrorSpec("wrong_password", 400, "The current password is wrong.",
                           "当前密码不正确。")
TOKEN_NAME_EXISTS = ErrorSpec("service_token_exists", 409,
                              "A service token named {name} already exists.",
                              "名为 {name} 的服务令牌已存在。")
SERVICE_TOKEN_NOT_FOUND = ErrorSpec("service_token_not_found", 404, "Service token not found.",
                                   "服务令牌不存在。")
TOKEN_COMPANIES_INVALID = ErrorSpec(
    "validation_failed", 400, "These are not customer companies: {ids}.",
    "以下不是客户企业：{ids}。")
CHANNEL_NOT_FOUND = ErrorSpec("channel_not_found", 404,
                              "There is no active IM bridge named {channel}.",
                              "没有名为 {channel} 的已启用 IM 桥接。")
SIGNATURE_INVALID = ErrorSpec(
    "signature_invalid", 401,
    "The Gongdan-Signature header is missing or does not sign this body with the channel's "
    "bridge secret (t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">).",
    "Gongdan-Signature 请求头缺失，或未用该渠道的桥接密钥对请求体签名"
    "（t=<Unix 秒>,v1=<对“<t>.<请求体>”的 HMAC-SHA256 十六进制>）。")
SIGNATURE_STALE = ErrorSpec(
    "signature_stale", 401,
    "The signature's timestamp is more than {seconds} seconds from now: check the bridge's "
    "clock, and sign each request when it is sent.",
    "签名时间戳与当前时间相差超过 {seconds} 秒：请检查桥接程序的时钟，并在发送时签名。")
MESSAGE_IN_PROGRESS = ErrorSpec("message_in_progress", 409,
                                "This message is being handled; retry in a minute.",
                                "该消息正在处理中，请一分钟后重试。")
BINDING_NOT_FOUND = ErrorSpec("binding_not_found", 404, "IM binding not found.",
                              "IM 绑定不存在。")
BINDING_CONFLICT = ErrorSpec("binding_conflict", 409,
                             "This binding was just started elsewhere; try again.",
                             "该绑定刚在别处发起，请重试。")
BODY_TOO_LARGE = ErrorSpec("payload_too_large", 413,
                           "The request body is larger than {limit}.",
                           "请求内容超过了 {limit} 的上限。")
FILE_TOO_LARGE = ErrorSpec("file_too_large", 413,
                           "The file is larger than the {limit} limit.",
                           "文件超过了 {limit} 的大小上限。")
FILE_TYPE_REFUSED = ErrorSpec(
    "file_type_not_allowed", 415,
    "{filename}: {reason} Allowed types: {allowed}.",
    "{filename}：{reason_zh} 允许的类型：{allowed}。")
FILE_MISSING = ErrorSpec("file_missing", 400,
                         "Send the file as multipart field 'file' or as the raw body with "
                         "?filename=.", "请以 multipart 字段 file 上传文件，或以请求体上传并提供 ?filename=。")
BAD_MULTIPART = ErrorSpec("malformed_multipart", 400,
                          "The multipart/form-data body could not be read: {problem}.",
                          "无法解析 multipart/form-data 请求内容：{problem}。")
EMPTY_FILE = ErrorSpec("file_empty", 400, "The file is empty.", "文件为空。")
SERVICE_UNAVAILABLE = ErrorSpec("service_unavailable", 503,
                                "The {service} service is not answering; try again shortly.",
                                "{service} 服务暂时无响应，请稍后重试。")
BAD_JSON = ErrorSpec("malformed_json", 400, "The request body is not valid JSON: {problem}.",
                     "请求内容不是有效的 JSON：{problem}。")
NOT_JSON_OBJECT = ErrorSpec("malformed_json", 400, "The request body must be a JSON object.",
                            "请求内容必须是 JSON 对象。")
UNSUPPORTED_MEDIA = ErrorSpec("unsupported_media_type", 415,
                              "Send JSON with Content-Type: application/json.",
                              "请以 Content-Type: application/json 发送 JSON。")
ROUTE_NOT_FOUND = ErrorSpec("route_not_found", 404, "No such endpoint: {method} {path}.",
                            "接口不存在：{method} {path}。")
METHOD_NOT_ALLOWED = ErrorSpec("method_not_allowed", 405, "{method} is not allowed here.",
                               "此处不允许使用 {method} 方法。")
BAD_QUERY = ErrorSpec("bad_query", 400, "Query parameter {name}: {problem}",
                      "查询参数 {name}：{problem}")
INTERNAL = ErrorSpec("internal_error", 500,
                     "Something went wrong on our side; it has been logged (ref {ref}).",
                     "服务器内部错误，已记录（编号 {ref}）。")
UPLOAD_INCOMPLETE = ErrorSpec("upload_incomplete", 400,
                              "The upload ended early: {got} of {expected} bytes arrived.",
                              "上传未完成：只收到 {got}/{expected} 字节。")
PROVIDER_COMPANY_REQUIRED = ErrorSpec(
    "provider_company_required", 400,
    "A service provider must be a company of kind 'provider' (create it under /admin/companies).",
    "服务商必须是类型为 provider 的企业（请先在 /admin/companies 中创建）。")
ENGINEER_ACCOUNT_REQUIRED = ErrorSpec(
    "engineer_account_required", 400,
    "An engineer must be an approved account with the engineer role in that provider.",
    "工程师必须是该服务商下已审核、角色为 engineer 的账号。")
