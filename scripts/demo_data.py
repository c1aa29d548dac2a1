"""Demo data for a running Gongdan: log in and see a living system.

    ./gongdan demo        (= python -m scripts.demo_data [--base-url URL] [--admin-login L ...])

Everything goes through the public HTTP API, as a real administrator, agent, customers and
provider would do it; re-running is harmless (existing accounts, companies and tickets are
reused). If the administrator named by --admin-login cannot log in, a demo administrator is
created with the documented CLI (`python -m gateway.cli create-admin`).
"""
import argparse
import datetime as dt
import os
import subprocess
import sys
import time

import requests

from gongdan_common.config import load_config, repo_root

PASSWORD = "Demo#2026pass"
# e-mail only: a phone could be the one of the administrator the README creates first
DEMO_ADMIN = ("admin@demo.gongdan.local", "Demo#2026admin")

COMPANIES = [
    {"name": "华东示例制造有限公司", "kind": "customer", "contract_tier": "gold", "region": "华东"},
    {"name": "Northwind Trading Ltd.", "kind": "customer", "contract_tier": "standard",
     "region": "华南"},
    {"name": "联信技术服务有限公司", "kind": "provider", "region": "华东"},
]
# phone, email, name, role, company name, position
PEOPLE = [
    ("13900000001", "zhao.min@huadong.example", "赵敏", "customer_admin", "华东示例制造有限公司", "IT 主管"),
    ("13900000002", "qian.wei@huadong.example", "钱伟", "customer", "华东示例制造有限公司", "运维工程师"),
    ("13900000003", "alice@northwind.example", "Alice Chen", "customer", "Northwind Trading Ltd.", "IT manager"),
    ("13900000004", "sun.li@vendor.example", "孙丽", "agent", None, "技术支持"),
    ("13900000005", "zhou.qiang@lianxin.example", "周强", "provider_admin", "联信技术服务有限公司", "服务商接口人"),
    ("13900000006", "wu.gang@lianxin.example", "吴刚", "engineer", "联信技术服务有限公司", "现场工程师"),
    ("13900000007", "zheng.jie@lianxin.example", "郑洁", "engineer", "联信技术服务有限公司", "现场工程师"),
]
PRODUCTS = [
    {"code": "AS-8", "name": "AnyShare 8 企业内容管理", "product_line": "anyshare", "versions": ["8.0", "8.1"]},
    {"code": "AB-7", "name": "AnyBackup 7 备份一体机", "product_line": "anybackup", "versions": ["7.0"]},
    {"code": "OB-4", "name": "OceanBase 4 数据库", "product_line": "oceanbase", "versions": ["4.2", "4.3"]},
]


