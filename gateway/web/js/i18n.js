// Every string the UI shows, in Chinese and English. Enum values the API returns
// (status, type, role...) are looked up as "<group>.<value>" and shown raw when unknown,
// so a status added on the server still renders.

export const DICT = {
  zh: {
    "app.name": "工单",
    "app.title": "Gongdan 工单系统",
    "lang.label": "语言",
    "nav.tickets": "工单列表",
    "nav.new": "提交工单",
    "nav.admin": "用户管理",
    "nav.logout": "退出登录",
    "nav.main": "主导航",

    "common.loading": "加载中…",
    "common.none": "—",
    "common.cancel": "取消",
    "common.save": "保存",
    "common.search": "搜索",
    "common.reset": "重置",
    "common.required": "必填",
    "common.optional": "选填",
    "common.any": "全部",
    "common.yes": "是",
    "common.no": "否",
    "common.unknown": "不确定",
    "common.retry": "重试",
    "common.remove": "移除",
    "common.back": "返回",
    "common.internal": "内部",

    "error.network": "无法连接服务器，请检查网络后重试。",
    "error.http": "服务器返回了错误（HTTP {status}）。",
    "error.signed_out": "登录已失效，请重新登录。",
    "error.forbidden_page": "您没有访问此页面的权限。",
    "error.not_found_page": "页面不存在。",
    "error.check_fields": "请检查标红的字段。",

    "login.title": "登录",
    "login.subtitle": "技术支持工单系统",
    "login.login": "手机号或邮箱",
    "login.password": "密码",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.no_account": "还没有账号？",
    "login.register": "注册",

    "register.title": "注册账号",
    "register.intro": "注册后需由管理员审核并绑定企业，审核通过后即可登录。",
    "register.name": "姓名",
    "register.phone": "手机号",
    "register.email": "电子邮箱",
    "register.phone_or_email": "手机号和邮箱至少填写一项。",
    "register.password": "密码",
    "register.password_hint": "8 到 128 个字符",
    "register.position": "职务",
    "register.company_name": "所在企业",
    "register.submit": "提交注册",
    "register.done_title": "注册已提交",
    "register.done": "您的注册申请正在等待管理员审核，审核通过后即可使用手机号或邮箱登录。",
    "register.have_account": "已有账号？",
    "register.to_login": "返回登录",

    "list.title": "工单列表",
    "list.filters": "筛选",
    "list.keyword": "关键词",
    "list.keyword_ph": "标题、描述或工单号",
    "list.status": "状态",
    "list.type": "类型",
    "list.priority": "优先级",
    "list.created_from": "创建日期从",
    "list.created_to": "至",
    "list.sort": "排序",
    "list.page_size": "每页",
    "list.apply": "查询",
    "list.empty": "没有符合条件的工单。",
    "list.total": "共 {total} 条",
    "list.page": "第 {page} / {pages} 页",
    "list.prev": "上一页",
    "list.next": "下一页",
    "list.unassigned": "未分派",
    "list.sort_by": "按{column}排序",

    "sort.-created_at": "最新创建",
    "sort.created_at": "最早创建",
    "sort.-updated_at": "最近更新",
    "sort.updated_at": "最久未更新",
    "sort.priority": "优先级从高到低",
    "sort.-priority": "优先级从低到高",
    "sort.-number": "工单号降序",
    "sort.number": "工单号升序",

    "col.number": "工单号",
    "col.title": "标题",
    "col.status": "状态",
    "col.priority": "优先级",
    "col.type": "类型",
    "col.product": "产品",
    "col.company": "企业",
    "col.handler": "处理人",
    "col.updated": "更新时间",

    "new.title": "提交工单",
    "new.section.problem": "问题描述",
    "new.section.impact": "影响与紧急程度",
    "new.section.environment": "运行环境",
    "new.section.contact": "联系方式",
    "new.section.attachments": "附件",
    "new.company": "客户企业",
    "new.company_pick": "请选择客户企业",
    "new.product_pick": "请选择产品",
    "new.pick": "请选择",
    "new.attach_hint": "可选。支持 png jpg gif pdf doc(x) xls(x) txt log zip rar 7z mp4，单个文件不超过上限；工单提交后逐个上传。",
    "new.attach_add": "选择文件",
    "new.submit": "提交工单",
    "new.busy": "正在提交…",
    "new.created": "工单 {number} 已提交。",
    "new.uploading": "正在上传附件…",
    "new.upload_failed_note": "部分附件未能上传，工单本身已保存。您可以重试，或稍后在工单详情中再上传。",
    "new.open": "查看工单",
    "new.retry_failed": "重试失败的附件",
    "new.persistent": "问题是否持续存在",

    "field.title": "标题",
    "field.type": "工单类型",
    "field.product": "产品",
    "field.product_version": "产品版本",
    "field.category": "问题分类",
    "field.description": "问题描述",
    "field.steps": "复现步骤",
    "field.error_message": "错误信息",
    "field.started_at": "开始出现时间",
    "field.persistent": "持续存在",
    "field.impact": "影响范围",
    "field.urgency": "紧急程度",
    "field.device_sn": "设备序列号",
    "field.contact_name": "联系人",
    "field.contact_phone": "联系电话",
    "field.environment": "运行环境",
    "field.environment.os": "操作系统",
    "field.environment.browser": "浏览器",
    "field.environment.app_version": "客户端版本",
    "field.environment.database": "数据库",
    "field.environment.other": "其他",
    "field.company": "企业",
    "field.submitter": "提交人",
    "field.handler": "处理人",
    "field.created_at": "创建时间",
    "field.updated_at": "更新时间",
    "field.priority": "优先级",
    "field.status": "状态",

    "upload.pending": "等待上传",
    "upload.uploading": "上传中…",
    "upload.done": "已上传",

    "detail.back": "返回列表",
    "detail.details": "工单信息",
    "detail.description": "问题描述",
    "detail.conversation": "沟通记录",
    "detail.no_comments": "还没有回复。",
    "detail.history": "状态历史",
    "detail.attachments": "附件",
    "detail.no_attachments": "没有附件。",
    "detail.download": "下载",
    "detail.add_attachment": "上传附件",
    "detail.reply": "回复",
    "detail.reply_ph": "输入回复内容…",
    "detail.note_ph": "输入内部备注（客户不可见）…",
    "detail.internal_checkbox": "内部备注（仅支持人员可见）",
    "detail.internal_badge": "内部备注",
    "detail.send": "发送",
    "detail.send_note": "添加备注",
    "detail.sent": "已发送。",
    "detail.closed_no_reply": "工单已结束，不能再回复。",
    "detail.actions": "操作",
    "detail.reason": "原因",
    "detail.reason_request_info": "需要客户补充哪些信息？",
    "detail.comment": "附言（客户可见）",
    "detail.comment_provide_info": "补充说明",
    "detail.confirm": "确认",
    "detail.done": "{action}：已完成。",
    "detail.by": "{name}",
    "detail.reason_label": "原因：{reason}",
    "detail.uploaded_by": "{name} 上传",

    "action.cancel": "取消工单",
    "action.request_info": "要求补充信息",
    "action.provide_info": "已补充信息",
    "action.create": "提交",

    "admin.title": "用户管理",
    "admin.pending": "待审核注册",
    "admin.users": "全部用户",
    "admin.no_pending": "没有待审核的注册申请。",
    "admin.claimed_company": "自填企业",
    "admin.registered_at": "注册时间",
    "admin.role": "角色",
    "admin.company": "绑定企业",
    "admin.company_none": "（不绑定）",
    "admin.company_pick": "请选择企业",
    "admin.note": "备注",
    "admin.approve": "通过",
    "admin.reject": "拒绝",
    "admin.approved": "已通过 {name} 的注册。",
    "admin.rejected": "已拒绝 {name} 的注册。",
    "admin.search": "姓名、手机号、邮箱或企业",
    "admin.status": "状态",
    "admin.locked_until": "锁定至 {until}",
    "admin.unlock": "解锁",
    "admin.unlocked": "已解锁 {name}。",
    "admin.no_users": "没有符合条件的用户。",
    "admin.name": "姓名",
    "admin.phone": "手机号",
    "admin.email": "邮箱",
    "admin.position": "职务",
    "admin.total": "共 {total} 人",
    "admin.as_typed": "{name}（自填）",

    "status.new": "新建",
    "status.needs_info": "待补充信息",
    "status.assigned": "已分派",
    "status.in_progress": "处理中",
    "status.suspended": "已挂起",
    "status.resolved": "已解决",
    "status.closed": "已关闭",
    "status.cancelled": "已取消",

    "type.consult": "咨询",
    "type.defect": "故障",
    "type.customization": "定制需求",
    "type.license": "授权许可",
    "type.repair": "维修",
    "type.inspection": "巡检",
    "type.installation": "安装",

    "category.function": "功能",
    "category.performance": "性能",
    "category.network": "网络",
    "category.configuration": "配置",
    "category.consultation": "咨询",
    "category.permissions": "权限",
    "category.backup": "备份",
    "category.security": "安全",
    "category.installation": "安装部署",
    "category.other": "其他",

    "impact.individual": "仅本人",
    "impact.department": "本部门",
    "impact.company": "全公司",

    "urgency.low": "低",
    "urgency.medium": "中",
    "urgency.high": "高",
    "urgency.critical": "紧急",

    "role.customer": "客户",
    "role.customer_admin": "客户管理员",
    "role.agent": "客服",
    "role.provider_admin": "服务商管理员",
    "role.engineer": "工程师",
    "role.admin": "系统管理员",
    "role.system": "系统",

    "userstatus.pending": "待审核",
    "userstatus.active": "正常",
    "userstatus.rejected": "已拒绝",
    "userstatus.disabled": "已停用",
    "userstatus.locked": "已锁定",
  },

  en: {
    "app.name": "Gongdan",
    "app.title": "Gongdan support tickets",
    "lang.label": "Language",
    "nav.tickets": "Tickets",
    "nav.new": "New ticket",
    "nav.admin": "Users",
    "nav.logout": "Sign out",
    "nav.main": "Main navigation",

    "common.loading": "Loading…",
    "common.none": "—",
    "common.cancel": "Cancel",
    "common.save": "Save",
    "common.search": "Search",
    "common.reset": "Reset",
    "common.required": "required",
    "common.optional": "optional",
    "common.any": "All",
    "common.yes": "Yes",
    "common.no": "No",
    "common.unknown": "Not sure",
    "common.retry": "Retry",
    "common.remove": "Remove",
    "common.back": "Back",
    "common.internal": "internal",

    "error.network": "Cannot reach the server; check the connection and try again.",
    "error.http": "The server answered with an error (HTTP {status}).",
    "error.signed_out": "Your session has ended; please sign in again.",
    "error.forbidden_page": "You do not have access to this page.",
    "error.not_found_page": "No such page.",
    "error.check_fields": "Please check the fields marked in red.",

    "login.title": "Sign in",
    "login.subtitle": "Technical support tickets",
    "login.login": "Phone or email",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.busy": "Signing in…",
    "login.no_account": "No account yet?",
    "login.register": "Register",

    "register.title": "Register",
    "register.intro": "An administrator reviews each registration and links it to your company; you can sign in once it is approved.",
    "register.name": "Name",
    "register.phone": "Mobile phone",
    "register.email": "Email",
    "register.phone_or_email": "Give a phone number or an email address (or both).",
    "register.password": "Password",
    "register.password_hint": "8 to 128 characters",
    "register.position": "Position",
    "register.company_name": "Company",
    "register.submit": "Register",
    "register.done_title": "Registration received",
    "register.done": "Your registration is waiting for an administrator's approval. Once approved, sign in with your phone number or email.",
    "register.have_account": "Already registered?",
    "register.to_login": "Back to sign in",

    "list.title": "Tickets",
    "list.filters": "Filters",
    "list.keyword": "Keyword",
    "list.keyword_ph": "Title, description or number",
    "list.status": "Status",
    "list.type": "Type",
    "list.priority": "Priority",
    "list.created_from": "Created from",
    "list.created_to": "to",
    "list.sort": "Sort",
    "list.page_size": "Per page",
    "list.apply": "Search",
    "list.empty": "No tickets match.",
    "list.total": "{total} tickets",
    "list.page": "Page {page} of {pages}",
    "list.prev": "Previous",
    "list.next": "Next",
    "list.unassigned": "Unassigned",
    "list.sort_by": "Sort by {column}",

    "sort.-created_at": "Newest first",
    "sort.created_at": "Oldest first",
    "sort.-updated_at": "Recently updated",
    "sort.updated_at": "Least recently updated",
    "sort.priority": "Priority, highest first",
    "sort.-priority": "Priority, lowest first",
    "sort.-number": "Number, descending",
    "sort.number": "Number, ascending",

    "col.number": "Number",
    "col.title": "Title",
    "col.status": "Status",
    "col.priority": "Priority",
    "col.type": "Type",
    "col.product": "Product",
    "col.company": "Company",
    "col.handler": "Handler",
    "col.updated": "Updated",

    "new.title": "New ticket",
    "new.section.problem": "The problem",
    "new.section.impact": "Impact and urgency",
    "new.section.environment": "Environment",
    "new.section.contact": "Contact",
    "new.section.attachments": "Attachments",
    "new.company": "Customer company",
    "new.company_pick": "Choose the customer company",
    "new.product_pick": "Choose a product",
    "new.pick": "Choose…",
    "new.attach_hint": "Optional. png jpg gif pdf doc(x) xls(x) txt log zip rar 7z mp4, each within the size limit; uploaded one by one after the ticket is submitted.",
    "new.attach_add": "Choose files",
    "new.submit": "Submit ticket",
    "new.busy": "Submitting…",
    "new.created": "Ticket {number} was submitted.",
    "new.uploading": "Uploading attachments…",
    "new.upload_failed_note": "Some attachments could not be uploaded; the ticket itself is saved. Retry, or add them later from the ticket page.",
    "new.open": "Open the ticket",
    "new.retry_failed": "Retry failed attachments",
    "new.persistent": "Does the problem persist?",

    "field.title": "Title",
    "field.type": "Ticket type",
    "field.product": "Product",
    "field.product_version": "Product version",
    "field.category": "Category",
    "field.description": "Description",
    "field.steps": "Steps to reproduce",
    "field.error_message": "Error message",
    "field.started_at": "Started at",
    "field.persistent": "Persistent",
    "field.impact": "Impact",
    "field.urgency": "Urgency",
    "field.device_sn": "Device serial number",
    "field.contact_name": "Contact name",
    "field.contact_phone": "Contact phone",
    "field.environment": "Environment",
    "field.environment.os": "Operating system",
    "field.environment.browser": "Browser",
    "field.environment.app_version": "Client version",
    "field.environment.database": "Database",
    "field.environment.other": "Other",
    "field.company": "Company",
    "field.submitter": "Submitted by",
    "field.handler": "Handler",
    "field.created_at": "Created",
    "field.updated_at": "Updated",
    "field.priority": "Priority",
    "field.status": "Status",

    "upload.pending": "Waiting",
    "upload.uploading": "Uploading…",
    "upload.done": "Uploaded",

    "detail.back": "Back to tickets",
    "detail.details": "Details",
    "detail.description": "Description",
    "detail.conversation": "Conversation",
    "detail.no_comments": "No replies yet.",
    "detail.history": "Status history",
    "detail.attachments": "Attachments",
    "detail.no_attachments": "No attachments.",
    "detail.download": "Download",
    "detail.add_attachment": "Upload attachments",
    "detail.reply": "Reply",
    "detail.reply_ph": "Write a reply…",
    "detail.note_ph": "Write an internal note (not shown to the customer)…",
    "detail.internal_checkbox": "Internal note (support staff only)",
    "detail.internal_badge": "Internal note",
    "detail.send": "Send",
    "detail.send_note": "Add note",
    "detail.sent": "Sent.",
    "detail.closed_no_reply": "This ticket is finished; it takes no more replies.",
    "detail.actions": "Actions",
    "detail.reason": "Reason",
    "detail.reason_request_info": "What information is missing?",
    "detail.comment": "Comment (shown to the customer)",
    "detail.comment_provide_info": "What did you add?",
    "detail.confirm": "Confirm",
    "detail.done": "{action}: done.",
    "detail.by": "{name}",
    "detail.reason_label": "Reason: {reason}",
    "detail.uploaded_by": "uploaded by {name}",

    "action.cancel": "Cancel ticket",
    "action.request_info": "Request information",
    "action.provide_info": "Information provided",
    "action.create": "Submitted",

    "admin.title": "Users",
    "admin.pending": "Pending registrations",
    "admin.users": "All users",
    "admin.no_pending": "No registrations are waiting.",
    "admin.claimed_company": "Company (as typed)",
    "admin.registered_at": "Registered",
    "admin.role": "Role",
    "admin.company": "Company",
    "admin.company_none": "(none)",
    "admin.company_pick": "Choose a company",
    "admin.note": "Note",
    "admin.approve": "Approve",
    "admin.reject": "Reject",
    "admin.approved": "Approved {name}.",
    "admin.rejected": "Rejected {name}.",
    "admin.search": "Name, phone, email or company",
    "admin.status": "Status",
    "admin.locked_until": "Locked until {until}",
    "admin.unlock": "Unlock",
    "admin.unlocked": "Unlocked {name}.",
    "admin.no_users": "No users match.",
    "admin.name": "Name",
    "admin.phone": "Phone",
    "admin.email": "Email",
    "admin.position": "Position",
    "admin.total": "{total} users",
    "admin.as_typed": "{name} (as typed)",

    "status.new": "New",
    "status.needs_info": "Needs info",
    "status.assigned": "Assigned",
    "status.in_progress": "In progress",
    "status.suspended": "Suspended",
    "status.resolved": "Resolved",
    "status.closed": "Closed",
    "status.cancelled": "Cancelled",

    "type.consult": "Consultation",
    "type.defect": "Defect",
    "type.customization": "Customization",
    "type.license": "License",
    "type.repair": "Repair",
    "type.inspection": "Inspection",
    "type.installation": "Installation",

    "category.function": "Function",
    "category.performance": "Performance",
    "category.network": "Network",
    "category.configuration": "Configuration",
    "category.consultation": "Consultation",
    "category.permissions": "Permissions",
    "category.backup": "Backup",
    "category.security": "Security",
    "category.installation": "Installation",
    "category.other": "Other",

    "impact.individual": "Only me",
    "impact.department": "My department",
    "impact.company": "Whole company",

    "urgency.low": "Low",
    "urgency.medium": "Medium",
    "urgency.high": "High",
    "urgency.critical": "Critical",

    "role.customer": "Customer",
    "role.customer_admin": "Customer admin",
    "role.agent": "Support agent",
    "role.provider_admin": "Provider admin",
    "role.engineer": "Engineer",
    "role.admin": "Administrator",
    "role.system": "System",

    "userstatus.pending": "Pending",
    "userstatus.active": "Active",
    "userstatus.rejected": "Rejected",
    "userstatus.disabled": "Disabled",
    "userstatus.locked": "Locked",
  },
};

