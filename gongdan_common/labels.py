"""What people read for the system's codes: one catalogue, zh and en.

Error messages name statuses, actions, ticket types, report kinds and roles; they show these
labels, never the code (`suspended`, `inspection_report`). `gongdan_common.errors.ErrorSpec`
applies them by parameter name, so no service translates a code by hand. The web client keeps
the same words in gateway/web/js/i18n.js.
"""

# vocabulary -> code -> (zh, en)
VOCABULARIES = {
    "status": {
        "new": ("新建", "New"), "needs_info": ("待补充信息", "Needs information"),
        "assigned": ("已指派", "Assigned"), "in_progress": ("处理中", "In progress"),
        "suspended": ("已挂起", "Suspended"), "resolved": ("已解决", "Resolved"),
        "closed": ("已关闭", "Closed"), "cancelled": ("已取消", "Cancelled"),
    },
    "action": {
        "request_info": ("要求补充信息", "Request information"),
        "provide_info": ("补充信息", "Provide information"), "cancel": ("取消", "Cancel"),
        "assign": ("指派", "Assign"), "reassign": ("变更指派", "Reassign"),
        "unassign": ("撤回指派", "Unassign"), "start": ("开始处理", "Start work"),
        "suspend": ("挂起", "Suspend"), "resume": ("恢复处理", "Resume"),
        "resolve": ("解决", "Resolve"), "confirm": ("确认已解决", "Confirm solved"),
        "reopen": ("重新打开", "Reopen"), "close": ("关闭", "Close"),
    },
    "type": {
        "consult": ("使用咨询", "Usage question"), "defect": ("缺陷", "Defect"),
        "customization": ("定制需求", "Customization"), "license": ("介质申请", "License / media"),
        "repair": ("维修", "Repair"), "inspection": ("巡检", "Inspection"),
        "installation": ("安装", "Installation"),
    },
    "report": {
        "onsite_report": ("现场服务报告", "On-site service report"),
        "inspection_report": ("巡检报告", "Inspection report"),
        "acceptance_report": ("验收报告", "Acceptance report"),
        "implementation_report": ("实施报告", "Implementation report"),
    },
    "role": {
        "customer": ("客户", "Customer"), "customer_admin": ("企业管理员", "Company admin"),
        "agent": ("工单处理员", "Support agent"), "provider_admin": ("服务商接口人", "Provider admin"),
        "engineer": ("工程师", "Engineer"), "admin": ("系统管理员", "Administrator"),
        "system": ("系统", "System"), "service": ("内部系统", "Internal system"),
    },
    "offer_status": {
        "pending": ("待响应", "Pending"), "accepted": ("已接受", "Accepted"),
        "declined": ("已拒绝", "Declined"), "expired": ("已超时", "Expired"),
        "withdrawn": ("已撤回", "Withdrawn"),
    },
    "user_status": {
        "pending": ("待审核", "Pending"), "active": ("正常", "Active"),
        "rejected": ("已拒绝", "Rejected"), "disabled": ("已停用", "Disabled"),
    },
    "article_status": {
        "draft": ("草稿", "Draft"), "published": ("已发布", "Published"),
        "archived": ("已归档", "Archived"),
    },
    "article_action": {  # "may not {action} articles"
        "publish": ("发布", "publish"), "archive": ("归档", "archive"),
        "edit": ("编辑", "edit"), "delete": ("删除", "delete"),
    },
    "article_done": {  # "cannot be {action}"
        "publish": ("发布", "published"), "archive": ("归档", "archived"),
        "edit": ("编辑", "edited"), "delete": ("删除", "deleted"),
    },
    "field": {  # fields named in refusals; the same words as the web form (i18n.js field.*)
        "title": ("标题", "Title"), "type": ("工单类型", "Ticket type"),
        "product": ("产品", "Product"), "product_version": ("产品版本", "Product version"),
        "category": ("问题分类", "Category"), "description": ("问题描述", "Description"),
        "steps": ("复现步骤", "Steps to reproduce"), "error_message": ("错误信息", "Error message"),
        "started_at": ("开始出现时间", "Started at"), "persistent": ("持续存在", "Persistent"),
        "impact": ("影响范围", "Impact"), "urgency": ("紧急程度", "Urgency"),
        "device_sn": ("设备序列号", "Device serial number"),
        "contact_name": ("联系人", "Contact name"), "contact_phone": ("联系电话", "Contact phone"),
        "environment": ("运行环境", "Environment"), "priority": ("优先级", "Priority"),
        "product_lines": ("产品线", "Product lines"), "active": ("启用状态", "Active"),
    },
    "bulk_action": {  # POST /tickets/bulk (gateway/routes/listing.py)
        "assign": ("指派", "assign"), "priority": ("修改优先级", "change priority"),
        "tag": ("添加标签", "add tags"), "untag": ("移除标签", "remove tags"),
        "close": ("关闭", "close"),
    },
    "leftover_status": {  # leftover items (遗留问题)
        "open": ("处理中", "Open"), "done": ("已解决", "Done"), "cancelled": ("已取消", "Cancelled"),
    },
    "company_kind": {
        "customer": ("客户企业", "customer"), "provider": ("服务商", "service provider"),
        "vendor": ("厂商", "vendor"),
    },
}

# error parameter name -> vocabulary, unless an ErrorSpec says otherwise
PARAMETERS = {"status": "status", "action": "action", "type": "type", "missing": "report",
              "role": "role", "roles": "role", "fields": "field"}

_JOIN = {"zh": "、", "en": ", "}


def label(vocabulary, code, lang="zh"):
    """The label of one code; an unknown code stays as it is."""
    pair = VOCABULARIES[vocabulary].get(code)
    if pair is None:
        return code
    return pair[0] if lang == "zh" else pair[1]


def localise(vocabulary, value, lang):
    """A code, a list of codes or a ", "-joined string of them -> labels joined for `lang`."""
    if isinstance(value, (list, tuple, set, frozenset)):
        codes = list(value)
    elif isinstance(value, str) and ", " in value:
        codes = value.split(", ")
    else:
        return label(vocabulary, value, lang) if isinstance(value, str) else value
    return _JOIN[lang].join(label(vocabulary, c, lang) for c in codes)
