"""Articles of the kb ranking evaluation (issue 15). Written for this project by hand, in the
shape a vendor's support desk writes them: a title, tags, and a body of symptom / cause /
solution. Several topics share generic vocabulary on purpose (数据库, 报表, 服务器, 打开,
login, report), so that the distinctive word has to decide the ranking.

(id, language, title, tags, body)
"""

ARTICLES = [
    # ---- permissions and data scope -------------------------------------------------------
    ("zh-datascope", "zh", "查询结果为空：角色的数据权限范围不包含该部门", ["数据权限", "角色"],
     "现象：用户在采购、销售等模块查询单据时列表为空，同一部门的其他人员却能查到。"
     "原因：用户所属角色的数据权限范围只设置为“本人”或“本部门”，看不到其他部门或他人创建的单据。"
     "解决：管理员在“系统管理-角色管理”中编辑该角色的数据权限，把范围调整为“本部门及下级”或指定组织，保存后重新登录。"),
    ("zh-menu-perm", "zh", "登录后看不到某个菜单：功能权限未分配", ["功能权限", "菜单"],
     "现象：新员工登录后左侧找不到“报表中心”等菜单。原因：角色没有分配该菜单的功能权限。"
     "解决：在角色管理中勾选相应菜单的功能权限，并把用户加入该角色。"),
    ("en-share-acl", "en", "Access denied when opening a shared folder",
     ["permissions", "shared folder"],
     "Symptom: a user opens a department's shared folder and gets 'access denied'. Cause: the "
     "user is not on the folder's access control list. Solution: the folder owner or an "
     "administrator adds the user or their group with read permission."),
    ("en-row-scope", "en", "Report shows fewer rows for some users: row-level data scope",
     ["data scope", "row-level security"],
     "Symptom: two users run the same report and one of them sees far fewer rows. Cause: "
     "row-level data scope rules restrict each role to the regions it manages. Solution: check "
     "the role's data scope under Administration > Roles and widen it if the user should see "
     "all regions."),
    # ---- storage / RAID ---------------------------------------------------------------------
    ("zh-raid-rebuild", "zh", "更换故障硬盘后 RAID 重建进度缓慢", ["RAID", "重建", "硬盘"],
     "现象：阵列中一块磁盘故障，更换新盘后阵列开始重建，数小时后进度仍只有百分之十几到二十。"
     "原因：阵列卡默认的重建优先级较低，业务读写繁忙时重建让路。"
     "解决：在阵列管理工具中把重建速率（rebuild rate）调高到 60% 以上，或在业务低峰期进行重建；重建期间不要再拔插其他磁盘。"),
    ("zh-disk-smart", "zh", "硬盘 SMART 告警：预测性故障", ["硬盘", "SMART", "告警"],
     "现象：管理界面提示某块硬盘 SMART 预测性故障。原因：坏扇区数量持续增加。"
     "解决：尽快备份数据并申请备件更换该硬盘，更换时选择热插拔。"),
    ("en-raid-degraded", "en", "RAID array reported as degraded after a power cut",
     ["RAID", "degraded", "disk"],
     "Symptom: after an unplanned power loss the controller marks the array degraded. Cause: "
     "one member disk dropped out of the array. Solution: check the disk's health, re-add it or "
     "replace it; the controller then rebuilds the array automatically."),
    ("zh-disk-full", "zh", "数据库服务器磁盘空间满导致写入失败", ["磁盘空间", "日志"],
     "现象：应用写入数据时报错，数据库服务器上的数据盘使用率达到 100%。原因：归档日志没有定期清理。"
     "解决：清理过期归档日志，配置日志保留策略，并对磁盘使用率设置 85% 告警。"),
    # ---- database performance ---------------------------------------------------------------
    ("zh-stale-stats", "zh", "版本升级后报表查询变慢：统计信息过期", ["统计信息", "执行计划", "升级"],
     "现象：系统升级完成后，原来几秒打开的报表需要一两分钟才能出来。"
     "原因：升级过程中数据迁移使表的统计信息失效，优化器选错了执行计划。"
     "解决：对相关业务表重新收集统计信息（ANALYZE / 收集统计任务），必要时清空执行计划缓存。"),
    ("zh-db-pool", "zh", "数据库连接池耗尽，页面报获取连接超时", ["连接池", "数据库连接"],
     "现象：业务高峰期页面报错“获取数据库连接超时”。原因：连接池最大连接数过小，且有代码未释放连接。"
     "解决：把连接池上限调大，并排查未关闭连接的代码。"),
    ("zh-db-index", "zh", "按日期查询订单很慢：缺少索引", ["慢查询", "索引"],
     "现象：按下单日期查询订单的 SQL 需要几十秒。原因：日期列没有索引，走了全表扫描。"
     "解决：为查询条件列建立索引，并用 EXPLAIN 确认走索引。"),
    ("en-stale-stats", "en", "Queries slow after migration: optimizer statistics out of date",
     ["statistics", "query plan"],
     "Symptom: after moving to the new server, reports that took seconds take minutes. Cause: "
     "table statistics were not gathered after the data load, so the optimizer picks bad "
     "plans. Solution: gather statistics (ANALYZE) on the large tables and retest."),
    ("en-deadlock", "en", "Deadlock errors during concurrent updates", ["deadlock", "transaction"],
     "Symptom: the application log shows deadlock errors and rolled-back transactions when "
     "many users save at once. Cause: two code paths update the same rows in opposite order. "
     "Solution: update rows in one consistent order and keep transactions short; retry on "
     "deadlock."),
    # ---- browsers, clients, model numbers ---------------------------------------------------
    ("zh-ie11", "zh", "IE11 浏览器中页面排版错乱、按钮点不了", ["IE11", "浏览器兼容"],
     "现象：使用 Internet Explorer 11 访问系统时页面排版错乱，部分按钮无法点击。"
     "原因：IE11 处于兼容性视图，按 IE7 标准渲染页面。"
     "解决：在“兼容性视图设置”中移除系统域名，或改用 Chrome、Edge 等新版浏览器。"),
    ("en-ie11-download", "en", "File download does nothing in IE 11",
     ["IE11", "download", "browser"],
     "Symptom: clicking Download in Internet Explorer 11 shows nothing. Cause: the security "
     "zone blocks automatic prompting for file downloads. Solution: add the site to Trusted "
     "sites or enable 'Automatic prompting for file downloads'."),
    ("zh-chrome-cert", "zh", "Chrome 提示“您的连接不是私密连接”", ["证书", "HTTPS", "浏览器"],
     "现象：用 Chrome 打开系统时提示连接不是私密连接。原因：服务器证书已过期或域名与证书不符。"
     "解决：更新服务器 SSL 证书，确认证书包含访问域名，并补全中间证书链。"),
    ("zh-win10-print", "zh", "Windows 10 系统更新后无法打印，提示 0x0000011b",
     ["Windows10", "打印机", "0x0000011b"],
     "现象：Win10 电脑安装累积更新后连接共享打印机失败，提示错误 0x0000011b。"
     "原因：更新加强了打印后台程序的 RPC 身份验证。解决：在打印服务器上安装同一批次更新，或由管理员调整注册表 RpcAuthnLevelPrivacyEnabled 后重启打印服务。"),
    ("en-excel2016-addin", "en", "Excel 2016 add-in is not loaded at startup",
     ["Excel 2016", "add-in", "Office"],
     "Symptom: the reporting add-in tab is missing in Excel 2016. Cause: Excel disabled the "
     "add-in after a crash. Solution: open File > Options > Add-ins, manage COM add-ins and "
     "enable it again; install the latest add-in version."),
    ("zh-office2010", "zh", "Office 2010 打开导出的 xlsx 提示文件已损坏", ["Office2010", "xlsx", "导出"],
     "现象：用 Office 2010 打开系统导出的 xlsx 文件时提示文件格式或扩展名无效。"
     "原因：导出的文件使用了 Office 2010 不支持的新格式特性。解决：安装 Office 兼容包，或导出时选择“兼容 Excel 2007”。"),
    ("en-ios17-app", "en", "Mobile app crashes on launch after upgrading to iOS 17",
     ["iOS 17", "mobile app", "crash"],
     "Symptom: after upgrading the phone to iOS 17 the app closes as soon as it opens. Cause: "
     "versions before 5.2 use an API removed in iOS 17. Solution: update the app from the App "
     "Store to 5.2 or later."),
    ("zh-android-push", "zh", "安卓手机收不到 App 推送消息", ["安卓", "推送", "App"],
     "现象：部分安卓手机收不到消息推送，苹果手机正常。原因：手机厂商的省电策略限制了 App 后台运行。"
     "解决：在手机设置中允许 App 自启动和后台运行，并关闭电池优化。"),
    # ---- install / upgrade ------------------------------------------------------------------
    ("zh-install-cert", "zh", "安装向导第二步提示证书校验失败", ["安装", "证书", "安装向导"],
     "现象：运行安装向导，在第二步“环境检查”时提示证书校验失败，无法继续。"
     "原因：服务器系统时间不准确，导致安装包签名证书被判定为未生效。"
     "解决：校准服务器时间（配置 NTP）后重新运行安装向导。"),
    ("zh-install-port", "zh", "安装时提示端口被占用", ["安装", "端口"],
     "现象：安装第三步提示 8080 端口已被占用。原因：服务器上已有其他程序监听该端口。"
     "解决：用 netstat 找到占用端口的进程并停止，或在安装配置中修改端口。"),
    ("zh-upgrade-config", "zh", "升级后服务启动失败：配置项无法识别", ["升级", "配置迁移"],
     "现象：升级到新版本后服务无法启动，日志提示 unknown config key。原因：新版本配置文件格式变化，旧配置没有迁移。"
     "解决：运行升级工具中的配置迁移命令，再启动服务。"),
    ("en-upgrade-rollback", "en", "How to roll back a failed upgrade",
     ["upgrade", "rollback"],
     "If an upgrade fails halfway, stop all services, restore the database backup taken by the "
     "upgrade tool and reinstall the previous version's package. Keep the upgrade log for "
     "support."),
    # ---- network ----------------------------------------------------------------------------
    ("en-vpn-mtu", "en", "VPN connects but large pages and uploads hang",
     ["VPN", "MTU", "network"],
     "Symptom: over the VPN, small pages open but large pages, file uploads and remote desktop "
     "freeze. Cause: the tunnel's MTU is smaller than the path allows and fragmented packets are "
     "dropped. Solution: lower the MTU on the VPN adapter to 1400 or enable MSS clamping on the "
     "VPN gateway."),
    ("zh-vpn-drop", "zh", "VPN 每隔几分钟自动断开", ["VPN", "断线"],
     "现象：出差员工通过 VPN 访问内网时每隔几分钟断开一次。原因：VPN 会话空闲超时设置过短。"
     "解决：把空闲超时调整为 30 分钟，并在客户端开启保活。"),
    ("zh-dns", "zh", "用域名访问不了系统，用 IP 可以", ["DNS", "域名解析"],
     "现象：浏览器提示找不到服务器，直接输入 IP 地址可以访问。原因：内网 DNS 没有该域名的解析记录。"
     "解决：在内网 DNS 添加 A 记录，临时可在 hosts 文件中配置。"),
    ("en-firewall", "en", "Desktop client cannot reach the server: firewall ports",
     ["firewall", "network", "client"],
     "Symptom: the desktop client spins on sign-in and then reports that the server cannot be "
     "reached. Cause: the firewall does not allow port 443 and 9123. Solution: open both ports "
     "and check the cloud security group rules."),
    # ---- identity / login -------------------------------------------------------------------
    ("en-ldap-sync", "en", "New employees missing after directory synchronization",
     ["LDAP", "Active Directory", "synchronization"],
     "Symptom: people added to Active Directory do not appear as users. Cause: the LDAP sync "
     "job's base DN covers only one organizational unit. Solution: widen the base DN or add the "
     "new OU to the sync scope, then run the synchronization manually."),
    ("en-clock-skew", "en", "Sign-in rejected because the server clock is wrong",
     ["clock skew", "NTP", "token"],
     "Symptom: every sign-in fails with 'token not yet valid' although the password is right. "
     "Cause: the server clock drifted several minutes, so tokens look issued in the future. "
     "Solution: synchronize the server time with an NTP server and enable the time service."),
    ("zh-account-lock", "zh", "连续输错密码后账号被锁定", ["账号锁定", "密码"],
     "现象：登录页提示账号已被锁定。原因：安全策略规定连续 5 次密码错误锁定 15 分钟。"
     "解决：等待 15 分钟后重试，或由管理员在用户管理中解锁。"),
    ("zh-sso-blank", "zh", "单点登录跳转回来后页面空白", ["SSO", "单点登录"],
     "现象：通过单点登录跳转回系统后一片空白。原因：身份提供方配置的回调地址与实际访问地址不一致。"
     "解决：修改回调地址为实际域名并清除浏览器缓存。"),
    ("en-password-expired", "en", "Password expired message at every sign-in",
     ["password", "expiry"],
     "Symptom: users are told their password has expired and cannot continue. Cause: the "
     "password policy requires a change every 90 days. Solution: change the password on the "
     "sign-in page or ask an administrator to reset it."),
    # ---- mail / notifications ---------------------------------------------------------------
    ("en-smtp-relay", "en", "Notification emails are not delivered: SMTP relay denied",
     ["SMTP", "email", "notification"],
     "Symptom: approval and alert notifications never reach anyone's inbox. Cause: the mail "
     "server refuses to relay for the application server ('relay access denied'). Solution: "
     "allow the application server's address on the SMTP relay or configure authenticated "
     "SMTP with a service account."),
    ("zh-mailbox-full", "zh", "邮箱空间已满，收不到新邮件", ["邮箱", "容量"],
     "现象：用户反映收不到外部邮件，发件人收到退信。原因：邮箱容量达到配额上限。"
     "解决：清理大附件邮件或由管理员提高邮箱配额。"),
    ("en-mail-spam", "en", "Password reset mail lands in the spam folder",
     ["email", "spam", "password reset"],
     "Symptom: reset mails arrive only in the junk folder. Cause: the sending domain has no SPF "
     "record. Solution: publish an SPF record that includes the mail server and add DKIM."),
    # ---- reports / export -------------------------------------------------------------------
    ("zh-export-timeout", "zh", "导出大数据量报表时提示超时", ["导出", "超时", "报表"],
     "现象：导出几十万行的报表到 Excel，等待一分钟后提示请求超时。原因：导出耗时超过网关 60 秒超时。"
     "解决：调大网关超时，或分批导出、使用异步导出任务。"),
    ("zh-csv-garbled", "zh", "导出的 CSV 用 Excel 打开中文乱码", ["CSV", "乱码", "编码"],
     "现象：用 Excel 打开导出的 CSV 文件，中文显示为乱码。原因：文件是不带 BOM 的 UTF-8，Excel 按 GBK 解析。"
     "解决：导出时选择“UTF-8（带 BOM）”，或通过“数据-自文本”导入并指定编码。"),
    ("en-report-schedule", "en", "Scheduled report was not sent this morning",
     ["schedule", "report", "email"],
     "Symptom: a report scheduled for 8:00 did not arrive. Cause: the scheduler service stopped "
     "after the server restarted and is not set to start automatically. Solution: start the "
     "scheduler service and set its startup type to automatic; missed runs can be triggered by "
     "hand."),
    ("zh-chart-blank", "zh", "报表导出 PDF 后图表空白", ["PDF", "图表"],
     "现象：报表导出为 PDF 后图表区域空白。原因：导出时图表尚未渲染完成。解决：在导出设置中把渲染等待时间调到 5 秒以上。"),
    # ---- sync / files -----------------------------------------------------------------------
    ("zh-sync-stuck", "zh", "客户端同步卡在“正在扫描”", ["同步", "客户端"],
     "现象：网盘客户端同步状态一直显示正在扫描，文件不上传。原因：同步目录中包含数十万个小文件，本地索引损坏。"
     "解决：退出客户端，删除本地索引数据库后重新启动，让客户端重建索引。"),
    ("en-sync-conflict", "en", "Conflicted copy files appear in the sync folder",
     ["sync", "conflict"],
     "Symptom: files named 'conflicted copy' appear. Cause: two devices changed the same file "
     "before syncing. Solution: compare the copies, keep the right one and delete the other."),
    ("zh-upload-limit", "zh", "上传大文件失败：超过单文件大小限制", ["上传", "文件大小"],
     "现象：上传 5 GB 的视频时进度到 100% 后提示失败。原因：系统设置的单文件大小上限为 4 GB。"
     "解决：管理员在“存储策略”中调高单文件大小上限，或压缩分卷后上传。"),
    # ---- licensing --------------------------------------------------------------------------
    ("zh-license-expired", "zh", "许可证过期后部分功能不可用", ["许可证", "过期"],
     "现象：系统提示许可证已过期，报表和导出功能被禁用。原因：许可证有效期已到。"
     "解决：联系销售续期，在“系统设置-许可证”中导入新的许可证文件。"),
    ("en-license-machine", "en", "License import fails: machine code mismatch",
     ["license", "machine code", "activation"],
     "Symptom: importing the new license says the machine code does not match. Cause: the "
     "license was generated for the old server. Solution: read the machine code on the new "
     "server and ask the vendor to issue the license again."),
    # ---- workflow / misc --------------------------------------------------------------------
    ("zh-approval-stuck", "zh", "审批流程卡住，下一步审批人收不到待办", ["审批", "工作流", "待办"],
     "现象：单据提交后停在某个节点，下一节点的审批人待办列表里没有它。原因：该节点配置的审批人已离职，账号被禁用。"
     "解决：在流程设计中把节点审批人改为岗位或角色，并把卡住的单据转交给新的审批人。"),
    ("en-workflow-delegate", "en", "Approvals pile up while the approver is on leave",
     ["workflow", "approval", "delegation"],
     "Symptom: requests wait for days while the approver is away. Solution: the approver, or "
     "an administrator, sets a delegation for the leave period so that new approvals go to the "
     "deputy; pending ones can be transferred by hand."),
    ("zh-timezone", "zh", "单据时间比实际时间差 8 小时", ["时区", "时间"],
     "现象：单据上的创建时间比实际早 8 小时。原因：服务器时区设置为 UTC，应用按服务器时区显示。"
     "解决：把系统时区设置为 Asia/Shanghai，重启应用服务。"),
    ("en-session-timeout", "en", "Users are signed out after a few minutes of inactivity",
     ["session", "timeout"],
     "Symptom: users must sign in again after five idle minutes. Cause: the session timeout is "
     "set to 5 minutes. Solution: raise the session timeout in Security settings; 30 minutes is "
     "common."),
    ("zh-backup-fail", "zh", "数据库定时备份任务失败：备份目录无写权限", ["备份", "数据库"],
     "现象：每天凌晨的定时备份任务失败，日志提示无法写入备份目录。原因：备份目录属主不是数据库运行用户。"
     "解决：修改目录属主和权限，手动执行一次备份验证。"),
    ("en-backup-restore", "en", "Restoring a backup from an older major version",
     ["backup", "restore", "version"],
     "Symptom: restoring a backup reports an incompatible version. Cause: the backup comes from "
     "an older major version. Solution: restore it into an instance of that version first, then "
     "upgrade that instance."),
    ("zh-high-cpu", "zh", "应用服务器 CPU 长时间 100%", ["CPU", "性能"],
     "现象：应用服务器 CPU 使用率长时间 100%，页面响应很慢。原因：定时任务配置为每分钟全量重算统计报表。"
     "解决：把统计任务改为每天夜间执行一次，或改为增量计算。"),
    ("en-memory-leak", "en", "Application server memory grows until it restarts",
     ["memory", "out of memory", "JVM"],
     "Symptom: memory use climbs for days until the service is killed. Cause: the cache has no "
     "size limit. Solution: set cache.max_entries and a heap limit, then upgrade to 5.3 where "
     "the cache is bounded by default."),
]


def articles():
    """-> [dict(id, language, title, keywords, body)]"""
    return [{"id": i, "language": lang, "title": title, "keywords": tags, "body": body,
             "product": None, "category": None}
            for i, lang, title, tags, body in ARTICLES]
