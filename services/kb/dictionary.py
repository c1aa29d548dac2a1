"""The search dictionary: groups of terms that mean the same thing to a support desk, in
Chinese and English — spelling variants, product and model names, the customer's word for
the engineer's (坏盘 / 故障硬盘), and the two languages' words for one thing (死锁 /
deadlock). A query that contains one term of a group also looks for the others, at the
group's weight times the term's own weight (less than the words actually typed, so an
article in the customer's own words still ranks first).

Admins edit it (`kb_synonyms`, RPC and /api/v1/kb/synonyms); the migration that created
the table filled it with `DEFAULTS`. Pure Python: no nameko, no sqlalchemy.

Why at query time and not by rewriting the index: matching is the same either way (a group
is symmetric), but an admin's edit then takes effect at once on every instance without
re-tokenizing 100,000 articles. Indexing and queries share one tokenizer (text.py), whose
built-in variant folding (登陆 -> 登录, licence -> license) applies on both sides.
"""
from . import text

DEFAULT_WEIGHT = 0.6
MAX_TERMS = 30        # per group
MAX_TERM_CHARS = 50


def phrase_terms(term):
    """The whole-word terms a dictionary term stands for (`windows 10` -> window, 10,
    windows10)."""
    return tuple(dict.fromkeys(text.terms(term)))


class Dictionary:
    """Groups compiled for query expansion: term -> [(group index, phrase)]."""

    def __init__(self, groups=()):
        self.groups = []    # [(weight, [phrase (tuple of terms)])]
        self.by_term = {}   # first term of a phrase -> [(group, phrase)]
        self.partners = {}  # term -> the terms of the other phrases of its groups
        for group in groups:
            phrases = [p for p in dict.fromkeys(phrase_terms(t) for t in group["terms"]) if p]
            if len(phrases) < 2:
                continue
            g = len(self.groups)
            self.groups.append((float(group.get("weight") or DEFAULT_WEIGHT), phrases))
            for phrase in phrases:
                self.by_term.setdefault(phrase[0], []).append((g, phrase))
            for phrase in phrases:
                others = {t for p in phrases if p != phrase for t in p}
                for t in phrase:
                    self.partners.setdefault(t, set()).update(others)

    @classmethod
    def default(cls):
        return cls({"terms": terms, "weight": weight} for terms, weight in DEFAULTS)

    def bridged(self, term):
        """The terms a query's `term` may be expanded to (for pruning a long query)."""
        return self.partners.get(term, ())

    def __len__(self):
        return len(self.groups)

    def expand(self, query):
        """{term: weight} -> the same plus the other phrases of every group one of whose
        phrases the query contains (all of its terms). An added term weighs the group's
        weight times the matched phrase's smallest weight, split over a phrase's terms; a
        term the query already has keeps the larger weight."""
        extra = {}
        for term in query:
            for g, phrase in self.by_term.get(term, ()):
                if not all(t in query for t in phrase):
                    continue
                weight, phrases = self.groups[g]
                base = weight * min(query[t] for t in phrase)
                for other in phrases:
                    if other == phrase:
                        continue
                    share = base / len(other) ** 0.5
                    for t in other:
                        if share > extra.get(t, 0.0):
                            extra[t] = share
        out = dict(query)
        for t, w in extra.items():
            if w > out.get(t, 0.0):
                out[t] = round(w, 4)
        return out


