"""The search dictionary (dictionary.py): staff read it, admins edit it. Every write appends
a `kb_index_log` row naming the dictionary, in the same transaction, so every kb instance
reloads it within a poll (live.py); the writing instance reloads at once."""
from sqlalchemy import select

from gongdan_common.validation import load

from .. import domain, exceptions as exc, schemas
from ..dictionary import DEFAULT_WEIGHT
from ..live import DICTIONARY_MARK
from ..models import IndexLog, SynonymGroup
from .common import _actor, _guard

_out = schemas.SynonymSchema()


def list_synonyms(actor, query, uow):
    """Groups in id order; `q` keeps those with a term containing it. The dictionary is
    hundreds of rows, read whole (its JSON terms are not portably searchable in SQL)."""
    _actor(actor)
    _guard(domain.check_dictionary_read, actor)
    q = load(schemas.SynonymQuerySchema(), query or {})
    with uow:
        rows = uow.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id)).all()
        if q.get("q"):
            needle = q["q"].lower()
            rows = [r for r in rows if any(needle in t.lower() for t in r.terms)]
        start = (q["page"] - 1) * q["page_size"]
        return {"items": _out.dump(rows[start:start + q["page_size"]], many=True),
                "total": len(rows), "page": q["page"], "page_size": q["page_size"]}


def _group(uow, group_id):
    row = uow.session.get(SynonymGroup, group_id) if isinstance(group_id, int) and \
        not isinstance(group_id, bool) and 0 < group_id < 2 ** 31 else None
    if row is None:
        raise exc.SYNONYM_NOT_FOUND()
    return row


def _changed(uow, now):
    uow.session.add(IndexLog(article_id=DICTIONARY_MARK, at=now))


def create_synonym(actor, payload, uow, index, settings):
    _actor(actor)
    _guard(domain.check_dictionary_edit, actor)
    data = load(schemas.SynonymInSchema(), payload)
    now = settings["now"]()
    with uow:
        row = SynonymGroup(terms=[t.strip() for t in data["terms"]],
                           weight=data.get("weight") or DEFAULT_WEIGHT, note=data.get("note"),
                           updated_by=actor.get("id"), updated_at=now)
        uow.session.add(row)
        _changed(uow, now)
        uow.commit()
        out = _out.dump(row)
    index.reload_dictionary()
    return out


def update_synonym(actor, group_id, payload, uow, index, settings):
    _actor(actor)
    _guard(domain.check_dictionary_edit, actor)
    data = load(schemas.SynonymPatchSchema(), payload)
    now = settings["now"]()
    with uow:
        row = _group(uow, group_id)
        if "terms" in data:
            row.terms = [t.strip() for t in data["terms"]]
        if data.get("weight") is not None:
            row.weight = data["weight"]
        if "note" in payload:
            row.note = data.get("note")
        row.updated_by, row.updated_at = actor.get("id"), now
        _changed(uow, now)
        uow.commit()
        out = _out.dump(row)
    index.reload_dictionary()
    return out


def delete_synonym(actor, group_id, uow, index, settings):
    _actor(actor)
    _guard(domain.check_dictionary_edit, actor)
    with uow:
        uow.session.delete(_group(uow, group_id))
        _changed(uow, settings["now"]())
        uow.commit()
    index.reload_dictionary()
    return {"id": group_id, "deleted": True}
