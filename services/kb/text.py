"""Text handling for the knowledge base: one tokenizer for documents and queries (jieba for
Chinese, Snowball stemming for English), Markdown rendered to sanitized HTML, plain text
for snippets, and highlighted snippets.

Pure Python (no nameko, no sqlalchemy), so it is unit-tested on its own.
"""
import html
import logging
import re
import unicodedata

import jieba
import nh3
import snowballstemmer
from markdown_it import MarkdownIt

jieba.setLogLevel(logging.WARNING)

# a CJK run, or a latin/digit word (model numbers like 8.0.3 stay one token)
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9a-z]+(?:\.[0-9a-z]+)*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

EN_STOP = frozenset("""a an and are as at be but by can do does for from has have how i if in
into is it its me my no not of on or our so that the their then there these this to was we
were what when where which while who why will with you your after before again all
any also am been being cannot could did doing during each get got please should than too
very would""".split())
ZH_STOP = frozenset("""的 了 是 在 和 与 或 及 时 被 把 将 对 也 就 都 而 吗 呢 吧 啊 我 你 他 她 它
我们 你们 他们 这 那 这个 那个 一个 有 没有 请 如何 怎么 怎样 什么 为什么 可以 能 会 要 还 又 让 给
从 到 后 中 上 下 里 之 以 等 该 其 及其 进行 出现 问题 一下 时候 如果 但是 所以 因为 已经 无法 不能
不 没 个 为 用 于 并 则 由""".split())
STOP = EN_STOP | ZH_STOP

# spelling variants folded together at index and query time
SYNONYMS = {"登陆": "登录", "帐号": "账号", "帐户": "账号", "账户": "账号", "logon": "login",
            "signin": "login", "mail": "email", "licenc": "licens", "lisenc": "licens",
            "许可": "许可证", "授权码": "许可证", "授权": "许可证", "到期": "过期"}
# words that say *that* something went wrong, not *what*: in a support knowledge base
# nearly every article has them, so in a query they count for less than the topic words
GENERIC = {"失败": 0.3, "错误": 0.3, "报错": 0.3, "异常": 0.3, "提示": 0.3, "不了": 0.3,
           "fail": 0.3, "error": 0.3, "problem": 0.3, "issu": 0.3, "work": 0.3}
# conversational filler: who is asking, when, how politely, what they already tried. Real
# words (an article may well say 重启服务), so they stay in the index, but in a query they
# count for little beside the words that name the problem
FILLER_ZH = """客户 用户们 我们 我们公司 公司 同事 那边 这边 您好 你好 谢谢 麻烦 帮忙 帮助 请问 问一下 一下
看看 看一下 反馈 反映 说 告诉 每天 天天 上午 下午 晚上 早上 今天 昨天 前天 最近 本周 上周 周一 周末
应该 需要 可能 好像 是不是 一直 总是 还是 现在 之前 以前 试过 尝试 情况 怎么办 怎么 办法 原因 比较
着急 尽快 紧急 打开 重启 重新 出来 看到 发现 遇到 一样 正常 同样 条件""".split()
FILLER_EN = """hi hello dear team thanks thank please help advise advice customer customers
today yesterday morning afternoon evening every day days week weekend since still always
restart restarted reboot rebooted urgent asap possible soon check know someone somebody
guys good need needs want try tried also just some any lot really already anyone our us""".split()
FILLER = 0.15

_stemmer = snowballstemmer.stemmer("english")
_stem_cache = {}


