"""marshmallow schemas for kb's RPC boundary (in and out), and for the ticket facts the
gateway hands over from intake when an article is written from a ticket."""
from marshmallow import EXCLUDE, RAISE, ValidationError, fields, validate, validates_schema

from gongdan_common.fields import Text, UTCDateTime
from gongdan_common.i18n import bi
from gongdan_common.validation import Schema

from . import domain

TITLE_LEN = validate.Length(min=1, max=200, error=bi(
    "A title of 1 to 200 characters is required.", "标题须为 1 到 200 个字符。"))
BODY_LEN = validate.Length(min=1, max=100_000, error=bi(
    "The body must be 1 to 100000 characters of Markdown.", "正文须为 1 到 100000 个字符的 Markdown。"))
# as long as a suggestion's description: customers paste whole descriptions into search too
# (ranking keeps the most informative terms of a long query, ranking.SEARCH_TERMS)
QUERY_LEN = validate.Length(min=1, max=5000, error=bi(
    "Enter 1 to 5000 characters to search for.", "搜索词须为 1 到 5000 个字符。"))
CODE = validate.Length(min=1, max=64)
ONE_OF_LANGUAGES = validate.OneOf(domain.LANGUAGES, error=bi(
    "Language must be zh or en.", "语言必须是 zh 或 en。"))
ONE_OF_VISIBILITIES = validate.OneOf(domain.VISIBILITIES, error=bi(
    "Visibility must be public (customers may read it) or internal (staff only).",
    "可见范围必须是 public（客户可见）或 internal（仅内部人员）。"))
ONE_OF_STATUSES = validate.OneOf(domain.STATUSES, error=bi(
    "Status must be one of: draft, published, archived.",
    "状态必须是 draft、published、archived 之一。"))
KEYWORD = Text(validate=validate.Length(min=1, max=40))
KEYWORDS = validate.Length(max=20, error=bi("At most 20 keywords.", "关键词最多 20 个。"))


class _ArticleFields(Schema):
    class Meta:
        unknown = RAISE
    title = Text(validate=TITLE_LEN)
    body = Text(validate=BODY_LEN, metadata={"description": "Markdown; raw HTML is not kept"})
    keywords = fields.List(KEYWORD, validate=KEYWORDS)
    product = fields.String(allow_none=True, validate=CODE)
    product_line = fields.String(allow_none=True, validate=CODE)
    category = fields.String(allow_none=True, validate=CODE)
    language = fields.String(validate=ONE_OF_LANGUAGES)
    visibility = fields.String(validate=ONE_OF_VISIBILITIES)


class ArticleCreateSchema(_ArticleFields):
    title = Text(required=True, validate=TITLE_LEN)
    body = Text(required=True, validate=BODY_LEN)
    keywords = fields.List(KEYWORD, validate=KEYWORDS, load_default=list)
    visibility = fields.String(validate=ONE_OF_VISIBILITIES, load_default="internal", metadata={
        "description": "internal (the default) until the desk decides customers may read it"})
    language = fields.String(validate=ONE_OF_LANGUAGES, metadata={
        "description": "zh or en; guessed from the title when left out"})


class ArticlePatchSchema(_ArticleFields):
    note = fields.String(validate=validate.Length(max=500), metadata={
        "description": "what changed, kept with the version"})
    expected_version = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "refuse with 409 when the article moved on since you read it"})

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not set(data) - {"expected_version", "note"}:
            raise ValidationError(bi("Nothing to change.", "没有需要修改的内容。"), "_schema")


class FromTicketSchema(Schema):
    class Meta:
        unknown = RAISE
    language = fields.String(validate=ONE_OF_LANGUAGES)
    visibility = fields.String(validate=ONE_OF_VISIBILITIES, load_default="internal")
    title = Text(validate=TITLE_LEN, metadata={"description": "default: the ticket's title"})


class LinkSchema(Schema):
    class Meta:
        unknown = RAISE
    article_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class _Page(Schema):
    class Meta:
        unknown = RAISE
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000))
    page_size = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class _Filters(_Page):
    product = fields.String(validate=CODE)
    product_line = fields.String(validate=CODE)
    category = fields.String(validate=CODE)
    language = fields.String(validate=ONE_OF_LANGUAGES)
    visibility = fields.String(validate=ONE_OF_VISIBILITIES)
    status = fields.String(validate=ONE_OF_STATUSES, metadata={
        "description": "staff only; published by default"})


class SearchQuerySchema(_Filters):
    q = Text(required=True, validate=QUERY_LEN)


class ListQuerySchema(_Filters):
    author_id = fields.String(validate=validate.Length(min=1, max=36))
    source_ticket_id = fields.String(validate=validate.Length(min=1, max=36))


