"""Realistic zh/en tickets for the search benchmark, written as COPY rows (fast: 1,000,000
rows in well under a minute of Python).

Titles and descriptions come from the 60 support problems of bench/kb_corpus.py (a product
prefix, the problem's title; its symptom, a sentence borrowed from another problem, and a
long tail of details: error codes, host names, versions), so common words ("登录", "timeout")
match a few per cent of the tickets and a specific error code a handful. Submitters come from
a pool of ~20,000 Chinese and English names in ~2,000 companies with Chinese company names.
Numbers follow intake's format (TS + day + daily sequence), ~1,000 a day back from two days ago.
"""
import datetime as dt
import io
import json
import random
import uuid

from bench.kb_corpus import EN, PRODUCTS, VERSIONS, ZH
from services.intake.domain import STATUSES, format_number
from services.intake.search import grams

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
         "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "华", "建国", "志强", "晓东", "海燕",
         "雪梅", "子涵", "浩然", "宇轩", "欣怡", "梓萱", "一鸣", "思远", "嘉怡", "俊杰", "雨桐"]
EN_FIRST = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "Jack",
            "Kevin", "Linda", "Mike", "Nancy", "Oscar", "Peter", "Rachel", "Steven", "Tina", "Victor"]
EN_LAST = ["Chen", "Wang", "Smith", "Johnson", "Lee", "Brown", "Garcia", "Miller", "Davis", "Lin",
           "Wilson", "Taylor", "Clark", "Lewis", "Walker", "Young", "King", "Wright", "Scott", "Green"]
CITIES = ["北京", "上海", "杭州", "深圳", "广州", "成都", "武汉", "南京", "西安", "苏州", "天津", "重庆",
          "长沙", "青岛", "厦门", "合肥", "郑州", "济南", "沈阳", "大连"]
WORDS = ["云启", "华信", "博远", "中科", "鼎新", "恒通", "天成", "众合", "创联", "宏图", "瑞达", "金桥",
         "远航", "星辰", "新锐", "汇智", "联创", "安泰", "融和", "智达", "海川", "佳禾", "卓越", "明德"]
TRADES = ["科技", "信息技术", "软件", "数据", "网络", "电子", "医疗", "教育", "物流", "制造"]
SUFFIX = ["有限公司", "股份有限公司", "集团有限公司"]
TYPES = ("consult", "defect", "customization", "license", "repair", "inspection", "installation")
CATEGORIES = ("function", "performance", "network", "configuration", "consultation",
              "permissions", "backup")
# a desk's mix: most tickets are done, a minority open
STATUS_WEIGHTS = {"new": 4, "needs_info": 2, "assigned": 4, "in_progress": 6, "suspended": 1,
                  "resolved": 5, "closed": 70, "cancelled": 8}
assert set(STATUS_WEIGHTS) == set(STATUSES)
COLUMNS = ("id", "number", "type", "title", "product", "product_line", "product_version",
           "category", "description", "environment", "impact", "urgency", "priority",
           "contact_name", "contact_phone", "status", "submitter_id", "submitter_name",
           "company_id", "company_name", "version", "resolution_round", "reopen_count",
           "sla_breached", "created_at", "updated_at", "search_grams")


def _copy_text(value):
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n") \
        .replace("\r", "\\r")


class Corpus:
    def __init__(self, seed=15, companies=2000, people=20000, per_day=1000, today=None):
        rng = self.rng = random.Random(seed)
        self.per_day = per_day
        # ending two days ago: tickets created during the run never meet a loaded number
        self.today = today or dt.datetime.now(dt.timezone.utc).replace(
            hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=2)
        self.companies = []
        seen = set()
        while len(self.companies) < companies:
            name = rng.choice(CITIES) + rng.choice(WORDS) + rng.choice(TRADES) + rng.choice(SUFFIX)
            if name in seen:
                name = name.replace("有限公司", f"第{len(seen) % 97 + 1}分公司")
            if name in seen:
                continue
            seen.add(name)
            self.companies.append((str(uuid.UUID(int=rng.getrandbits(128))), name))
        self.people = []
        for _ in range(people):
            company = rng.choice(self.companies)
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) if rng.random() < 0.8 else \
                f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
            self.people.append((str(uuid.UUID(int=rng.getrandbits(128))), name, company))
        self.problems = []
        for language, problems in (("zh", ZH), ("en", EN)):
            for title, symptom, cause, _sol, _kw, category, products, _q in problems.values():
                self.problems.append((language, title, symptom, cause, category, products))

    def ticket(self, i, seq_by_day):
        """The i-th ticket of `self.total`; i = 0 is the oldest."""
        rng = self.rng
        language, title, symptom, cause, category, products = rng.choice(self.problems)
        product = rng.choice(products)
        name = PRODUCTS[product].split()[0]
        version = rng.choice(VERSIONS)
        other = rng.choice(self.problems)
        host = f"srv-{rng.randrange(1, 5000):04d}"
        code = f"E{rng.randrange(10000, 100000)}"
        if language == "zh":
            t = f"{name}：{title}" + rng.choice(("", "", "（紧急）", f"，{host}", "，请尽快处理"))
            d = (rng.choice(("", "", "", "", "", "用户无法登录，")) +
                 f"{symptom}{other[2] if other[0] == 'zh' else ''}"
                 f"版本 {version}，服务器 {host}，错误码 {code}。" + rng.choice(
                     ("从昨天开始出现。", "一直存在。", "偶发，重启后恢复。", "影响整个部门。", "")))
        else:
            t = f"{name}: {title}" + rng.choice(("", "", " (urgent)", f" on {host}", ""))
            d = (f"{symptom} {other[2] if other[0] == 'en' else ''} Version {version}, "
                 f"host {host}, error code {code}. " + rng.choice(
                     ("Started yesterday.", "Persistent.", "Intermittent; a restart helps.",
                      "The whole department is affected.", "")))
        person_id, person, (company_id, company) = rng.choice(self.people)
        day = self.today - dt.timedelta(days=(self.total - 1 - i) // self.per_day)
        seq_by_day[day] = seq = seq_by_day.get(day, 0) + 1
        created = day + dt.timedelta(seconds=(seq * 86400 // (self.per_day + 1)))
        status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        impact = rng.choice(("individual", "department", "company"))
        urgency = rng.choice(("low", "medium", "high", "critical"))
        number, t = format_number("TS", day, seq), t[:200]
        return (str(uuid.UUID(int=rng.getrandbits(128))), number,
                rng.choice(TYPES), t, product, product.lower(), version, category, d,
                json.dumps({"os": rng.choice(("Windows 10", "macOS 14", "CentOS 7", "麒麟 V10"))},
                           ensure_ascii=False),
                impact, urgency, rng.choice(("P1", "P2", "P3", "P3", "P4", "P4")), person,
                f"138{rng.randrange(10**8):08d}", status, person_id, person, company_id,
                company, 1, 0, 0, "f", created.isoformat(), created.isoformat(),
                "{" + ",".join(grams(number, t, d, person, company, person)) + "}")

    def copy_buffers(self, total, batch=50000):
        """Yield io.StringIO buffers in COPY text format, `batch` rows each, oldest first."""
        self.total = total
        seq_by_day = {}
        for start in range(0, total, batch):
            buf = io.StringIO()
            for i in range(start, min(total, start + batch)):
                buf.write("\t".join(_copy_text(v) for v in self.ticket(i, seq_by_day)))
                buf.write("\n")
            buf.seek(0)
            yield buf