def normalize(text):
    """NFKC (full-width letters and digits to half-width) and lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _stem(word):
    out = _stem_cache.get(word)
    if out is None:
        out = _stemmer.stemWord(word)
        if len(_stem_cache) < 200_000:
            _stem_cache[word] = out
    return out


for _w in FILLER_ZH:
    GENERIC.setdefault(_w, FILLER)
for _w in FILLER_EN:
    GENERIC.setdefault(_stem(_w) if _w.isalpha() else _w, FILLER)


def _term(word):
    if word in STOP:
        return None
    word = SYNONYMS.get(word, word)
    if not _CJK.search(word):
        word = SYNONYMS.get(_stem(word), _stem(word)) if word.isalpha() else word
    return word


# A compound's dictionary sub-words (数据库 -> 数据; 服务器 -> 服务) are indexed beside it at a
# fraction of its weight: a query for the part still finds the whole, but a generic compound
# no longer counts three times. Fragments jieba's dictionary barely knows (据库, 务器, 二步:
# frequency < SUB_MIN_FREQ) are not sub-words.
SUB_WEIGHT = 0.3
SUB_MIN_FREQ = 100
# a model name and its number are one thing however they are written: "IE 11", "IE11",
# "ie11" all give the joined ie11, and ie and 11 (lighter when they were written joined)
_MODEL = re.compile(r"([a-z]+)([0-9]{1,4})")
_JOIN_GAP = re.compile(r"[ \-_]?")


def _freq():
    jieba.dt.check_initialized()
    return jieba.dt.FREQ


def _sub_words(word):
    if len(word) < 3:
        return []
    freq, out = _freq(), []
    for n in (2, 3):
        for i in range(len(word) - n + 1):
            part = word[i:i + n]
            if part != word and freq.get(part, 0) >= SUB_MIN_FREQ:
                out.append((part, i))
    return out


def weighted_tokens(text):
    """[(term, start, end, weight)] over `normalize(text)`: whole words weigh 1, the
    sub-words of a compound SUB_WEIGHT. Offsets index the normalized text, which has the
    same length as the original for the scripts we handle (NFKC of CJK/latin)."""
    text = normalize(text)
    out = []
    prev = None  # the previous latin run, for "IE 11" -> ie11
    for run in _RUN.finditer(text):
        chunk, base = run.group(), run.start()
        if _CJK.match(chunk):
            prev = None
            for word, start, end in jieba.tokenize(chunk):
                term = _term(word)
                if term:
                    out.append((term, base + start, base + end, 1.0))
                for part, at in _sub_words(word):
                    term = _term(part)
                    if term:
                        out.append((term, base + start + at, base + start + at + len(part),
                                    SUB_WEIGHT))
            continue
        model = _MODEL.fullmatch(chunk)
        if model:  # ie11: the joined token, and (lighter) its name and number
            out.append((chunk, run.start(), run.end(), 1.0))
            for part in model.groups():
                term = _term(part)
                if term:
                    out.append((term, run.start(), run.end(), SUB_WEIGHT))
        else:
            term = _term(chunk)
            if term:
                out.append((term, run.start(), run.end(), 1.0))
            if prev is not None and chunk.isdigit() and len(chunk) <= 4 and \
                    _JOIN_GAP.fullmatch(text[prev.end():run.start()]):
                out.append((prev.group() + chunk, prev.start(), run.end(), 1.0))
        prev = run if chunk.isalpha() else None
    return out


def tokens(text):
    """[(term, start, end)]: the whole words of `text` (no sub-words)."""
    return [(t, s, e) for t, s, e, w in weighted_tokens(text) if w == 1.0]


def terms(text):
    return [t for t, _s, _e in tokens(text)]


FIELD_WEIGHTS = {"title": 3.0, "keywords": 2.0, "body": 1.0}


def document_terms(title, keywords, body):
    """Weighted term frequencies of an article ({term: tf}) and its weighted length."""
    tf = {}
    length = 0.0
    for name, text in (("title", title), ("keywords", " ".join(keywords or ())), ("body", body)):
        w = FIELD_WEIGHTS[name]
        for term, _s, _e, weight in weighted_tokens(text):
            tf[term] = tf.get(term, 0.0) + w * weight
            length += w * weight
    return tf, length


def query_terms(text, max_terms=256):
    """Distinct query terms with their weights: how often the query repeats them (a long
    draft repeats its important words; the square root of at most 3 repetitions), times
    the term's own weight — sub-words SUB_WEIGHT, generic failure words and conversational
    filler less than the topic words."""
    counts, weights = {}, {}
    for term, _s, _e, weight in weighted_tokens(text):
        if len(counts) >= max_terms and term not in counts:
            break
        counts[term] = counts.get(term, 0) + 1
        weights[term] = max(weights.get(term, 0.0), weight * GENERIC.get(term, 1.0))
    return {t: round(min(n, 3) ** 0.5 * weights[t], 4) for t, n in counts.items()}


# ---- Markdown ---------------------------------------------------------------------------

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table") \
    .enable("strikethrough")
ALLOWED_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del",
                "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "img", "table",
                "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"},
                 "th": {"style"}, "td": {"style"}}


def render_markdown(source):
    """Markdown -> HTML that is safe to insert into a page: raw HTML in the source is
    escaped by the renderer, and the output is sanitized again by an allow-list (nh3), so
    no script, event handler or javascript: URL survives."""
    rendered = _md.render(source or "")
    return nh3.clean(rendered, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRS,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer",
                     strip_comments=True)


_MD_SYNTAX = re.compile(r"!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)|[`*_#>|~]+|^\s*[-+]\s+",
                        re.M)


def plain_text(markdown):
    """Markdown without its syntax, for snippets (images dropped, link text kept)."""
    text = _MD_SYNTAX.sub(lambda m: m.group(1) or " ", markdown or "")
    return re.sub(r"\s+", " ", text).strip()


# ---- snippets -----------------------------------------------------------------------------

def highlight(text, query, window=None):
    """HTML-escaped `text` (or the best `window`-character part of it) with the query's
    terms wrapped in <mark>. English words match by stem ('exporting' marks 'exported');
    Chinese terms (and their spelling variants) match where they occur. No segmentation
    here: running jieba over every hit's body would cost more than the ranking."""
    wanted = set(query) if not isinstance(query, str) else set(terms(query))
    norm = normalize(text)
    if len(norm) != len(text):  # offsets would not line up: mark the normalized text
        text = norm
    spans = _spans(norm, wanted)
    start, end = 0, len(text)
    if window and len(text) > window:
        start = _best_start(text, spans, window)
        end = min(len(text), start + window)
    out, pos = [], start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s]))
        out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(out) + suffix


_LATIN = re.compile(r"[0-9a-z]+(?:\.[0-9a-z]+)*")
_VARIANTS = {}
for _k, _v in SYNONYMS.items():
    _VARIANTS.setdefault(_v, set()).add(_k)


def _spans(norm, wanted):
    spans = []
    for term in wanted:
        if _CJK.search(term):
            for variant in {term} | _VARIANTS.get(term, set()):
                spans += [(m, m + len(variant)) for m in _find_all(norm, variant)]
    if any(not _CJK.search(t) for t in wanted):
        spans += [m.span() for m in _LATIN.finditer(norm) if _term(m.group()) in wanted]
    return _merge(spans)


def _find_all(haystack, needle, limit=200):
    out, i = [], haystack.find(needle)
    while i >= 0 and len(out) < limit:
        out.append(i)
        i = haystack.find(needle, i + len(needle))
    return out


def _merge(spans):
    out = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _best_start(text, spans, window):
    """Start the window a little before the densest cluster of matches."""
    if not spans:
        return 0
    best, best_count = spans[0][0], 0
    j = 0
    for i, (s, _e) in enumerate(spans):
        while j < len(spans) and spans[j][0] < s + window - 20:
            j += 1
        if j - i > best_count:
            best, best_count = s, j - i
    return max(0, min(best - 20, len(text) - window))