class Client:
    def __init__(self, base, token=None):
        self.base, self.token = base.rstrip("/") + "/api/v1", token

    def call(self, method, path, body=None, ok=(200, 201, 204), **kw):
        headers = {"Accept-Language": "zh"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        headers.update(kw.pop("headers", {}))
        for attempt in range(6):  # 503 + Retry-After: a dependency is away for a moment
            r = requests.request(method, self.base + path, json=body, headers=headers,
                                 timeout=30, **kw)
            if r.status_code != 503 or 503 in ok:
                break
            time.sleep(min(float(r.headers.get("Retry-After") or 1), 5))
        if r.status_code not in ok:
            raise SystemExit(f"{method} {path} -> {r.status_code}: {r.text}")
        return r

    def login(self, login, password, ok=(200,)):
        r = self.call("POST", "/auth/login", {"login": login, "password": password}, ok=ok)
        if r.status_code == 200:
            self.token = r.json()["access_token"]
            self.user = r.json()["user"]
        return r


def wait_status(api, ticket_id, wanted, seconds=15):
    """Assignment arrives in intake by event: wait until the ticket shows one of `wanted`."""
    deadline = time.monotonic() + seconds
    status = None
    while time.monotonic() < deadline:
        status = api.call("GET", f"/tickets/{ticket_id}").json()["status"]
        if status in wanted:
            return status
        time.sleep(0.3)
    return status


def day(offset):
    return (dt.date.today() + dt.timedelta(days=offset)).isoformat()


def main(argv=None):
    config = load_config(os.path.join(repo_root(), "config", "gongdan.yaml"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://" + str(config["WEB_SERVER_ADDRESS"]))
    parser.add_argument("--admin-login", default=DEMO_ADMIN[0])
    parser.add_argument("--admin-password", default=DEMO_ADMIN[1])
    args = parser.parse_args(argv)

    admin = Client(args.base_url)
    if admin.login(args.admin_login, args.admin_password, ok=(200, 401, 403, 423)).status_code != 200:
        if args.admin_login != DEMO_ADMIN[0]:
            raise SystemExit(f"cannot log in as {args.admin_login}")
        subprocess.run([sys.executable, "-m", "gateway.cli", "create-admin", "--name", "演示管理员",
                        "--email", DEMO_ADMIN[0], "--password", DEMO_ADMIN[1]],
                       check=True, stdout=subprocess.DEVNULL, cwd=repo_root())
        if admin.login(args.admin_login, args.admin_password, ok=(200, 401, 403, 423)) \
                .status_code != 200:
            raise SystemExit(f"{DEMO_ADMIN[0]} exists with another password: pass "
                             "--admin-login and --admin-password of an administrator")

    companies = {c["name"]: c for c in admin.call("GET", "/admin/companies").json()["items"]}
    for c in COMPANIES:
        if c["name"] not in companies:
            companies[c["name"]] = admin.call("POST", "/admin/companies", c).json()
    for p in PRODUCTS:
        admin.call("PUT", f"/admin/products/{p['code']}", {k: v for k, v in p.items() if k != "code"})

    people = {}
    for phone, email, name, role, company, position in PEOPLE:
        r = Client(args.base_url).call("POST", "/auth/register", {
            "name": name, "phone": phone, "email": email, "password": PASSWORD,
            "position": position, "company_name": company or "厂商"}, ok=(201, 409))
        if r.status_code == 201:
            body = {"role": role, "company_id": companies[company]["id"] if company else None}
            admin.call("POST", f"/admin/users/{r.json()['id']}/approve", body)
        people[phone] = Client(args.base_url)
        people[phone].login(phone, PASSWORD)

    provider = companies["联信技术服务有限公司"]
    admin.call("PUT", f"/providers/{provider['id']}", {
        "name": provider["name"], "regions": ["华东"], "product_lines": ["anyshare", "anybackup"]})
    certs = {"13900000006": [("anyshare", "AS-CERT-0601", -200, 500), ("anybackup", "AB-CERT-0602", -100, 300)],
             "13900000007": [("anyshare", "AS-CERT-0701", -700, -1)]}  # expired yesterday
    for phone, rows in certs.items():
        engineer = people[phone].user
        admin.call("PUT", f"/engineers/{engineer['id']}", {
            "provider_id": provider["id"], "name": engineer["name"],
            "skills": ["linux", "storage"] if phone.endswith("6") else ["network"]})
        for line, number, start, end in rows:
            admin.call("POST", f"/engineers/{engineer['id']}/certifications", {
                "product_line": line, "certificate_no": number, "certificate_name": f"{line} 认证工程师",
                "valid_from": day(start), "valid_until": day(end)})

    zhao, qian, alice, agent, zhou, wu = (people[p] for p in (
        "13900000001", "13900000002", "13900000003", "13900000004", "13900000005",
        "13900000006"))

    def ticket(who, key, **fields):
        body = {"type": "defect", "category": "function", "contact_phone": "13900000002",
                "impact": "department", "urgency": "medium"}
        body.update(fields)
        return who.call("POST", "/tickets", body, headers={"Idempotency-Key": "demo-" + key}).json()

    t1 = ticket(qian, "1", title="文档库导出 Excel 报 500 错误", product="AS-8", product_version="8.1",
                description="点击“导出”后页面提示 500，所有用户都能复现，从今天上午开始。",
                steps="1. 进入文档库 2. 选择任意目录 3. 点击导出", error_message="HTTP 500 Internal Server Error",
                impact="company", urgency="high", environment={"os": "Windows 11", "browser": "Chrome 120"})
    detail = qian.call("GET", f"/tickets/{t1['id']}").json()  # re-runs add nothing twice
    if not detail["attachments"]:
        log = "2026-11-22 09:12:01 ERROR export failed: timeout contacting storage node\n" * 20
        qian.call("POST", f"/tickets/{t1['id']}/attachments",
                  files={"file": ("server.log", log.encode())}, ok=(201, 503))
    if not detail["comments"]:
        agent.call("POST", f"/tickets/{t1['id']}/comments", {"body": "已收到，正在分析日志，请保持电话畅通。"})
        agent.call("POST", f"/tickets/{t1['id']}/comments",
                   {"body": "疑似存储节点超时，联系服务商确认。", "internal": True})
    t2 = ticket(zhao, "2", title="备份任务每晚失败", product="AB-7", type="repair", category="backup",
                description="备份一体机夜间任务失败，需要上门检查。", device_sn="AB7-2024-000123",
                urgency="high")
    t3 = ticket(qian, "3", title="如何配置单点登录？", product="AS-8", type="consult",
                category="consultation", description="想了解 AnyShare 与公司 AD 的单点登录配置方法。",
                impact="individual", urgency="low")
    if t3["status"] == "new":
        agent.call("POST", f"/tickets/{t3['id']}/request-info",
                   {"reason": "请提供 AD 域的版本和当前登录方式截图。"})
    t4 = ticket(alice, "4", title="Slow queries after upgrade", product="OB-4", category="performance",
                description="Queries on the orders table take 20 s since the upgrade to 4.3.",
                contact_phone="+86 139 0000 0003", environment={"database": "OceanBase 4.3"})
    t5 = ticket(qian, "5", title="重复提交：导出报错", product="AS-8",
                description="与上一个工单相同，误提交。", impact="individual", urgency="low")
    if t5["status"] == "new":
        qian.call("POST", f"/tickets/{t5['id']}/cancel", {"reason": "重复提交"})
    # installation tickets are dispatched automatically to a certified engineer
    t6 = ticket(zhao, "6", title="安装新版本客户端", product="AS-8", type="installation",
                category="installation", description="需要为 200 台电脑安装 8.1 客户端。",
                device_sn="AS8-SITE-HZ-01")

    # the desk routes t1 to an engineer, who starts and answers
    if wait_status(agent, t1["id"], ("new", "assigned", "in_progress")) == "new":
        agent.call("POST", f"/tickets/{t1['id']}/assign",
                   {"engineer_id": wu.user["id"], "reason": "AnyShare 认证工程师"})
    if wait_status(agent, t1["id"], ("assigned", "in_progress")) == "assigned":
        wu.call("POST", f"/tickets/{t1['id']}/start")
        wu.call("POST", f"/tickets/{t1['id']}/comments",
                {"body": "已定位到存储节点超时，正在调整超时参数。"})
    # the vendor offers the repair ticket to the provider, which accepts with its engineer
    if wait_status(agent, t2["id"], ("new", "assigned", "in_progress")) == "new":
        offer = agent.call("POST", f"/tickets/{t2['id']}/offer",
                           {"provider_id": provider["id"]}, ok=(201, 409)).json()
        if "id" in offer:
            zhou.call("POST", f"/offers/{offer['id']}/accept", {"engineer_id": wu.user["id"]})
    if wait_status(agent, t2["id"], ("assigned", "in_progress")) == "assigned":
        wu.call("POST", f"/tickets/{t2['id']}/start")
        now = dt.datetime.now(dt.timezone.utc)
        wu.call("POST", f"/tickets/{t2['id']}/worklogs", {
            "started_at": t2["created_at"], "ended_at": now.isoformat(), "on_site": True,
            "title": "上门检查备份一体机", "description": "检查磁盘阵列和备份策略，发现一块硬盘告警。"},
            headers={"Idempotency-Key": "demo-wl-1"})
    # a consultation answered, resolved, confirmed and rated
    t7 = ticket(qian, "7", title="如何设置文档保留策略？", product="AS-8", type="consult",
                category="consultation", description="希望删除的文件保留 90 天。",
                impact="individual", urgency="low")
    if wait_status(agent, t7["id"], ("new", "assigned", "in_progress", "resolved", "closed")) == "new":
        agent.call("POST", f"/tickets/{t7['id']}/assign", {"engineer_id": wu.user["id"]})
    if wait_status(agent, t7["id"], ("assigned", "in_progress", "resolved", "closed")) == "assigned":
        wu.call("POST", f"/tickets/{t7['id']}/start")
        wu.call("POST", f"/tickets/{t7['id']}/resolve", {
            "root_cause": "user_operation", "description": "在“回收站策略”中设置保留 90 天即可。",
            "completed_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "comment": "已在测试环境验证，步骤见知识库。"})
        qian.call("POST", f"/tickets/{t7['id']}/confirm")
        qian.call("POST", f"/tickets/{t7['id']}/rating",
                  {"product_score": 5, "service_score": 5, "comment": "解答清楚"})
    wait_status(agent, t6["id"], ("assigned", "in_progress", "new"))

    print("Demo data is ready. Log in at", args.base_url + "/", "with password", PASSWORD)
    for phone, _email, name, role, company, _pos in PEOPLE:
        print(f"  {role:15} {phone}  {name}  {company or '(vendor)'}")
    print(f"  {'admin':15} {args.admin_login}  password {args.admin_password}")
    tickets = [agent.call("GET", f"/tickets/{t['id']}").json() for t in (t1, t2, t3, t4, t5, t6, t7)]
    print("Tickets:", ", ".join(f"{t['number']} ({t['status']})" for t in tickets))


if __name__ == "__main__":
    main()
