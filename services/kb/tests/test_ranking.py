"""Issue 15's ranking: sub-words instead of duplicates, model numbers, filler, the search
dictionary, long queries — unit tests, no broker, no database. Several would fail on the
previous ranking (noted where so)."""
import pytest
from marshmallow import ValidationError

from bench.kb_eval import __main__ as kb_eval
from bench.kb_eval.articles import articles
from bench.kb_eval.queries import queries
from services.kb import ranking, schemas, text
from services.kb.dictionary import DEFAULTS, Dictionary
from services.kb.index import SearchIndex


def weights(s):
    return {(t, w) for t, _s, _e, w in text.weighted_tokens(s)}


def test_a_compound_counts_once_and_its_sub_words_lighter():
    got = weights("数据库服务器")
    assert {("数据库", 1.0), ("服务器", 1.0)} <= got
    assert {("数据", text.SUB_WEIGHT), ("服务", text.SUB_WEIGHT)} <= got
    # fragments jieba's dictionary barely knows are not terms (search mode made 据库, 务器)
    assert not {t for t, _w in got} & {"据库", "务器"}
    assert "二步" not in {t for t, _w in weights("第二步")}
    tf, _len = text.document_terms("数据库", [], "")
    assert tf["数据库"] == text.FIELD_WEIGHTS["title"]   # once, not three times
    assert tf["数据"] == pytest.approx(text.FIELD_WEIGHTS["title"] * text.SUB_WEIGHT)


def test_field_weights_title_above_tags_above_body():
    w = text.FIELD_WEIGHTS
    assert w["title"] > w["keywords"] > w["body"]


@pytest.mark.parametrize("written", ["IE11", "IE 11", "ie11", "ＩＥ１１", "IE-11"])
def test_a_model_number_is_one_term_however_it_is_written(written):
    assert "ie11" in text.query_terms(written)
    assert text.query_terms(written)["ie11"] == 1.0


def test_windows_10_and_windows10_meet():
    assert "windows10" in text.terms("Windows 10 更新后")
    assert "windows10" in text.terms("windows10")


def test_filler_counts_for_little_in_a_query():
    q = text.query_terms("请问客户每天上午打开报表都很慢应该怎么办")
    assert q["报表"] == 1.0
    for filler in ("客户", "每天", "上午", "打开", "应该"):
        assert q[filler] == text.FILLER, filler
    en = text.query_terms("hi, our customer says every morning the vpn drops, please help")
    assert en["vpn"] == 1.0 and en[text._stem("customer")] == text.FILLER
    # in documents they are ordinary words (an article may say 重启服务)
    tf, _ = text.document_terms("重启服务", [], "")
    assert tf["重启"] == text.FIELD_WEIGHTS["title"]


def test_dictionary_expands_a_query_with_the_other_terms_of_its_group():
    d = Dictionary([{"terms": ["死锁", "deadlock"], "weight": 0.9},
                    {"terms": ["win10", "windows 10"], "weight": 0.8}])
    assert d.expand({"死锁": 1.0}) == {"死锁": 1.0, "deadlock": 0.9}
    assert d.expand({"deadlock": 0.5}) == {"deadlock": 0.5, "死锁": 0.45}
    # a phrase matches only when all its words are there; its words share the weight
    assert set(d.expand({"window": 1.0})) == {"window"}
    out = d.expand(text.query_terms("win10 打印"))
    assert {"window", "10", "windows10"} <= set(out) and out["windows10"] < 0.8
    # a word the query already has keeps its own (larger) weight
    assert d.expand({"死锁": 1.0, "deadlock": 1.0})["deadlock"] == 1.0


def test_default_dictionary_compiles_and_bridges_the_languages():
    d = Dictionary.default()
    assert len(d) == len(DEFAULTS)
    assert "deadlock" in d.expand(text.query_terms("并发更新出现死锁"))
    assert "证书" in d.expand(text.query_terms("certificate expired"))


def _index(docs):
    index = SearchIndex()
    for i, (title, body) in enumerate(docs):
        tf, length = text.document_terms(title, [], body)
        index.put({"id": f"d{i}", "terms": tf, "length": length, "status": "published",
                   "visibility": "public", "language": "zh"})
    return index


def _top(index, q, dictionary=None, max_terms=ranking.SEARCH_TERMS):
    return ranking.rank(index, dictionary or Dictionary(), text.query_terms(q), None, 0, 3,
                        max_terms)[1][0][0]


def test_ie_11_finds_the_ie11_article_first():
    # the previous tokenizer made "IE 11" two words that the article's "ie11" never matched
    index = _index([("IE11 页面排版错乱", "兼容性视图导致。"),
                    ("IE 浏览器常用设置", "共有 11 项设置可以调整。"),
                    ("Chrome 设置", "清除缓存。")])
    assert _top(index, "IE 11 页面") == "d0"
    assert _top(index, "ie11") == "d0"


