"""Chinese renderings of validation messages.

Service schemas write their own messages with `bi(en, zh)`, which records the pair; the
default marshmallow messages are translated by pattern. Translation happens inside the
service that validated, so the gateway never needs to know another service's schemas.
"""
import re

_PAIRS = {}

_PATTERNS = [
    (r"Missing data for required field\.", "缺少必填字段。"),
    (r"Field may not be null\.", "该字段不能为空。"),
    (r"Unknown field\.", "未知字段。"),
    (r"Not a valid string\.", "不是有效的文本。"),
    (r"Not a valid integer\.", "不是有效的整数。"),
    (r"Not a valid number\.", "不是有效的数字。"),
    (r"Not a valid boolean\.", "不是有效的布尔值。"),
    (r"Not a valid datetime\.", "不是有效的日期时间。"),
    (r"Not a valid date\.", "不是有效的日期。"),
    (r"Not a valid email address\.", "不是有效的电子邮件地址。"),
    (r"Not a valid UUID\.", "不是有效的 UUID。"),
    (r"Not a valid list\.", "不是有效的列表。"),
    (r"Not a valid mapping type\.", "不是有效的对象。"),
    (r"Invalid input type\.", "输入类型无效。"),
    (r"Invalid value\.", "取值无效。"),
    (r"Length must be between (\d+) and (\d+)\.", r"长度必须在 \1 到 \2 之间。"),
    (r"Shorter than minimum length (\d+)\.", r"长度不能少于 \1。"),
    (r"Longer than maximum length (\d+)\.", r"长度不能超过 \1。"),
    (r"Must be one of: (.*)\.", r"必须是以下之一：\1。"),
    (r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.",
     r"必须在 \1 到 \2 之间。"),
    (r"Must be greater than or equal to (\S+) and less than (\S+)\.",
     r"必须大于或等于 \1 且小于 \2。"),
    (r"Must be greater than (\S+) and less than or equal to (\S+)\.",
     r"必须大于 \1 且小于或等于 \2。"),
    (r"Must be greater than (\S+) and less than (\S+)\.", r"必须大于 \1 且小于 \2。"),
    (r"Must be greater than or equal to (\S+)\.", r"必须大于或等于 \1。"),
    (r"Must be less than or equal to (\S+)\.", r"必须小于或等于 \1。"),
    (r"Must be greater than (\S+)\.", r"必须大于 \1。"),
    (r"Must be less than (\S+)\.", r"必须小于 \1。"),
    (r"Length must be (\d+)\.", r"长度必须为 \1。"),
    (r"Not a valid URL\.", "不是有效的 URL。"),
    (r"Not a valid time\.", "不是有效的时间。"),
    (r"Not a valid tuple\.", "不是有效的元组。"),
    (r"One or more of the choices you made was not in: (.*)\.", r"所选内容中有不在以下范围内的：\1。"),
    (r"String does not match expected pattern\.", "格式不正确。"),
    (r"Special numeric values \(nan or infinity\) are not permitted\.",
     "不允许特殊数值（NaN 或无穷大）。"),
    (r"Number too large\.", "数字过大。"),
]
_COMPILED = [(re.compile("^" + p + "$"), r) for p, r in _PATTERNS]


def bi(en, zh):
    """Declare a bilingual message; returns the English text for marshmallow to carry."""
    _PAIRS[en] = zh
    return en


def translate(en):
    if en in _PAIRS:
        return _PAIRS[en]
    for rx, repl in _COMPILED:
        if rx.match(en):
            return rx.sub(repl, en)
    return en


def pick_language(accept_language):
    """'zh-CN,zh;q=0.9,en;q=0.8' -> 'zh'. Only zh and en are offered; en is the default."""
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(","):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            if b.strip().startswith("q="):
                try:
                    q = float(b.strip()[2:])
                except ValueError:
                    q = 0.0
        lang = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if lang and q > best_q:
            best, best_q = lang, q
    return best
