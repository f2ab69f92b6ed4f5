"""queryAsyncJobResult and listAsyncJobs."""
from .. import jobs
from ..params import P
from ..registry import command


@command("queryAsyncJobResult", {"jobid": P("uuid", required=True, kind="job")},
         java="org.apache.cloudstack.api.command.user.job.QueryAsyncJobResultCmd")
def query_async_job_result(ctx, p):
    job = jobs.poll(ctx, ctx.tx.get("job", p["jobid"]))
    return jobs.response(ctx, job)


@command("listAsyncJobs", {"startdate": P()}, list_key="asyncjobs", java="org.apache.cloudstack.api.command.user.job.ListAsyncJobsCmd")
def list_async_jobs(ctx, _p):
    return [jobs.response(ctx, job) for job in ctx.tx.all("job")]