def test_the_distinctive_word_beats_a_generic_compound():
    # search mode counted 数据库 as 数据/据库/数据库 at full weight
    index = _index([("数据库服务器磁盘满导致写入失败", "归档日志没有清理。"),
                    ("数据库连接数据库配置", "数据库连接池设置，数据库服务器参数。"),
                    ("数据库备份", "数据库备份目录权限。")])
    assert _top(index, "数据库服务器磁盘满了") == "d0"


def test_a_pasted_description_keeps_the_words_that_name_its_problem():
    index = _index([("更换故障硬盘后 RAID 重建进度缓慢", "阵列卡重建优先级较低。"),
                    ("客户端同步卡住", "索引损坏。"), ("账号被锁定", "连续输错密码。")])
    pasted = ("您好，请问一下，我们客户那边每天上午都很忙，今天上午机房里有一台服务器报警，"
              "工程师说阵列里一块硬盘坏了，下午换上了新的硬盘，现在显示正在重建，进度很慢，"
              "应该怎么办？客户比较着急，麻烦尽快帮忙看一下，谢谢！") * 3
    assert len(pasted) > 200
    picked = index.informative(text.query_terms(pasted), 6)
    assert "硬盘" in picked and "重建" in picked
    assert not {"客户", "上午", "每天", "请问"} & set(picked)
    assert _top(index, pasted) == "d0"


def test_search_accepts_a_pasted_description_up_to_the_suggest_limit():
    s = schemas.SearchQuerySchema()
    assert s.load({"q": "慢" * 5000})["q"]
    with pytest.raises(ValidationError):
        s.load({"q": "慢" * 5001})


def test_labelled_set_is_big_enough_and_consistent():
    ids = {a["id"] for a in articles()}
    qs = queries()
    assert len(ids) == len(articles()) >= 50 and len(qs) >= 100
    assert {q["cls"] for q in qs} == {"para", "compound", "filler", "model", "xlang", "long",
                                      "plain"}
    assert all(set(q["grades"]) <= ids and q["relevant"] for q in qs)
    assert sum(q["held_out"] for q in qs) >= 30
    assert sum(len(q["q"]) > 200 for q in qs) >= 10


# the figures of docs/kb.md (python -m bench.kb_eval): a floor a little under them
FLOOR = {"recall": 0.97, "ndcg": 0.90, "zh_ndcg": 0.88, "held_out_ndcg": 0.88}


@pytest.mark.parametrize("mode", [0, 1], ids=["search", "suggest"])
def test_ranking_quality_on_the_labelled_set_meets_issue_15(mode):
    corpus, qs = articles(), queries()
    ranker = kb_eval.current_ranker(corpus, Dictionary.default())[mode]
    out, _per = kb_eval.evaluate(ranker, qs, 5)
    assert out["all"]["recall"] >= FLOOR["recall"], out["all"]
    assert out["all"]["ndcg"] >= FLOOR["ndcg"], out["all"]
    assert out["zh"]["ndcg"] >= FLOOR["zh_ndcg"], out["zh"]
    assert out["held-out"]["ndcg"] >= FLOOR["held_out_ndcg"], out["held-out"]
    # and it is ranking, not the set: the LIKE baseline on the same set is far below
    base, _ = kb_eval.evaluate(kb_eval.like_ranker(corpus)[0], qs, 5)
    assert base["all"]["ndcg"] < out["all"]["ndcg"] - 0.15


def test_graded_metrics():
    assert kb_eval.metrics(["a", "b"], {"a": 2, "b": 1}, 5) == (1.0, 1.0)
    recall, ndcg = kb_eval.metrics(["b", "a"], {"a": 2, "b": 1}, 5)
    assert recall == 1.0 and 0.5 < ndcg < 1.0
    assert kb_eval.metrics(["x"], {"a": 2}, 5) == (0.0, 0.0)


def test_a_pasted_description_in_one_language_finds_the_answer_in_the_other():
    index = SearchIndex()
    for i, (title, body) in enumerate([("Deadlock errors during concurrent updates",
                                        "Two code paths update rows in opposite order."),
                                       ("Session timeout", "Users are signed out.")]):
        tf, length = text.document_terms(title, [], body)
        index.put({"id": f"e{i}", "terms": tf, "length": length, "status": "published",
                   "visibility": "public", "language": "en"})
    pasted = ("您好，我们财务部门最近每天月底结账的时候，很多同事同时保存凭证，系统就会报错，"
              "日志里面显示出现死锁，事务被回滚，需要重新录入，请问应该怎么处理？") * 3
    assert len(text.query_terms(pasted)) > ranking.SEARCH_TERMS
    # 死锁 is in no article: without the dictionary it would be pruned before expansion
    _total, page, _terms = ranking.rank(index, Dictionary.default(), text.query_terms(pasted))
    assert page[0][0] == "e0"
