"""Errors kb raises; the gateway maps them through the shared AppError shape
`{error: {code, message, details}}` with the status each carries."""
from gongdan_common.errors import ErrorSpec

ARTICLE_NOT_FOUND = ErrorSpec("article_not_found", 404, "Article not found.", "知识库文章不存在。")
VERSION_NOT_FOUND = ErrorSpec("article_version_not_found", 404,
                              "This version of the article does not exist.", "该文章版本不存在。")
SESSION_NOT_FOUND = ErrorSpec("suggestion_session_not_found", 404,
                              "Suggestion session not found.", "推荐记录不存在。")
FILE_NOT_FOUND = ErrorSpec("article_file_not_found", 404, "File not found.", "文件不存在。")
CANNOT_WRITE = ErrorSpec(
    "forbidden", 403, "Your role (“{role}”) may read knowledge-base articles but not write them.",
    "您的角色（{role}）只能阅读知识库文章，不能编写。")
NOT_AUTHOR = ErrorSpec(
    "not_author", 403,
    "Only the article's author or the support desk (agent, admin) may change it.",
    "只有文章作者或支持人员（工单处理员、管理员）可以修改该文章。")
DESK_ONLY = ErrorSpec(
    "forbidden", 403, "Only the support desk (agent, admin) may {action} articles.",
    "只有支持人员（工单处理员、管理员）可以{action}文章。", labels={"action": "article_action"})
WRONG_STATUS = ErrorSpec(
    "article_wrong_status", 409, "An article that is “{status}” cannot be {action}.",
    "“{status}”状态的文章不能{action}。",
    labels={"status": "article_status", "action": "article_done"})
CUSTOMER_SCOPE = ErrorSpec(
    "forbidden", 403, "Customers can search public, published articles only.",
    "客户只能搜索已发布的公开文章。")
REPORT_FORBIDDEN = ErrorSpec(
    "forbidden", 403, "Only the support desk may see knowledge-base reports.",
    "只有支持人员可以查看知识库报表。")
STALE_ARTICLE = ErrorSpec(
    "stale_version", 409, "The article was changed by someone else (now version {current}); "
    "reload and try again.", "该文章已被他人修改（当前为第 {current} 版），请刷新后重试。")
TICKET_NOT_SOLVED = ErrorSpec(
    "ticket_not_solved", 409,
    "An article can be written from a ticket once it is resolved or closed.",
    "工单解决或关闭后才能据此编写知识库文章。")
SYNONYM_NOT_FOUND = ErrorSpec("synonym_group_not_found", 404, "Dictionary entry not found.",
                              "词典条目不存在。")
DICTIONARY_ADMIN = ErrorSpec(
    "forbidden", 403, "Only an administrator may change the search dictionary "
    "(the support staff may read it).", "只有管理员可以修改搜索词典（支持人员可以查看）。")

def refused(err):
    """domain.Refused -> AppError."""
    p = dict(err.params)
    if err.key == "cannot_write":
        return CANNOT_WRITE(role=p.get("role"))
    if err.key == "not_author":
        return NOT_AUTHOR()
    if err.key == "desk_only":
        return DESK_ONLY(details={"action": p["action"]}, action=p["action"])
    if err.key == "wrong_status":
        return WRONG_STATUS(details={"status": p["status"], "action": p["action"]},
                            status=p["status"], action=p["action"])
    if err.key == "dictionary_admin":
        return DICTIONARY_ADMIN()
    if err.key == "customer_scope":
        return CUSTOMER_SCOPE()
    return REPORT_FORBIDDEN()
