"""Stripping the quoted history from a reply, so a ticket's conversation shows what the
customer wrote now, not the whole thread again.

Honoured, first match wins (the earliest line that starts a quote):
- Gongdan's own marker line, which every mail notify sends carries at the top;
- Outlook: "-----Original Message-----" / "-----原始邮件-----", or a "From:/发件人:" header
  block followed by "Sent:/发送时间:/Date:/日期:" (with or without the underscore rule);
- Foxmail and QQ Mail: "------------------ Original ------------------" /
  "------------------ 原始邮件 ------------------";
- Gmail and Apple Mail: "On <date>, <name> wrote:" and "<date>，<name> 写道：" (one or two
  lines);
- a trailing block of "> " quoted lines.
When stripping would leave nothing, the whole text is kept: a reply is never lost.
"""
import re

from gongdan_common.mail import REPLY_MARKER as MARKER  # notify puts it atop every mail
# either half of the marker line is enough: mail clients rewrap or trim it
_ZH, _EN = (half.strip("#- ") for half in MARKER.split(" / "))
_MARKER_RE = re.compile(rf"##-\s*{re.escape(_ZH)}|{re.escape(_EN.split(' ', 1)[1])}\s*-##",
                        re.I)

_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(original message|原始邮件|原始郵件|forwarded message|转发邮件|"
    r"original|回复的原邮件)\s*-{2,}|_{10,}|[-\u2014]{10,}\s*(原始邮件|original)?[-\u2014\s]*)\s*$",
    re.I)
_HEADER_FROM = re.compile(r"^\s*\*?(from|发件人|寄件者)\s*\*?\s*[:：]", re.I)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|date|to|发送时间|发送日期|日期|时间|收件人|寄件日期|subject|主题)\s*\*?\s*[:：]",
    re.I)
_WROTE = re.compile(
    r"(^\s*(on|在)\s.{4,200}(wrote|写道)\s*[:：]\s*$)|"
    r"(^.{4,200}(写道|寫道|wrote)\s*[:：]\s*$)", re.I)
_WROTE_START = re.compile(r"^\s*(on\s.+\d|\d{4}\s*年.+)", re.I)


def _quote_start(lines):
    for i, line in enumerate(lines):
        if _MARKER_RE.search(line):
            return i
        if _SEPARATORS.match(line):
            return i
        if _HEADER_FROM.match(line) and any(_HEADER_NEXT.match(nxt) for nxt in lines[i + 1:i + 5]):
            return i
        if _WROTE.match(line):
            return i
        # Gmail wraps a long "On ... wrote:" onto two lines
        if _WROTE_START.match(line) and i + 1 < len(lines) and \
                re.search(r"(wrote|写道)\s*[:：]\s*$", lines[i + 1], re.I):
            return i
    return None


def strip_quoted(text):
    lines = (text or "").replace("\r\n", "\n").split("\n")
    cut = _quote_start(lines)
    if cut is not None:
        lines = lines[:cut]
    # a trailing run of "> " lines (and the blank lines around them) is quoted history
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    if end < len(lines) and any(l.lstrip().startswith(">") for l in lines[end:]):
        lines = lines[:end]
    stripped = "\n".join(lines).strip()
    return stripped or (text or "").strip()
