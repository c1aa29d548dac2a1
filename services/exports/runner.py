"""Running export jobs: claim one (a lease, renewed with every page), read its rows from the
owner page by page as the requester, write them to a spool file (CSV or XLSX, row by row),
upload the file to object storage, mark it done. Memory stays flat: one page of rows at a
time, and the file is on disk until the upload streams it in 5 MiB parts.

A worker that dies leaves its lease to run out; the next claim starts the job over. Deleting
a job stops its run at the next page. An owner's refusal (say, the requester lost a right
since) fails the job with that message; an owner or the store being away retries it later,
up to max_attempts.
"""
import datetime as dt
import logging
import os
import tempfile

import eventlet
from sqlalchemy import or_, select, update

from gongdan_common.errors import AppError
from gongdan_common.events import utcnow

from . import domain, events, handlers, writers
from .models import Job

log = logging.getLogger(__name__)


class Stopped(Exception):
    """The job was deleted, or another worker took it over: stop quietly."""


class Released(Exception):
    """This process is stopping: hand the job back to the queue for another to start over."""


def claim(uow, settings, now=None):
    """The next job to run (queued, or running with a lease run out), leased to us; None."""
    now = now or utcnow()
    with uow:
        job = uow.session.scalars(
            select(Job).where(or_(Job.status == "queued",
                                  (Job.status == "running") & (Job.lease_until < now)),
                              or_(Job.lease_until.is_(None), Job.lease_until < now))
            .order_by(Job.created_at).limit(1).with_for_update(skip_locked=True)).first()
        if job is None:
            return None
        job.status, job.attempts, job.rows_done = "running", job.attempts + 1, 0
        job.started_at = now
        job.lease_until = now + dt.timedelta(seconds=settings["lease_seconds"])
        uow.commit()
        return {"id": job.id, "attempt": job.attempts, "actor": job.actor, "kind": job.kind,
                "format": job.format, "lang": job.lang, "filters": job.filters,
                "columns": job.columns, "owner_id": job.owner_id}


def _mine(job):
    return (Job.id == job["id"]) & (Job.attempts == job["attempt"]) & (Job.status == "running")


def _progress(uow, job, settings, **values):
    now = utcnow()
    with uow:
        n = uow.session.execute(update(Job).where(_mine(job)).values(
            lease_until=now + dt.timedelta(seconds=settings["lease_seconds"]), **values)
        ).rowcount
        uow.commit()
    if not n:
        raise Stopped()


def _finish(uow, job, **values):
    """The job's end, and its event in the same transaction (outbox)."""
    with uow:
        n = uow.session.execute(update(Job).where(_mine(job)).values(
            lease_until=None, finished_at=utcnow(), **values)).rowcount
        if n:
            row = uow.session.get(Job, job["id"])
            data = {"job_id": row.id, "owner_id": row.owner_id, "kind": row.kind,
                    "format": row.format, "file_name": row.file_name,
                    "rows": row.rows_done if row.status == "done" else 0}
            if row.status == "done":
                uow.emit(events.EXPORT_FINISHED, dict(data, size=row.size,
                                                      expires_at=row.expires_at),
                         actor=job["actor"])
            else:
                uow.emit(events.EXPORT_FAILED, dict(data, error=row.error), actor=job["actor"])
        uow.commit()
    return n


def _write(job, owners, uow, settings, fileobj, stopping):
    tz = settings["tz"]
    headers = domain.headers(job["kind"], job["columns"], job["lang"])
    title = domain.KIND_TITLES[job["kind"]][0 if job["lang"] == "zh" else 1]
    writer = writers.open_writer(job["format"], fileobj, headers, title)
    cells = domain.row_writer(job["kind"], job["columns"], job["lang"], tz)
    after, done = None, 0
    while True:
        page = owners.page(job["kind"], job["actor"], job["filters"], after,
                           settings["page_size"])
        for item in page["items"]:
            writer.row(cells(item))
        done += len(page["items"])
        extra = {"rows_total": page["total"]} if after is None and "total" in page else {}
        _progress(uow, job, settings, rows_done=done, **extra)
        after = page.get("next")
        if not after:
            break
        if stopping():
            raise Released()
        if settings["page_pause"]:
            eventlet.sleep(settings["page_pause"])
    writer.close()
    return done


def run(job, owners, uow, store, settings, stopping=lambda: False):
    """Run one claimed job to its end (done, failed, back in the queue, or stopped)."""
    fd, path = tempfile.mkstemp(prefix=f"export-{job['id']}-", dir=settings["spool_dir"])
    key = f"exports/{job['owner_id']}/{job['id']}.{job['format']}"
    try:
        with os.fdopen(fd, "w+b") as f:
            rows = _write(job, owners, uow, settings, f, stopping)
            size = f.tell()
            f.seek(0)
            store.put_stream(key, f, size, writers.CONTENT_TYPES[job["format"]])
        now = utcnow()
        if not _finish(uow, job, status="done", rows_done=rows, rows_total=rows,
                       object_key=key, size=size, expires_at=handlers.expiry(now, settings)):
            store.delete(key)  # deleted while uploading
        return "done"
    except Stopped:
        return "stopped"
    except Released:
        with uow:
            uow.session.execute(update(Job).where(_mine(job)).values(
                status="queued", lease_until=None, rows_done=0, attempts=Job.attempts - 1))
            uow.commit()
        return "released"
    except AppError as err:
        if err.status < 500:  # the owner refused: running it again would not help
            _finish(uow, job, status="failed", error=_error(err))
            return "failed"
        return _retry(uow, job, settings, err)
    except Exception as err:  # noqa: BLE001 - a job must end in a state, whatever broke
        log.exception("export %s failed", job["id"])
        return _retry(uow, job, settings, err)
    finally:
        os.unlink(path)


def _error(err):
    return {"code": err.code, "zh": err.message("zh"), "en": err.message("en")}


UNAVAILABLE = {"code": "service_unavailable",
               "zh": "导出失败：所需服务多次无响应，请稍后重新导出。",
               "en": "The export failed: a service it needs did not answer; export again later."}


def _retry(uow, job, settings, err):
    if job["attempt"] >= settings["max_attempts"]:
        _finish(uow, job, status="failed",
                error=_error(err) if isinstance(err, AppError) else UNAVAILABLE)
        return "failed"
    later = utcnow() + dt.timedelta(seconds=min(300, 5 * 2 ** job["attempt"]))
    with uow:  # back in the queue, not before `later`
        uow.session.execute(update(Job).where(_mine(job)).values(
            status="queued", lease_until=later, rows_done=0))
        uow.commit()
    return "retry"


def run_all(owners, uow, store, settings, stopping=lambda: False):
    """Claim and run jobs one after another until none is waiting (or we are stopping)."""
    outcomes = []
    while not stopping():
        job = claim(uow, settings)
        if job is None:
            break
        outcomes.append(run(job, owners, uow, store, settings, stopping))
    return outcomes
