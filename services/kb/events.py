"""Events kb publishes on exchange `kb.events` (routing key = type).

Payload schemas are the contract; `docs/events.md` is generated from `ALL`.
"""
from marshmallow import fields

from gongdan_common.events import EventSpec
from gongdan_common.fields import UTCDateTime
from gongdan_common.validation import Schema

SOURCE = "kb"


class ArticleData(Schema):
    article_id = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "the current version"})
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["draft", "published", "archived"]})
    visibility = fields.String(required=True, metadata={
        "description": "public (customers may read it) or internal"})
    language = fields.String(required=True)
    product = fields.String(allow_none=True)
    product_line = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    keywords = fields.List(fields.String(), required=True)
    source_ticket_id = fields.String(allow_none=True, metadata={
        "description": "the ticket the article was written from"})
    updated_at = UTCDateTime(required=True)


class ArticleUpdatedData(ArticleData):
    change = fields.String(required=True, metadata={
        "enum": ["created", "edited", "archived", "deleted"],
        "description": "what happened (publishing is article_published)"})


ARTICLE_PUBLISHED = EventSpec(
    SOURCE, "article_published", 1, ArticleData,
    "An article became readable in search (by staff, and by customers when public).")
ARTICLE_UPDATED = EventSpec(
    SOURCE, "article_updated", 1, ArticleUpdatedData,
    "An article was created, edited (a new version), archived or deleted.")

ALL = [ARTICLE_PUBLISHED, ARTICLE_UPDATED]
