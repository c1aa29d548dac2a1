"""The export jobs as their requester sees them: create (the owner checks the filters and the
actor's right to them first: nothing is stored when it refuses), list, progress, download,
delete. Running a job is runner.py's."""
import datetime as dt
import zoneinfo

from sqlalchemy import func, select

from gongdan_common.events import utcnow
from gongdan_common.validation import load

from . import domain, exceptions as exc, schemas
from .models import Job

_job_out = schemas.JobSchema()


def settings_from_config(config):
    cfg = config.get("EXPORTS") or {}
    return {
        "tz": zoneinfo.ZoneInfo(config.get("TIMEZONE") or "Asia/Shanghai"),
        "page_size": int(cfg.get("page_size", 1000)),
        "page_pause": float(cfg.get("page_pause", 0)),  # tests: slow a job down to watch it
        "lease_seconds": float(cfg.get("lease_seconds", 60)),
        "keep_days": float(cfg.get("keep_days", 7)),
        "max_active": int(cfg.get("max_active_per_user", 3)),
        "rpc_timeout": float(cfg.get("rpc_timeout", 30)),
        "max_attempts": int(cfg.get("max_attempts", 3)),
        "spool_dir": cfg.get("spool_dir") or None,
        "link_ttl": int(cfg.get("link_ttl_seconds", 300)),
    }


def _dump(job):
    return _job_out.dump(job)


def create_export(actor, payload, uow, owners, settings, now=None):
    """Queue an export. The owner's export RPC is asked for a first row as the actor: its own
    schema refuses a bad filter and its own authorisation one the actor may not use, with its
    own error, before any job exists. Its count (or estimate) is the job's rows_total."""
    data = load(schemas.ExportInSchema(), payload)
    now = now or utcnow()
    kind = data["kind"]
    with uow:
        active = uow.session.scalar(select(func.count()).select_from(Job).where(
            Job.owner_id == actor["id"], Job.status.in_(domain.ACTIVE)))
    if active >= settings["max_active"]:
        raise exc.TOO_MANY(count=active)
    first = owners.page(kind, actor, data["filters"], None, 1)
    job = Job(owner_id=actor["id"], actor=dict(actor), kind=kind, format=data["format"],
              lang=data["lang"], filters=data["filters"],
              columns=data.get("columns") or domain.default_columns(kind), status="queued",
              rows_done=0, rows_total=first.get("total"), attempts=0, created_at=now,
              file_name=domain.file_name(kind, data["format"], data["lang"],
                                         now.astimezone(settings["tz"])))
    with uow:
        uow.session.add(job)
        uow.commit()
        return _dump(job)


def _own(uow, actor, job_id):
    job = uow.session.get(Job, job_id) if isinstance(job_id, str) and len(job_id) <= 36 \
        else None
    if job is None or job.owner_id != actor["id"]:  # someone else's: as if it did not exist
        raise exc.JOB_NOT_FOUND()
    return job


def list_exports(actor, uow):
    with uow:
        jobs = uow.session.scalars(select(Job).where(Job.owner_id == actor["id"])
                                   .order_by(Job.created_at.desc()).limit(100)).all()
        return {"items": [_dump(j) for j in jobs]}


def get_export(actor, job_id, uow):
    with uow:
        return _dump(_own(uow, actor, job_id))


def download(actor, job_id, uow, store, settings):
    with uow:
        job = _own(uow, actor, job_id)
        if job.status != "done":
            raise exc.NOT_READY(status=job.status)
        key, name, size = job.object_key, job.file_name, job.size
    return {"url": store.presigned_get(key, name, settings["link_ttl"]), "file_name": name,
            "size": size}


def delete_export(actor, job_id, uow, store):
    """Removes the job and its file; a running job stops at its next page (runner.py)."""
    with uow:
        job = _own(uow, actor, job_id)
        key, out = job.object_key, _dump(job)
        uow.session.delete(job)
        uow.commit()
    if key:
        store.delete(key)
    return out


def expire(uow, store, now=None, batch=100):
    """Remove the files of finished jobs past their expiry; the job stays, as expired."""
    now = now or utcnow()
    done = 0
    while True:
        with uow:
            jobs = uow.session.scalars(
                select(Job).where(Job.status == "done", Job.expires_at < now)
                .limit(batch).with_for_update(skip_locked=True)).all()
            for job in jobs:
                store.delete(job.object_key)
                job.status, job.object_key = "expired", None
            uow.commit()
        done += len(jobs)
        if len(jobs) < batch:
            return done


def expiry(now, settings):
    return now + dt.timedelta(days=settings["keep_days"])
