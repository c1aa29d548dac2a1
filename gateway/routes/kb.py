"""HTTP routes in front of the kb service: articles (CRUD, versions, publish, archive,
feedback, files), search, suggestions for ticket drafts with their outcome, the deflection
report, the knowledge-base side of a ticket (linked articles, write from ticket), and the
search dictionary (staff read, admins edit)."""
from marshmallow import fields
from werkzeug.wrappers import Response

from gongdan_common.validation import Schema
from services.kb import schemas as kb

from .. import uploads
from ..apidoc import AttachmentLink, doc
from ..http import api, call, json_body, query_dict


class Deleted(Schema):
    id = fields.String()
    deleted = fields.Boolean()


class VersionList(Schema):
    article_id = fields.String()
    current_version = fields.Integer()
    items = fields.List(fields.Nested(kb.VersionSummarySchema))


class SessionOpened(Schema):
    session_id = fields.String()
    opened = fields.List(fields.String())


class SessionOutcome(Schema):
    session_id = fields.String()
    submitted = fields.Boolean()


class WritingSuggestionPage(Schema):
    items = fields.List(fields.Nested(kb.WritingSuggestionSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()


class WritingSuggestionQuery(Schema):
    status = fields.String(metadata={"enum": ["open", "covered", "written"]})
    page = fields.Integer()
    page_size = fields.Integer()


class ArticleGetQuery(Schema):
    version = fields.Integer(metadata={"description": "an older version (staff only)"})
    count_view = fields.Boolean(metadata={"description": "count this read (default true)"})


ERR = (400, 401, 403, 404, 409)
ARTICLES_LIST = doc("kb", "List articles, most recently changed first (customers: public "
                    "published ones)", query=kb.ListQuerySchema, response=kb.ArticlePage)
ARTICLE_CREATE = doc("kb", "Write an article (a draft; engineers and the desk)",
                     body=kb.ArticleCreateSchema, response=kb.ArticleSchema, status=201,
                     errors=(400, 401, 403, 413, 415),
                     description="The body is Markdown; it is rendered to sanitized HTML "
                                 "(no raw HTML, scripts or javascript: links survive).")
ARTICLE_GET = doc("kb", "One article (counts a view of the shown version)",
                  query=ArticleGetQuery, response=kb.ArticleSchema)
ARTICLE_PATCH = doc("kb", "Edit an article: a new version (the author, or the desk for "
                    "anyone's)", body=kb.ArticlePatchSchema, response=kb.ArticleSchema,
                    errors=ERR)
ARTICLE_DELETE = doc("kb", "Delete a never-published draft (others are archived)",
                     response=Deleted, errors=ERR)
ARTICLE_VERSIONS = doc("kb", "Versions with author, time, views and feedback (staff)",
                       response=VersionList)
ARTICLE_VERSION = doc("kb", "One version (staff)", response=kb.VersionSchema)
ARTICLE_PUBLISH = doc("kb", "Publish (the desk): searchable, and readable by customers when "
                      "public", response=kb.ArticleSchema, errors=ERR)
ARTICLE_ARCHIVE = doc("kb", "Archive (the desk): drops out of search", response=kb.ArticleSchema,
                      errors=ERR)
ARTICLE_FEEDBACK = doc("kb", "Was this helpful? (per version; answering again replaces)",
                       body=kb.FeedbackSchema, response=kb.FeedbackCountsSchema)
ARTICLE_FILE_UPLOAD = doc(
    "kb", "Attach an image or file (streamed to object storage)", response=kb.FileSchema,
    status=201, errors=(400, 401, 403, 404, 409, 413, 415, 503),
    description="multipart/form-data with field `file`, or the raw bytes with ?filename=NAME; "
                "the same types and limit as ticket attachments. Reference it in the body as "
                "![alt](/api/v1/kb/files/ID?redirect=1).")
FILE_LINK = doc("kb", "A short-lived download link of an article's file (?redirect=1 for a 302)",
                response=AttachmentLink, errors=(401, 404, 503))
SEARCH = doc("kb", "Ranked full-text search (BM25, Chinese segmentation, English stemming, "
             "the search dictionary) with highlighted snippets", query=kb.SearchQuerySchema,
             response=kb.SearchResult,
             description="Customers always get public published articles only (asking for "
                         "internal or unpublished ones is 403); staff get published ones "
                         "unless they pass status. Unknown parameters are refused (400). A "
                         "query may be a pasted description (up to 5000 characters): its "
                         "most informative terms rank the results.")
SEARCH_POST = doc("kb", "The same search with the parameters in a JSON body (for a long pasted "
                  "description: a URL stays under 8 KB)", body=kb.SearchQuerySchema,
                  response=kb.SearchResult, errors=(400, 401, 403))
SUGGEST = doc("kb", "Articles for a ticket draft, as the customer types", body=kb.SuggestSchema,
              response=kb.SuggestResult,
              description="Public published articles only. Pass the returned session_id on "
                          "the next call for the same draft, then report what happened "
                          "(opened / outcome) for the deflection report.")
SUGGEST_OPENED = doc("kb", "The customer opened a suggested article", body=kb.OpenedSchema,
                     response=SessionOpened)
SUGGEST_OUTCOME = doc("kb", "The customer submitted the ticket anyway, or left the form",
                      body=kb.OutcomeSchema, response=SessionOutcome)
DEFLECTION = doc("reports", "Deflection rate of intake suggestions over a period (the desk)",
                 query=kb.ReportQuerySchema, response=kb.DeflectionSchema)
WRITING_SUGGESTIONS = doc("kb", "Solved tickets that no article covers yet (staff)",
                          query=WritingSuggestionQuery, response=WritingSuggestionPage)
TICKET_KB = doc("kb", "Articles linked to a ticket and, for staff, the suggestion to write one",
                response=kb.TicketKbSchema)
TICKET_KB_CREATE = doc(
    "kb", "Write an article from a solved ticket (prefilled, linked both ways)",
    body=kb.FromTicketSchema, response=kb.ArticleSchema, status=201, errors=ERR,
    description="Title from the ticket, body from its symptom (description), root cause and "
                "solution (latest closing report). 409 until the ticket is resolved.")
TICKET_KB_LINK = doc("kb", "Link an existing article to a ticket (staff)", body=kb.LinkSchema,
                     response=kb.TicketKbSchema, errors=ERR)


class SynonymDeleted(Schema):
    id = fields.Integer()
    deleted = fields.Boolean()


_DICT = ("The search dictionary: groups of terms (Chinese, English, product and model names) "
         "that a search or suggestion treats as one — a query with one term of a group also "
         "finds articles with the others, at the group's weight. Every kb instance applies an "
         "edit within a poll interval.")
SYNONYMS_LIST = doc("kb", "The search dictionary's groups (staff)", query=kb.SynonymQuerySchema,
                    response=kb.SynonymPage, errors=(400, 401, 403), description=_DICT)
SYNONYM_CREATE = doc("kb", "Add a group to the search dictionary (admin)",
                     body=kb.SynonymInSchema, response=kb.SynonymSchema, status=201,
                     errors=(400, 401, 403), description=_DICT)
SYNONYM_PATCH = doc("kb", "Change a group of the search dictionary (admin)",
                    body=kb.SynonymPatchSchema, response=kb.SynonymSchema,
                    errors=(400, 401, 403, 404))
SYNONYM_DELETE = doc("kb", "Remove a group from the search dictionary (admin)",
                     response=SynonymDeleted, errors=(401, 403, 404))


def _group_id(value):
    """A dictionary group's id from the path; anything but a number is an id that does not
    exist (kb answers 404 in the one error shape)."""
    # isascii: "²".isdigit() is true and int("²") raises
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else -1


class KbRoutes:
    """Mixed into GatewayService; see gateway/routes/__init__.py."""

    # ---- articles --------------------------------------------------------------------

    @api("GET", "/api/v1/kb/articles", doc=ARTICLES_LIST)
    def kb_list_articles(self, request):
        return call(self.kb, "list_articles", self._actor(request), query_dict(request))

    @api("POST", "/api/v1/kb/articles", doc=ARTICLE_CREATE)
    def kb_create_article(self, request):
        return 201, call(self.kb, "create_article", self._actor(request), json_body(request))

    @api("GET", "/api/v1/kb/articles/<article_id>", doc=ARTICLE_GET)
    def kb_get_article(self, request, article_id):
        version = request.args.get("version")
        version = int(version) if version and version.isascii() and version.isdigit() \
            and len(version) < 10 else (
            -1 if version else None)  # a non-number is a version that does not exist
        count = request.args.get("count_view", "true") not in ("0", "false")
        return call(self.kb, "get_article", self._actor(request), article_id, version, count)

    @api("PATCH", "/api/v1/kb/articles/<article_id>", doc=ARTICLE_PATCH)
    def kb_update_article(self, request, article_id):
        return call(self.kb, "update_article", self._actor(request), article_id,
                    json_body(request))

    @api("DELETE", "/api/v1/kb/articles/<article_id>", doc=ARTICLE_DELETE)
    def kb_delete_article(self, request, article_id):
        return call(self.kb, "delete_article", self._actor(request), article_id)

    @api("GET", "/api/v1/kb/articles/<article_id>/versions", doc=ARTICLE_VERSIONS)
    def kb_versions(self, request, article_id):
        return call(self.kb, "list_versions", self._actor(request), article_id)

    @api("GET", "/api/v1/kb/articles/<article_id>/versions/<int:version>", doc=ARTICLE_VERSION)
    def kb_version(self, request, article_id, version):
        return call(self.kb, "get_version", self._actor(request), article_id, version)

    @api("POST", "/api/v1/kb/articles/<article_id>/publish", doc=ARTICLE_PUBLISH)
    def kb_publish(self, request, article_id):
        return call(self.kb, "transition", self._actor(request), article_id, "publish")

    @api("POST", "/api/v1/kb/articles/<article_id>/archive", doc=ARTICLE_ARCHIVE)
    def kb_archive(self, request, article_id):
        return call(self.kb, "transition", self._actor(request), article_id, "archive")

    @api("POST", "/api/v1/kb/articles/<article_id>/feedback", doc=ARTICLE_FEEDBACK)
    def kb_feedback(self, request, article_id):
        return call(self.kb, "feedback", self._actor(request), article_id, json_body(request))

    @api("POST", "/api/v1/kb/articles/<article_id>/files", upload=True,
         doc=ARTICLE_FILE_UPLOAD)
    def kb_upload_file(self, request, article_id):
        actor = self._actor(request)
        self.limits.hit("upload", actor["id"])
        article = call(self.kb, "authorize_file", actor, article_id)
        record = uploads.store_upload(request, article["article_id"], self.store,
                                      self.settings["bucket"], self.settings["max_upload"],
                                      prefix="kb", policy=self.settings.get("archive_policy"))
        try:
            return 201, call(self.kb, "add_file", actor, article["article_id"], record)
        except Exception:
            self.store.delete(record["object_key"])  # no orphan object without a record
            raise

    @api("GET", "/api/v1/kb/files/<file_id>", doc=FILE_LINK)
    def kb_file_link(self, request, file_id):
        f = call(self.kb, "get_file", self._actor(request), file_id)
        url = self.store.presigned_get(f["object_key"], f["filename"], self.settings["link_ttl"])
        if request.args.get("redirect") in ("1", "true"):
            return Response(status=302, headers={"Location": url})
        return {"url": url, "expires_in": self.settings["link_ttl"], "filename": f["filename"],
                "size": f["size"], "sha256": f["sha256"], "content_type": f["content_type"]}

    # ---- search and suggestions ---------------------------------------------------------

    @api("GET", "/api/v1/kb/search", doc=SEARCH)
    def kb_search(self, request):
        actor = self._actor(request)
        self.limits.hit("kb_search", actor["id"])
        return call(self.kb, "search", actor, query_dict(request))

    @api("POST", "/api/v1/kb/search", doc=SEARCH_POST)
    def kb_search_post(self, request):
        actor = self._actor(request)
        self.limits.hit("kb_search", actor["id"])
        return call(self.kb, "search", actor, json_body(request))

    @api("POST", "/api/v1/kb/suggest", doc=SUGGEST)
    def kb_suggest(self, request):
        actor = self._actor(request)
        self.limits.hit("kb_search", actor["id"])
        return call(self.kb, "suggest", actor, json_body(request))

    @api("POST", "/api/v1/kb/suggest/<session_id>/opened", doc=SUGGEST_OPENED)
    def kb_suggest_opened(self, request, session_id):
        return call(self.kb, "suggestion_opened", self._actor(request), session_id,
                    json_body(request))

    @api("POST", "/api/v1/kb/suggest/<session_id>/outcome", doc=SUGGEST_OUTCOME)
    def kb_suggest_outcome(self, request, session_id):
        return call(self.kb, "suggestion_outcome", self._actor(request), session_id,
                    json_body(request))

    @api("GET", "/api/v1/kb/reports/deflection", doc=DEFLECTION)
    def kb_deflection(self, request):
        return call(self.kb, "deflection_report", self._actor(request), query_dict(request))

    @api("GET", "/api/v1/kb/writing-suggestions", doc=WRITING_SUGGESTIONS)
    def kb_writing_suggestions(self, request):
        return call(self.kb, "list_writing_suggestions", self._actor(request),
                    query_dict(request))

    # ---- the search dictionary ----------------------------------------------------------

    @api("GET", "/api/v1/kb/synonyms", doc=SYNONYMS_LIST)
    def kb_synonyms(self, request):
        return call(self.kb, "list_synonyms", self._actor(request), query_dict(request))

    @api("POST", "/api/v1/kb/synonyms", doc=SYNONYM_CREATE)
    def kb_create_synonym(self, request):
        return 201, call(self.kb, "create_synonym", self._actor(request), json_body(request))

    @api("PATCH", "/api/v1/kb/synonyms/<group_id>", doc=SYNONYM_PATCH)
    def kb_update_synonym(self, request, group_id):
        return call(self.kb, "update_synonym", self._actor(request), _group_id(group_id),
                    json_body(request))

    @api("DELETE", "/api/v1/kb/synonyms/<group_id>", doc=SYNONYM_DELETE)
    def kb_delete_synonym(self, request, group_id):
        return call(self.kb, "delete_synonym", self._actor(request), _group_id(group_id))

    # ---- a ticket's articles --------------------------------------------------------------

    def _kb_ticket(self, actor, ticket_id):
        """intake's detail as this actor may see it (404/403 otherwise), with the root-cause
        names the article is prefilled with."""
        ticket = call(self.intake, "get_ticket", actor, ticket_id)
        ticket["root_causes"] = {rc["code"]: {"en": rc["name_en"], "zh": rc["name_zh"]}
                                 for rc in call(self.intake, "list_root_causes", True)}
        return ticket

    @api("GET", "/api/v1/tickets/<ticket_id>/kb", doc=TICKET_KB)
    def kb_ticket_articles(self, request, ticket_id):
        actor = self._actor(request)
        ticket = call(self.intake, "get_ticket", actor, ticket_id)
        return call(self.kb, "ticket_articles", actor, ticket["id"])

    @api("POST", "/api/v1/tickets/<ticket_id>/kb", doc=TICKET_KB_CREATE)
    def kb_from_ticket(self, request, ticket_id):
        actor = self._actor(request)
        body = json_body(request, required=False)
        return 201, call(self.kb, "create_from_ticket", actor, self._kb_ticket(actor, ticket_id),
                         body)

    @api("POST", "/api/v1/tickets/<ticket_id>/kb/links", doc=TICKET_KB_LINK)
    def kb_link_ticket(self, request, ticket_id):
        actor = self._actor(request)
        body = json_body(request)
        return call(self.kb, "link_ticket", actor, call(self.intake, "get_ticket", actor,
                                                        ticket_id), body)
