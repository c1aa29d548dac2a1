"""Each user's ticket-list columns, and saved views (named filters + columns + sort).

Columns are kept per user here, on the server, so they follow the person to any device.
A saved view is personal, or shared with the desk: only the desk (agent, admin) may share,
and only the desk sees shared views - they are the vendor's working queues, not something a
provider or a customer should browse. A view stores filters, never results: applying it is
an ordinary list request, so listing's visibility is applied again on every use and a view
can never show more than its user may see.
"""
from marshmallow import ValidationError
from sqlalchemy import func, or_, select

from gongdan_common.errors import validation_error
from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import desk_schemas as ds, domain, exceptions as exc, schemas
from .models import ListSetting, SavedView

VIEWS_PER_USER = 50
_view_out = ds.SavedViewOutSchema()


def _columns(actor, columns):
    try:
        ds.check_columns(actor, columns)
    except ValidationError as err:
        raise validation_error(err) from None
    return columns


def get_list_settings(actor, uow):
    with uow:
        row = uow.session.get(ListSetting, actor["id"])
        defaults = ds.default_columns(actor)
        allowed = ds.columns_for(actor)
        # a column no longer allowed (a role changed) is dropped, never shown
        columns = [c for c in row.columns if c in allowed] if row else defaults
        return ds.ListSettingsOutSchema().dump({
            "columns": columns or defaults, "default": row is None, "defaults": defaults,
            "available": allowed, "updated_at": row.updated_at if row else None})


def put_list_settings(actor, payload, uow):
    data = load(ds.ListSettingsSchema(), payload)
    columns = _columns(actor, data["columns"])
    with uow:
        row = uow.session.get(ListSetting, actor["id"])
        if row is None:
            row = ListSetting(user_id=actor["id"])
            uow.session.add(row)
        row.columns, row.updated_at = columns, utcnow()
        uow.commit()
    return get_list_settings(actor, uow)


def reset_list_settings(actor, uow):
    with uow:
        row = uow.session.get(ListSetting, actor["id"])
        if row is not None:
            uow.session.delete(row)
            uow.commit()
    return get_list_settings(actor, uow)


# ---- saved views --------------------------------------------------------------------------

def _sees_shared(actor):
    return actor.get("role") in domain.DESK_ROLES


def _filters(actor, filters):
    """The filters as the list takes them, checked by the list's own schema now (so a view
    never fails later on input it was saved with); stored as given."""
    query = {k: v for k, v in filters.items()}
    load(schemas.ListQuerySchema(), query)
    if query.get("tag") and actor.get("role") not in domain.STAFF_ROLES:
        raise exc.TAGS_STAFF_ONLY()
    return query


def _dump(actor, view):
    out = _view_out.dump(view)
    out["mine"] = view.owner_id == actor["id"]
    return out


def _visible_view(uow, actor, view_id):
    view = uow.session.get(SavedView, view_id) if view_id else None
    if view is None or not (view.owner_id == actor["id"] or (view.shared and _sees_shared(actor))):
        raise exc.VIEW_NOT_FOUND()
    return view


def list_views(actor, uow):
    mine = SavedView.owner_id == actor["id"]
    cond = or_(mine, SavedView.shared.is_(True)) if _sees_shared(actor) else mine
    with uow:
        rows = uow.session.scalars(select(SavedView).where(cond)
                                   .order_by(SavedView.name, SavedView.id)).all()
        return {"items": [_dump(actor, v) for v in rows]}


def _apply(actor, view, data):
    if data.get("shared") and not _sees_shared(actor):
        raise exc.VIEW_SHARE_FORBIDDEN()
    if "filters" in data:
        data["filters"] = _filters(actor, data["filters"])
    if data.get("columns") is not None:
        _columns(actor, data["columns"])
    for key, value in data.items():
        setattr(view, key, value)
    view.updated_at = utcnow()


def create_view(actor, payload, uow):
    data = load(ds.SavedViewSchema(), payload)
    with uow:
        count = uow.session.scalar(select(func.count()).select_from(SavedView)
                                   .where(SavedView.owner_id == actor["id"]))
        if count >= VIEWS_PER_USER:
            raise exc.TOO_MANY_VIEWS(limit=VIEWS_PER_USER)
        view = SavedView(owner_id=actor["id"], owner_name=actor.get("name"),
                         created_at=utcnow())
        _apply(actor, view, data)
        uow.session.add(view)
        uow.commit()
        return _dump(actor, view)


def update_view(actor, view_id, payload, uow):
    data = load(ds.SavedViewPatchSchema(), payload)
    with uow:
        view = _visible_view(uow, actor, view_id)
        if view.owner_id != actor["id"]:
            raise exc.VIEW_NOT_OWNER()
        _apply(actor, view, data)
        uow.commit()
        return _dump(actor, view)


def delete_view(actor, view_id, uow):
    """The owner deletes; an admin may also remove a view shared with the desk."""
    with uow:
        view = _visible_view(uow, actor, view_id)
        if view.owner_id != actor["id"] and actor.get("role") != "admin":
            raise exc.VIEW_NOT_OWNER()
        uow.session.delete(view)
        uow.commit()
        return {"id": view_id, "deleted": True}
