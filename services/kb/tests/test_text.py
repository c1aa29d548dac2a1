"""Tokenizer, Markdown sanitizing and snippets: fast unit tests, no broker, no database."""
import re

import pytest

from services.kb import text


def test_chinese_is_segmented_into_words():
    assert text.terms("登录失败") == ["登录", "失败"]
    assert "锁定" in text.terms("登录时提示账号被锁定")
    assert "登录" in text.terms("登录时提示账号被锁定")


def test_function_words_are_dropped():
    assert text.terms("如何 的 了 the of and") == []
    assert text.terms("How do I export?") == ["export"]


def test_english_is_stemmed_so_forms_of_a_word_meet():
    assert text.terms("exporting") == text.terms("export") == text.terms("exports")
    assert text.terms("Installation") == text.terms("installing")[:0] + text.terms("installation")
    assert text.terms("licence") == text.terms("license")


def test_spelling_variants_and_full_width_letters_fold_together():
    assert text.terms("登陆") == text.terms("登录")
    assert text.terms("帐号") == text.terms("账号")
    assert text.terms("ＥＸＰＯＲＴ") == ["export"]


def test_version_numbers_and_codes_stay_one_token():
    assert "v8.0.3" in text.terms("upgrade to v8.0.3 fails with E1021")
    assert "e1021" in text.terms("upgrade to v8.0.3 fails with E1021")


def test_document_terms_weight_title_and_keywords_above_body():
    tf, length = text.document_terms("Export fails", ["csv"], "The export button")
    assert tf["export"] == text.FIELD_WEIGHTS["title"] + text.FIELD_WEIGHTS["body"]
    assert tf["csv"] == text.FIELD_WEIGHTS["keywords"]
    assert length == sum(tf.values())


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    '<img src=x onerror="alert(1)">',
    "![x](javascript:alert(1))",
    '<a href="http://x" onclick="alert(1)">x</a>',
    "<iframe src='http://evil'></iframe>",
])
def test_markdown_never_lets_script_through(source):
    out = text.render_markdown(source).lower()
    tags = re.findall(r"<[a-z][^>]*>", out)  # real tags; escaped text is harmless
    assert not any(t.startswith(("<script", "<iframe")) for t in tags), out
    assert not any(re.search(r"\son\w+\s*=", t) for t in tags), out
    assert not any("javascript:" in t for t in tags), out


def test_markdown_keeps_formatting():
    out = text.render_markdown("# 标题\n\n**bold** [link](https://example.com) `code`\n\n- a\n- b")
    assert "<h1>标题</h1>" in out and "<strong>bold</strong>" in out
    assert 'href="https://example.com"' in out and "<li>a</li>" in out and "<code>code</code>" in out


def test_highlight_marks_terms_and_escapes_html():
    out = text.highlight("<b>When exporting</b>, the export file is empty", "export")
    assert out == ("&lt;b&gt;When <mark>exporting</mark>&lt;/b&gt;, the <mark>export</mark> "
                   "file is empty")
    assert text.highlight("登录时提示账号被锁定", "登录失败") == "<mark>登录</mark>时提示账号被锁定"


def test_snippet_window_centres_on_matches():
    body = "无关内容。" * 60 + "导出报表时提示权限不足。" + "其他内容。" * 60
    out = text.highlight(body, "导出报表", window=60)
    assert out.startswith("…") and out.endswith("…")
    assert "<mark>导出报表</mark>时提示" in out and len(out) < 200  # adjacent matches merge


def test_plain_text_strips_markdown():
    assert text.plain_text("# 标题\n**粗体** [链接](http://x) ![图](a.png)\n- 列表") == \
        "标题 粗体 链接 列表"