class SuggestSchema(Schema):
    class Meta:
        unknown = RAISE
    title = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000, error=bi(
        "At most 5000 characters of the description are used for suggestions.",
        "用于推荐的描述最多 5000 个字符。")))
    product = fields.String(validate=CODE)
    language = fields.String(validate=ONE_OF_LANGUAGES)
    session_id = fields.String(validate=validate.Length(min=1, max=36), metadata={
        "description": "the id an earlier call of this draft returned: one session per draft"})
    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=10))

    @validates_schema
    def some_text(self, data, **kwargs):
        if not (data.get("title", "").strip() or data.get("description", "").strip()):
            raise ValidationError(bi("Give a title or a description to get suggestions for.",
                                     "请提供标题或描述以获取推荐文章。"), "title")


class OpenedSchema(Schema):
    class Meta:
        unknown = RAISE
    article_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class OutcomeSchema(Schema):
    class Meta:
        unknown = RAISE
    submitted = fields.Boolean(required=True, metadata={
        "description": "true: the customer still submitted a ticket; false: they gave up "
                       "on it (the article answered the question)"})
    ticket_id = fields.String(allow_none=True, validate=validate.Length(max=36))


class FeedbackSchema(Schema):
    class Meta:
        unknown = RAISE
    helpful = fields.Boolean(required=True)
    version = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "the version that was read; default: the current one"})
    comment = fields.String(allow_none=True, validate=validate.Length(max=1000))


class ReportQuerySchema(Schema):
    class Meta:
        unknown = RAISE
    from_ = UTCDateTime(required=True, data_key="from")
    to = UTCDateTime(required=True, day_end=True)


class FileRecordSchema(Schema):
    class Meta:
        unknown = RAISE
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_type = fields.String(required=True, validate=validate.Length(min=1, max=120))
    size = fields.Integer(required=True, validate=validate.Range(min=0),
                          metadata={"int64": True})  # a BigInteger column
    sha256 = fields.String(required=True, validate=validate.Length(equal=64))
    bucket = fields.String(required=True, validate=validate.Length(min=1, max=64))
    object_key = fields.String(required=True, validate=validate.Length(min=1, max=400))


class ClosingReportIn(Schema):
    class Meta:
        unknown = EXCLUDE
    round = fields.Integer()
    root_cause = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


