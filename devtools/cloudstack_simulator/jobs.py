"""Async jobs (queryAsyncJobResult). An async command's job is created pending; it runs when
it has been polled ``job_pending_polls`` times (0: at once, in the request that made it) or
when ``job_pending_seconds`` have passed and any request comes in, whichever is first. Jobs
are stored with the rest of the state, so a pending job survives a restart."""
import logging
import time
import uuid

from . import errors
from .registry import COMMANDS

PENDING, SUCCEEDED, FAILED = 0, 1, 2
EXPIRE_AFTER = 24 * 3600
PURGE_EVERY = 3600

log = logging.getLogger("cloudstack_simulator.jobs")


def create(ctx, cmd, start):
    """Stores the job for ``cmd`` (started by its handler as ``start``), runs it if it is not
    to stay pending, and returns it."""
    polls, seconds = ctx.faults.job_pending()
    job = {
        "id": str(uuid.uuid4()),
        "cmd": cmd.name,
        "args": start.args,
        "instancetype": start.instance_type,
        "instanceid": start.instance_id,
        "status": PENDING,
        "created": ctx.timestamp(),
        "polls_left": polls,
        "created_at": time.time(),
        "deadline": time.time() + seconds,
        "fail": ctx.faults.take_job_failure(cmd.name),
    }
    ctx.tx.put("job", job)
    if polls == 0:
        run(ctx, job)
    else:
        _pending(ctx.tx, add=job["id"])
    return job


def _pending(tx, add=None, remove=None):
    """The ids of the pending jobs, kept apart so that a sweep need not read every job."""
    ids = [i for i in tx.meta("pending_jobs", "").split(",") if i]
    if add and add not in ids:
        ids.append(add)
    if remove in ids:
        ids.remove(remove)
    tx.set_meta("pending_jobs", ",".join(ids))
    return ids


def run(ctx, job):
    """Does the job's work (or fails it) and records the outcome."""
    cmd = COMMANDS[job["cmd"]]
    try:
        with ctx.tx.savepoint():
            if job["fail"]:
                raise errors.ApiError(*job["fail"])
            result = cmd.finish(ctx, job["args"])
        job.update(status=SUCCEEDED, resultcode=0, result=result)
    except errors.ApiError as e:
        failure = e
    except Exception:  # pylint: disable=broad-exception-caught  # a simulator bug must fail the job, not the server
        log.exception("job %s (%s) crashed", job["id"], job["cmd"])
        failure = errors.ApiError(errors.INTERNAL_ERROR, errors.INTERNAL_ERROR_TEXT)
    else:
        failure = None
    if failure is not None:
        if cmd.fail:
            cmd.fail(ctx, job["args"], failure)
        job.update(status=FAILED, resultcode=failure.code, result={"errorcode": failure.code, "errortext": failure.text})
        log.info("job %s (%s) failed: %s %s", job["id"], job["cmd"], failure.code, failure.text)
    job["completed"] = ctx.timestamp()
    ctx.tx.put("job", job)
    _pending(ctx.tx, remove=job["id"])


def poll(ctx, job):
    """A queryAsyncJobResult of ``job``: counts the poll and runs the job when it is due."""
    if job["status"] == PENDING:
        job["polls_left"] = max(0, job["polls_left"] - 1)
        if job["polls_left"] == 0 or time.time() >= job["deadline"]:
            run(ctx, job)
        else:
            ctx.tx.put("job", job)
    return job


def sweep(ctx):
    """Runs the pending jobs whose time is up (as CloudStack's job executors would have), and
    now and then forgets finished jobs older than a day (CloudStack's job.expire.minutes)."""
    now = time.time()
    if now - float(ctx.tx.meta("jobs_purged", "0")) > PURGE_EVERY:
        for job in ctx.tx.all("job"):
            if job["status"] != PENDING and job["created_at"] < now - EXPIRE_AFTER:
                ctx.tx.delete("job", job["id"])
        ctx.tx.set_meta("jobs_purged", str(now))
    for job_id in _pending(ctx.tx):
        job = ctx.tx.get("job", job_id)
        if job is None or job["status"] != PENDING:
            _pending(ctx.tx, remove=job_id)
        elif now >= job["deadline"]:
            run(ctx, job)


def response(ctx, job):
    """The AsyncJobResponse of ``job``."""
    body = {
        "accountid": ctx.account()["id"],
        "userid": ctx.user()["id"],
        "cmd": COMMANDS[job["cmd"]].java,
        "jobstatus": job["status"],
        "jobprocstatus": 0,
        "jobresultcode": job.get("resultcode", 0),
        "jobresulttype": "object",
        "created": job["created"],
        "jobid": job["id"],
    }
    if job.get("instancetype"):
        body["jobinstancetype"] = job["instancetype"]
    if job.get("instanceid"):
        body["jobinstanceid"] = job["instanceid"]
    if job["status"] != PENDING:
        body["jobresult"] = job["result"]
        body["completed"] = job["completed"]
    return body