export const LANGS = [["zh", "中文"], ["en", "English"]];
const STORE_KEY = "gongdan.lang";
const listeners = new Set();

function initialLang() {
  let saved = null;
  try { saved = localStorage.getItem(STORE_KEY); } catch (e) { /* storage blocked */ }
  if (saved === "zh" || saved === "en") return saved;
  const prefs = navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language || "en"];
  for (const p of prefs) {
    const tag = String(p).toLowerCase();
    if (tag.startsWith("zh")) return "zh";
    if (tag.startsWith("en")) return "en";
  }
  return "en";
}

let lang = initialLang();
document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";

export function getLang() { return lang; }

export function setLang(next) {
  if ((next !== "zh" && next !== "en") || next === lang) return;
  lang = next;
  try { localStorage.setItem(STORE_KEY, next); } catch (e) { /* storage blocked */ }
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  listeners.forEach((fn) => fn(next));
}

export function onLangChange(fn) { listeners.add(fn); }

export function has(key) { return key in DICT[lang] || key in DICT.en; }

/** The string for key in the current language, with {name} placeholders filled in. */
export function t(key, params) {
  let s = DICT[lang][key];
  if (s === undefined) s = DICT.en[key];
  if (s === undefined) s = key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/** An API enum value for people: "status.needs_info" -> "待补充信息"; unknown -> the value. */
export function label(group, value) {
  if (value === null || value === undefined || value === "") return t("common.none");
  const key = `${group}.${value}`;
  return has(key) ? t(key) : String(value);
}

const fmtCache = {};
function formatter(kind) {
  const id = lang + kind;
  if (!fmtCache[id]) {
    const locale = lang === "zh" ? "zh-CN" : "en-GB";
    const opts = kind === "date" ? { dateStyle: "medium" }
      : { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
    fmtCache[id] = new Intl.DateTimeFormat(locale, opts);
  }
  return fmtCache[id];
}

/** ISO timestamp from the API -> local date and time for people. */
export function fmtTime(iso) {
  if (!iso) return t("common.none");
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : formatter("datetime").format(d);
}

export function fmtSize(n) {
  if (n === null || n === undefined) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
