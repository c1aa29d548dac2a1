"""Notification rules and templates, managed by admins."""
from sqlalchemy import select

from gongdan_common.errors import VALIDATION_FAILED
from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, exceptions as exc, schemas, templates
from .common import _admin, _rule_overrides
from .models import RuleOverride, TemplateOverride


def list_rules(actor, uow):
    _admin(actor)
    with uow:
        rules = domain.effective_rules(_rule_overrides(uow))
    return {"items": schemas.RuleOut(many=True).dump(rules)}


def put_rule(actor, rule_id, payload, uow):
    _admin(actor)
    if not rule_id or len(rule_id) > 64:
        raise VALIDATION_FAILED(details={"fields": {"id": [{"en": "1 to 64 characters.",
                                                            "zh": "长度须为 1 到 64。"}]}})
    data = load(schemas.RuleSchema(), payload)
    with uow:
        row = uow.session.get(RuleOverride, rule_id)
        if row is None:
            row = RuleOverride(id=rule_id)
            uow.session.add(row)
        row.rule, row.updated_by, row.updated_at = data, actor["id"], utcnow()
        uow.commit()
        rules = domain.effective_rules(_rule_overrides(uow))
    return schemas.RuleOut().dump(next(r for r in rules if r["id"] == rule_id))


def delete_rule(actor, rule_id, uow):
    """A custom rule is removed; a shipped rule goes back to its default."""
    _admin(actor)
    with uow:
        row = uow.session.get(RuleOverride, rule_id)
        if row is None and rule_id not in domain.DEFAULT_IDS:
            raise exc.RULE_NOT_FOUND(id=rule_id)
        if row is not None:
            uow.session.delete(row)
        uow.commit()
    return {"id": rule_id, "restored_default": rule_id in domain.DEFAULT_IDS}


def list_templates(actor, uow):
    _admin(actor)
    with uow:
        rows = {(r.kind, r.language): r for r in uow.session.scalars(select(TemplateOverride))}
    items = []
    for kind, langs in templates.DEFAULTS.items():
        for lang, parts in langs.items():
            row = rows.get((kind, lang))
            src = {"subject": row.subject, "text": row.text, "html": row.html} if row else parts
            items.append(dict(src, kind=kind, language=lang, overridden=row is not None))
    return {"items": schemas.TemplateOut(many=True).dump(items)}


def _check_kind(kind, language):
    if kind not in templates.KINDS or language not in templates.LANGUAGES:
        raise exc.TEMPLATE_NOT_FOUND(kind=kind, language=language)


def put_template(actor, kind, language, payload, uow):
    _admin(actor)
    _check_kind(kind, language)
    data = load(schemas.TemplateSchema(), payload)
    try:
        templates.compile_template(data)
    except templates.TemplateInvalid as err:
        raise exc.TEMPLATE_INVALID(details={"fields": {
            part: [{"en": en, "zh": zh}] for part, (en, zh) in err.problems.items()}}) from None
    with uow:
        row = uow.session.get(TemplateOverride, (kind, language))
        if row is None:
            row = TemplateOverride(kind=kind, language=language)
            uow.session.add(row)
        row.subject, row.text, row.html = data["subject"], data["text"], data["html"]
        row.updated_by, row.updated_at = actor["id"], utcnow()
        uow.commit()
    return schemas.TemplateOut().dump(dict(data, kind=kind, language=language, overridden=True))


def delete_template(actor, kind, language, uow):
    _admin(actor)
    _check_kind(kind, language)
    with uow:
        row = uow.session.get(TemplateOverride, (kind, language))
        if row is not None:
            uow.session.delete(row)
        uow.commit()
    parts = templates.DEFAULTS[kind][language]
    return schemas.TemplateOut().dump(dict(parts, kind=kind, language=language,
                                           overridden=False))
