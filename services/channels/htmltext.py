"""HTML mail -> safe plain text: no markup, no scripts or styles, entities resolved, block
elements as line breaks. The quoted history mail programs wrap in the HTML (Gmail's
`gmail_quote`, Apple's and Thunderbird's `blockquote type=cite`, Outlook's `divRplyFwdMsg`,
QQ Mail's and Foxmail's `includeTail`) is left out as well."""
from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg"}
_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
          "blockquote", "pre", "hr", "ul", "ol", "section", "article", "header", "footer"}
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "includetail",
                  "divrplyfwdmsg", "appendonsend")
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed",
         "source", "wbr"}


def _is_quote(tag, attrs):
    attrs = dict(attrs)
    if tag == "blockquote" and (attrs.get("type") or "").lower() == "cite":
        return True
    marks = " ".join((attrs.get("class") or "", attrs.get("id") or "")).lower()
    return any(mark in marks for mark in _QUOTE_CLASSES)


class _Text(HTMLParser):
    def __init__(self, keep_quotes):
        super().__init__(convert_charrefs=True)
        self.keep_quotes = keep_quotes
        self.out = []
        self.skip = 0   # depth inside elements whose text is never shown
        self.stack = []  # open elements, True where skipping started

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            if tag in ("br", "hr") and not self.skip:
                self.out.append("\n")
            return
        starts_skip = tag in _SKIP or (not self.keep_quotes and _is_quote(tag, attrs))
        if starts_skip:
            self.skip += 1
        self.stack.append((tag, starts_skip))
        if tag in _BLOCK and not self.skip:
            self.out.append("\n")

    def handle_endtag(self, tag):
        # close up to the matching open tag (mail HTML is rarely well formed)
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for _, skipping in self.stack[i:]:
                    if skipping:
                        self.skip -= 1
                del self.stack[i:]
                break
        if tag in _BLOCK and not self.skip:
            self.out.append("\n")

    def handle_data(self, data):
        if self.skip or not data:
            return
        words = " ".join(data.split())
        # whitespace at either end separates words ("unclosed <b>bold")
        lead = " " if data[0].isspace() and self.out and not self.out[-1].endswith(("\n", " ")) \
            else ""
        tail = " " if data[-1].isspace() and words else ""
        self.out.append(lead + words + tail)


def to_text(html, keep_quotes=False):
    parser = _Text(keep_quotes)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; whatever it chokes on, keep what it read
        pass
    lines = [line.strip() for line in "".join(parser.out).split("\n")]
    text, blank = [], False
    for line in lines:  # collapse runs of blank lines into one
        if line or not blank:
            text.append(line)
        blank = not line
    return "\n".join(text).strip()
