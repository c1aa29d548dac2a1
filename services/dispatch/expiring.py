"""The daily certification_expiring check: warn once per certification and warning day."""
import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from . import domain, events
from .handlers import _today
from .models import Certification, CertificationWarning, Engineer


def _claim_warning(uow, certification_id, warn_on, now):
    """Insert the (certification, warning day) row unless it exists: True for the one
    caller, across replicas, that inserted it."""
    insert = pg_insert if uow.session.bind.dialect.name == "postgresql" else sqlite_insert
    result = uow.session.execute(insert(CertificationWarning.__table__).values(
        certification_id=certification_id, warn_on=warn_on, created_at=now)
        .on_conflict_do_nothing())
    return result.rowcount == 1


def warn_expiring_certifications(uow, settings):
    """certification_expiring for every certification valid today whose last day is within
    DISPATCH.certification_warning_days and that no later certification renews; once per
    certification (the claim row), however often and on however many replicas this runs.
    Returns how many warnings went out."""
    now = settings["now"]()
    today = _today(settings)
    days = settings["warning_days"]
    horizon = today + dt.timedelta(days=days)
    with uow:
        rows = uow.session.execute(
            select(Certification, Engineer).join(Engineer, Engineer.id == Certification.engineer_id)
            .where(Certification.valid_from <= today, Certification.valid_until >= today,
                   Certification.valid_until <= horizon)
            .order_by(Certification.valid_until, Certification.id)).all()
        if not rows:
            return 0
        engineer_ids = {cert.engineer_id for cert, _ in rows}
        others = {}
        for c in uow.session.scalars(select(Certification).where(
                Certification.engineer_id.in_(engineer_ids))).all():
            others.setdefault(c.engineer_id, []).append(c)
        sent = 0
        for cert, engineer in rows:
            if not domain.due_for_warning(cert, today, days, others.get(cert.engineer_id, ())):
                continue
            if not _claim_warning(uow, cert.id, domain.warning_day(cert, days), now):
                continue
            uow.emit(events.CERTIFICATION_EXPIRING, {
                "certification_id": cert.id, "engineer_id": engineer.id,
                "engineer_name": engineer.name, "provider_id": engineer.provider_id,
                "product_line": cert.product_line, "certificate_no": cert.certificate_no,
                "valid_until": cert.valid_until,
                "days_left": (cert.valid_until - today).days}, actor=domain.SYSTEM_ACTOR)
            sent += 1
        uow.commit()
        return sent
