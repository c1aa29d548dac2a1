"""Files of articles: may the actor attach, the record, the lookup behind a download."""
from gongdan_common.errors import AppError
from gongdan_common.validation import load

from .. import domain, exceptions as exc, schemas
from ..models import ArticleFile
from .common import _actor, _guard, _view, _article


# ---- files ---------------------------------------------------------------------------------

def authorize_file(actor, article_id, uow):
    """May the actor attach a file to this article? Returns the article id."""
    _actor(actor)
    with uow:
        article = _article(uow, article_id, actor)
        _guard(domain.check_edit, actor, _view(article))
        return {"article_id": article.id}


def add_file(actor, article_id, record, uow, settings):
    _actor(actor)
    data = load(schemas.FileRecordSchema(), record)
    with uow:
        article = _article(uow, article_id, actor)
        _guard(domain.check_edit, actor, _view(article))
        row = ArticleFile(article_id=article.id, uploaded_by=actor.get("id"),
                          created_at=settings["now"](), **data)
        uow.session.add(row)
        uow.commit()
        return schemas.FileSchema().dump(row)


def get_file(actor, file_id, uow):
    """A file's storage record, if the actor may read its article."""
    _actor(actor)
    with uow:
        row = uow.session.get(ArticleFile, file_id) \
            if isinstance(file_id, str) and 0 < len(file_id) <= 36 else None
        if row is None:
            raise exc.FILE_NOT_FOUND()
        try:
            _article(uow, row.article_id, actor)
        except AppError:  # an article the actor may not read: its files do not exist
            raise exc.FILE_NOT_FOUND() from None
        out = schemas.FileSchema().dump(row)
        out.update(bucket=row.bucket, object_key=row.object_key)
        return out