class TicketFactsSchema(Schema):
    """What kb reads of intake's ticket detail (as the gateway fetched it for the actor)."""
    class Meta:
        unknown = EXCLUDE
    id = fields.String(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(load_default="")
    status = fields.String(required=True)
    product = fields.String(allow_none=True)
    product_line = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    # access facts: who may read a draft written from the ticket (gongdan_common.visibility)
    submitter_id = fields.String(allow_none=True, load_default=None)
    company_id = fields.String(allow_none=True, load_default=None)
    provider_id = fields.String(allow_none=True, load_default=None)
    handler_id = fields.String(allow_none=True, load_default=None)
    closing_reports = fields.List(fields.Nested(ClosingReportIn), load_default=list)
    root_causes = fields.Dict(load_default=dict, metadata={
        "description": "root-cause code -> {en, zh} names, for the prefilled body"})


# ---- output -------------------------------------------------------------------------------

class AuthorSchema(Schema):
    id = fields.String(attribute="author_id")
    name = fields.String(attribute="author_name")
    role = fields.String(attribute="author_role")


_author = AuthorSchema()


class ArticleSummarySchema(Schema):
    id = fields.String()
    title = fields.String()
    status = fields.String()
    visibility = fields.String()
    language = fields.String()
    product = fields.String(allow_none=True)
    product_line = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    keywords = fields.List(fields.String())
    version = fields.Integer(attribute="current_version")
    author = fields.Function(lambda a: _author.dump(a))
    source_ticket_id = fields.String(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    published_at = UTCDateTime(allow_none=True)


class FeedbackCountsSchema(Schema):
    version = fields.Integer()
    views = fields.Integer()
    helpful = fields.Integer()
    not_helpful = fields.Integer()


class FileSchema(Schema):
    id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    created_at = UTCDateTime()


class LinkOutSchema(Schema):
    ticket_id = fields.String()
    ticket_number = fields.String(allow_none=True)
    relation = fields.String()
    at = UTCDateTime()


class ArticleSchema(ArticleSummarySchema):
    body = fields.String(attribute="body_md", metadata={"description": "Markdown source"})
    body_html = fields.String(metadata={"description": "rendered and sanitized"})
    stats = fields.Nested(FeedbackCountsSchema, metadata={
        "description": "views and feedback of the shown version"})
    files = fields.List(fields.Nested(FileSchema))
    tickets = fields.List(fields.Nested(LinkOutSchema), metadata={
        "description": "linked tickets (staff only)"})
    my_feedback = fields.Boolean(allow_none=True)


class VersionSummarySchema(Schema):
    version = fields.Integer()
    title = fields.String()
    note = fields.String(allow_none=True)
    author = fields.Function(lambda v: _author.dump(v))
    created_at = UTCDateTime()
    views = fields.Integer()
    helpful = fields.Integer()
    not_helpful = fields.Integer()


class VersionSchema(VersionSummarySchema):
    article_id = fields.String()
    keywords = fields.List(fields.String())
    body = fields.String(attribute="body_md")
    body_html = fields.String()
    fields_ = fields.Dict(attribute="fields", data_key="fields")


class ArticlePage(Schema):
    items = fields.List(fields.Nested(ArticleSummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class SearchHit(ArticleSummarySchema):
    score = fields.Float()
    title_html = fields.String(metadata={"description": "title with <mark>ed matches"})
    snippet_html = fields.String(metadata={"description": "best passage with <mark>ed matches"})


class SearchResult(Schema):
    items = fields.List(fields.Nested(SearchHit))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    took_ms = fields.Float()


class SuggestResult(Schema):
    session_id = fields.String()
    items = fields.List(fields.Nested(SearchHit))


class WritingSuggestionSchema(Schema):
    ticket_id = fields.String()
    ticket_number = fields.String()
    title = fields.String()
    product = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    root_cause = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["open", "covered", "written"]})
    matched_article_id = fields.String(allow_none=True)
    article_id = fields.String(allow_none=True)
    created_at = UTCDateTime()


class TicketKbSchema(Schema):
    ticket_id = fields.String()
    articles = fields.List(fields.Nested(ArticleSummarySchema))
    writing_suggestion = fields.Nested(WritingSuggestionSchema, allow_none=True, metadata={
        "description": "set when the solved ticket had no linked or closely matching "
                       "article: the close flow suggests writing one (staff only)"})


class DeflectionSchema(Schema):
    from_ = UTCDateTime(data_key="from")
    to = UTCDateTime()
    sessions = fields.Integer()
    opened = fields.Integer()
    submitted = fields.Integer(allow_none=True)
    opened_then_submitted = fields.Integer()
    deflected = fields.Integer()
    open_rate = fields.Float(allow_none=True)
    deflection_rate = fields.Float(allow_none=True)


# ---- the search dictionary -------------------------------------------------------------------

def _terms_ok(terms):
    from .dictionary import MAX_TERM_CHARS, MAX_TERMS, phrase_terms
    if not 2 <= len(terms) <= MAX_TERMS:
        raise ValidationError(bi(f"A group needs 2 to {MAX_TERMS} terms.",
                                 f"每组须有 2 到 {MAX_TERMS} 个词。"))
    for term in terms:
        if not term.strip() or len(term) > MAX_TERM_CHARS:
            raise ValidationError(bi(f"Each term must be 1 to {MAX_TERM_CHARS} characters.",
                                     f"每个词须为 1 到 {MAX_TERM_CHARS} 个字符。"))
        if not phrase_terms(term):
            raise ValidationError(bi(
                f"'{term}' has no searchable word (only stop words or punctuation).",
                f"“{term}”没有可检索的词（只有停用词或标点）。"))
    if len({phrase_terms(t) for t in terms}) < 2:
        raise ValidationError(bi("The terms of a group must differ as search terms.",
                                 "同一组中的词在检索时必须各不相同。"))


WEIGHT_RANGE = validate.Range(min=0.1, max=1.0, error=bi(
    "The weight must be between 0.1 and 1.", "权重须在 0.1 到 1 之间。"))


class SynonymInSchema(Schema):
    class Meta:
        unknown = RAISE
    terms = fields.List(fields.String(), required=True, validate=_terms_ok, metadata={
        "description": "2-30 terms, Chinese or English (a phrase is allowed: 'windows 10')"})
    weight = fields.Float(load_default=None, validate=WEIGHT_RANGE, metadata={
        "description": "how much a query's term lends the others (default 0.6)"})
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=200))


class SynonymPatchSchema(SynonymInSchema):
    terms = fields.List(fields.String(), validate=_terms_ok)


class SynonymSchema(Schema):
    id = fields.Integer()
    terms = fields.List(fields.String())
    weight = fields.Float()
    note = fields.String(allow_none=True)
    updated_by = fields.String(allow_none=True)
    updated_at = UTCDateTime()


class SynonymQuerySchema(_Page):
    q = fields.String(validate=validate.Length(min=1, max=50), metadata={
        "description": "only groups with a term containing this"})
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SynonymPage(Schema):
    items = fields.List(fields.Nested(SynonymSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
