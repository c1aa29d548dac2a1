"""Knowledge-base rules: who may read, write, publish and archive articles, which
transitions an article may take, and what a search may see.

Pure Python: no nameko, no sqlalchemy. Refusals are `Refused(key, **params)`, turned into
AppErrors by the service layer.
"""
from gongdan_common import visibility

STATUSES = ("draft", "published", "archived")
VISIBILITIES = ("public", "internal")
LANGUAGES = ("zh", "en")

CUSTOMER_ROLES = frozenset({"customer", "customer_admin"})
STAFF_ROLES = frozenset({"engineer", "agent", "admin", "provider_admin", "system"})
WRITER_ROLES = frozenset({"engineer", "agent", "admin"})
DESK_ROLES = frozenset({"agent", "admin"})   # edit anyone's article, publish, archive
REPORT_ROLES = frozenset({"agent", "admin"})
DICTIONARY_EDITORS = frozenset({"admin"})  # the search dictionary changes every ranking

# action -> statuses it may start from, and the status it leads to
TRANSITIONS = {"publish": (("draft", "archived"), "published"),
               "archive": (("draft", "published"), "archived")}


class Refused(Exception):
    def __init__(self, key, **params):
        super().__init__(key)
        self.key, self.params = key, params


def is_customer(actor):
    return actor.get("role") not in STAFF_ROLES


SOURCE_FACTS = {fact: "source_" + fact for fact in visibility.FACTS}


def source_facts(article):
    """The access facts of the ticket an article was written from ({} if none)."""
    return {fact: article.get(column) for fact, column in SOURCE_FACTS.items()}


def can_read(actor, article):
    """Customers (and any role that is not staff) read public published articles only.
    Staff read every published article and every article not written from a ticket; an
    unpublished article written from a ticket (a draft, or one archived) carries that
    ticket's details, so only its author and those who may see the ticket read it (the desk
    and the system always may; a provider's staff when the ticket is theirs) — the one
    rule of gongdan_common.visibility, over the ticket's facts stored with the article."""
    if is_customer(actor):
        return article["status"] == "published" and article["visibility"] == "public"
    if article["status"] == "published" or not article.get("source_ticket_id"):
        return True
    return sees_source(actor, article)


def sees_source(actor, article):
    """May the actor be told which ticket the article was written from (and read it while
    unpublished)? Its author, and those who may see that ticket — so a customer reading a
    public article never learns another customer's ticket id."""
    if actor.get("id") and article.get("author_id") == actor["id"]:
        return True
    return visibility.may_see(actor, source_facts(article))


def check_dictionary_read(actor):
    """Staff read the search dictionary (it explains a ranking); customers do not."""
    if is_customer(actor):
        raise Refused("dictionary_admin")


def check_dictionary_edit(actor):
    if actor.get("role") not in DICTIONARY_EDITORS:
        raise Refused("dictionary_admin")


def check_write_role(actor):
    if actor.get("role") not in WRITER_ROLES:
        raise Refused("cannot_write", role=actor.get("role"))


def check_edit(actor, article):
    """The author edits their own article; the desk edits anyone's. Archived articles are
    restored (published) before they are edited."""
    check_write_role(actor)
    if actor["role"] not in DESK_ROLES and (
            not actor.get("id") or article["author_id"] != actor["id"]):
        raise Refused("not_author")
    if article["status"] == "archived":
        raise Refused("wrong_status", action="edit", status="archived")


def check_transition(actor, article, action):
    """publish / archive: the desk only (a second pair of eyes before customers read it)."""
    if actor.get("role") not in DESK_ROLES:
        raise Refused("desk_only", action=action)
    sources, target = TRANSITIONS[action]
    if article["status"] not in sources:
        raise Refused("wrong_status", action=action, status=article["status"])
    return target


def check_delete(actor, article):
    """Only a draft that was never published may be deleted; the rest is archived."""
    check_edit(actor, article)
    if article["status"] != "draft" or article.get("published_at") is not None:
        raise Refused("wrong_status", action="delete", status=article["status"])


def search_scope(actor, filters):
    """The filters a search really runs with. Customers: public and published, whatever
    they asked for. Staff: published by default; they may ask for drafts or archived
    articles and for either visibility."""
    out = dict(filters)
    if is_customer(actor):
        if out.get("visibility") not in (None, "public") or \
                out.get("status") not in (None, "published"):
            raise Refused("customer_scope")
        out["visibility"], out["status"] = "public", "published"
    else:
        out.setdefault("status", "published")
    return out


def check_report(actor):
    if actor.get("role") not in REPORT_ROLES:
        raise Refused("report_forbidden")


def deflection(sessions):
    """Deflection figures from suggestion sessions (dicts with shown, opened, submitted).

    A session counts when at least one article was shown. It is *deflected* when the
    customer opened a suggested article and did not submit a ticket afterwards."""
    shown = [s for s in sessions if s["shown"]]
    opened = [s for s in shown if s["opened"]]
    submitted = [s for s in shown if s["submitted"]]
    deflected = [s for s in opened if not s["submitted"]]
    return {"sessions": len(shown), "opened": len(opened), "submitted": len(submitted),
            "opened_then_submitted": len([s for s in opened if s["submitted"]]),
            "deflected": len(deflected),
            "open_rate": _rate(len(opened), len(shown)),
            "deflection_rate": _rate(len(deflected), len(shown))}


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def closely_matches(query_terms, article_terms, threshold=0.6):
    """An existing article covers a solved ticket when it shares at least `threshold` of the
    ticket title's terms."""
    wanted = set(query_terms)
    if not wanted:
        return False
    return len(wanted & set(article_terms)) / len(wanted) >= threshold


HEADINGS = {"zh": ("问题现象", "原因分析", "解决方法", "来源工单"),
            "en": ("Symptom", "Root cause", "Solution", "Source ticket")}


def draft_from_ticket(ticket, report, root_cause_name, language):
    """An article's title, body and keywords prefilled from a solved ticket's symptom
    (its description), root cause and solution (the closing report)."""
    h = HEADINGS[language]
    parts = [f"## {h[0]}\n\n{ticket.get('description') or ''}"]
    if report:
        parts.append(f"## {h[1]}\n\n{root_cause_name or report.get('root_cause') or ''}")
        parts.append(f"## {h[2]}\n\n{report.get('description') or ''}")
    parts.append(f"{h[3]}: {ticket['number']}")
    keywords = [root_cause_name] if root_cause_name else []
    return {"title": ticket["title"], "body": "\n\n".join(parts), "keywords": keywords}