# Shipped groups: (terms, weight). General support vocabulary — customers' words and
# engineers' words for the same thing, and both languages; no article's own sentences.
DEFAULTS = [
    # data scope and permissions
    (["数据权限", "数据范围", "权限范围", "可见范围", "data scope", "data permission",
      "row-level security"], 0.8),
    (["查不到", "看不到", "查询为空", "列表为空",
      "数据权限", "data scope"], 0.4),
    (["功能权限", "菜单权限", "menu permission", "feature permission"], 0.8),
    (["权限", "permission", "access right"], 0.6),
    (["拒绝访问", "没有权限", "无权限", "无访问权限", "access denied", "permission denied"], 0.8),
    (["共享文件夹", "共享目录", "shared folder"], 0.8),
    (["角色", "role"], 0.8),
    # storage
    (["坏盘", "故障硬盘", "故障盘", "硬盘故障", "磁盘故障", "failed disk", "failed drive",
      "bad disk"], 0.8),
    (["硬盘", "磁盘", "disk", "drive", "hard disk"], 0.7),
    (["阵列", "raid", "disk array"], 0.8),
    (["重建", "rebuild", "resync", "同步"], 0.5),
    (["换盘", "更换", "replace", "replaced"], 0.5),
    (["进度", "progress", "percent"], 0.5),
    (["磁盘空间", "磁盘满", "空间不足", "disk space", "disk full", "no space"], 0.8),
    (["满了", "已满", "full", "quota", "配额", "容量"], 0.5),
    (["告警", "报警", "警告", "alert", "alarm", "warning"], 0.6),
    (["预测性故障", "smart", "predictive failure"], 0.6),
    # database and performance
    (["数据库", "database", "db"], 0.8),
    (["统计信息", "statistics", "analyze", "收集统计"], 0.8),
    (["执行计划", "query plan", "optimizer", "优化器", "execution plan"], 0.8),
    (["慢", "很慢", "变慢", "卡", "缓慢", "slow", "sluggish"],
     0.5),
    (["升级", "upgrade", "新版本", "上线", "迁移", "migration"], 0.5),
    (["索引", "index"], 0.8),
    (["慢查询", "slow query", "全表扫描", "full table scan"], 0.8),
    (["连接池", "connection pool"], 0.8),
    (["死锁", "deadlock"], 0.9),
    (["事务", "transaction"], 0.8),
    (["并发", "concurrent", "concurrency"], 0.7),
    (["内存", "memory", "ram", "heap"], 0.8),
    (["内存泄漏", "memory leak", "out of memory", "oom"], 0.8),
    (["cpu", "处理器"], 0.8),
    (["cpu很高", "cpu高", "high cpu", "cpu usage", "cpu 100%"], 0.8),
    (["应用服务器", "application server", "app server"], 0.7),
    (["挂掉", "崩溃", "宕机", "crash", "killed", "down"], 0.5),
    # backup, upgrade, install
    (["备份", "backup"], 0.9),
    (["恢复", "还原", "restore"], 0.8),
    (["版本不兼容", "版本不一致", "incompatible version", "version mismatch"], 0.8),
    (["回滚", "回退", "rollback", "roll back", "downgrade"], 0.9),
    (["安装", "install", "installation", "setup", "installer"], 0.8),
    (["安装向导", "setup wizard", "installation wizard"], 0.8),
    (["端口冲突", "端口被占用", "端口占用", "port in use", "port conflict", "already in use"], 0.8),
    (["端口", "port"], 0.8),
    (["配置迁移", "config migration", "配置项无法识别", "unknown config key"], 0.7),
    (["起不来", "启动失败", "无法启动", "won't start", "fails to start"], 0.8),
    # network
    (["防火墙", "firewall", "安全组", "security group"], 0.8),
    (["vpn", "远程接入", "remote access"], 0.8),
    (["断开", "断线", "掉线", "drop", "drops", "disconnect", "disconnected"], 0.7),
    (["mtu", "mss", "分片", "fragmented"], 0.8),
    (["大文件", "large file", "big file"], 0.6),
    (["远程桌面", "remote desktop", "rdp"], 0.8),
    (["卡住", "卡在", "转圈", "不动", "stuck", "hang", "hangs", "freeze", "freezes", "spinning"], 0.6),
    (["域名", "domain name", "dns", "域名解析", "resolve"], 0.8),
    (["ip", "ip地址", "ip address"], 0.7),
    (["连不上", "连接不上", "无法连接", "cannot connect", "cannot reach", "cannot be reached"], 0.7),
    # identity and login
    (["登录", "login", "log in", "sign in", "signin", "sign-in"], 0.8),
    (["单点登录", "sso", "single sign-on"], 0.9),
    (["白屏", "空白", "blank", "blank page"], 0.7),
    (["锁定", "被锁", "锁了", "locked", "lock out"], 0.8),
    (["解锁", "解开", "unlock"], 0.8),
    (["密码", "password"], 0.9),
    (["输错密码", "密码错误", "wrong password"], 0.8),
    (["密码过期", "password expired", "password expiry"], 0.8),
    (["重置密码", "找回密码", "password reset", "reset password"], 0.8),
    (["域账号", "域用户", "域控", "active directory", "ldap", "ad", "目录同步",
      "directory synchronization"], 0.8),
    (["新员工", "新入职", "新人", "new employee", "new hire", "joined"], 0.6),
    (["用户列表", "user list"], 0.6),
    (["同步", "sync", "synchronization", "synchronize", "synchronized"], 0.8),
    (["会话", "session"], 0.8),
    (["会话超时", "自动退出", "被踢出", "session timeout", "signed out", "kicked out",
      "logged out"], 0.8),
    (["服务器时间", "系统时间", "时间不对", "时钟", "clock", "server time", "clock skew", "ntp",
      "time drift"], 0.7),
    (["时区", "timezone", "time zone"], 0.8),
    (["证书", "certificate", "cert", "ssl"], 0.9),
    (["不安全", "私密连接", "not secure", "not private"], 0.7),
    (["许可证", "license", "licence", "激活", "activation"], 0.9),
    (["机器码", "硬件码", "machine code", "hardware id"], 0.9),
    (["过期", "expired", "expiry"], 0.8),
    # mail, notifications, schedules
    (["邮件", "email", "e-mail", "mail"], 0.8),
    (["邮箱", "mailbox", "inbox"], 0.8),
    (["通知", "提醒", "消息", "notification", "alert"], 0.7),
    (["推送", "push", "push notification"], 0.8),
    (["收不到", "没收到", "发不出", "not received", "not delivered", "never arrives", "missing"], 0.5),
    (["邮件服务器", "smtp", "mail server", "relay", "中继"], 0.8),
    (["垃圾邮件", "垃圾箱", "spam", "junk"], 0.9),
    (["定时", "定时任务", "计划任务", "scheduled", "schedule", "scheduler"], 0.8),
    (["发送", "发出", "send", "sent", "deliver"], 0.6),
    # reports, export, files
    (["报表", "report"], 0.8),
    (["导出", "export"], 0.9),
    (["下载", "download"], 0.9),
    (["上传", "upload"], 0.9),
    (["文件大小", "大小限制", "file size", "size limit"], 0.8),
    (["超时", "timeout", "timed out", "time out"], 0.9),
    (["乱码", "garbled", "mojibake", "编码", "encoding"], 0.8),
    (["表格", "excel", "spreadsheet"], 0.6),
    (["图表", "chart", "graph"], 0.9),
    (["pdf", "导出pdf", "pdf export"], 0.8),
    (["打印", "print", "printing"], 0.9),
    (["打印机", "printer", "共享打印机", "shared printer"], 0.9),
    (["补丁", "系统更新", "累积更新", "windows update", "patch", "update"], 0.6),
    (["冲突", "conflict", "conflicted"], 0.8),
    (["冲突副本", "conflicted copy"], 0.9),
    (["网盘", "同步客户端", "sync client"], 0.6),
    (["客户端", "client", "desktop client"], 0.7),
    (["插件", "加载项", "add-in", "addin", "plugin", "plug-in"], 0.9),
    (["损坏", "corrupt", "corrupted", "damaged", "文件已损坏"], 0.8),
    # browsers, devices, model names
    (["ie", "internet explorer", "ie浏览器"], 0.9),
    (["win10", "windows 10", "windows10"], 0.9),
    (["win11", "windows 11"], 0.9),
    (["win7", "windows 7"], 0.9),
    (["浏览器", "browser"], 0.8),
    (["页面错乱", "排版错乱", "显示错乱", "页面乱", "layout broken", "renders wrong"], 0.8),
    (["兼容性视图", "兼容模式", "compatibility view", "compatibility mode"], 0.9),
    (["按钮", "button"], 0.8),
    (["点不了", "点不动", "没反应", "没有反应", "无法点击", "not clickable", "does nothing",
      "unresponsive"], 0.7),
    (["手机", "移动端", "app", "mobile app", "mobile"], 0.7),
    (["闪退", "crash", "crashes"], 0.8),
    (["安卓", "android"], 0.9),
    (["苹果", "iphone", "ios"], 0.8),
    # workflow
    (["审批", "审核", "approval", "approve"], 0.8),
    (["审批人", "approver", "领导", "经理", "manager", "boss"], 0.5),
    (["流程", "工作流", "审批流程", "workflow"], 0.8),
    (["待办", "todo", "pending"], 0.7),
    (["离职", "停用", "禁用", "left the company", "disabled"], 0.6),
    (["休假", "请假", "on leave", "holiday", "vacation"], 0.8),
    (["委托", "代理审批", "转交", "delegation", "delegate", "deputy", "transfer"], 0.8),
    (["单据", "单子", "订单", "采购单", "销售订单", "order", "purchase order"], 0.6),
    (["日志", "log"], 0.7),
]
