"""Dispatching one authenticated API request: parameters, the command, paging, async jobs,
and the response CloudStack would give, wrapped in ``<command lower-cased>response``."""
import datetime
import logging

from . import errors, jobs, params
from .registry import COMMANDS

log = logging.getLogger("cloudstack_simulator.api")

# Parameters every request may carry that no command reads.
ENVELOPE = {"command", "response", "apikey", "signature", "signatureversion", "expires", "sessionkey", "_"}


class JobStart:
    """What an async command's handler returns: the arguments its finisher gets, and the
    object the job is about (jobinstancetype / jobinstanceid)."""

    def __init__(self, args, instance_type=None, instance_id=None):
        self.args = args
        self.instance_type = instance_type
        self.instance_id = instance_id


class Context:
    """One request: its transaction, its command and parameters, and helpers the commands share."""

    def __init__(self, tx, command, raw, http_method, faults):
        self.tx = tx
        self.command = command
        self.raw = raw
        self.http_method = http_method
        self.faults = faults
        self.params = {}

    @staticmethod
    def timestamp(when=None):
        """A date as CloudStack serialises it: yyyy-MM-dd'T'HH:mm:ssZ."""
        when = when or datetime.datetime.now(datetime.timezone.utc)
        return when.strftime("%Y-%m-%dT%H:%M:%S+0000")

    def require(self, kind, object_id, name="id"):
        obj = self.tx.get(kind, object_id)
        if obj is None:
            raise errors.no_such_entity(self.command, name, object_id)
        return obj

    @staticmethod
    def job(args, instance_type=None, instance_id=None):
        return JobStart(args, instance_type, instance_id)

    def _seeded(self, kind):
        return self.tx.all(kind)[0]

    def account(self):
        return self._seeded("account")

    def user(self):
        return self._seeded("user")

    def domain(self):
        return self._seeded("domain")

    def check_owner(self):
        """Checks account / domainid / projectid as CloudStack would for the one account there
        is (admin in ROOT); True if the request asks for project resources only (there are none)."""
        p = self.params
        domain = self.domain()
        if p.get("domainid") and p["domainid"] != domain["id"]:
            raise errors.no_such_entity(self.command, "domainid", p["domainid"])
        account = p.get("account")
        if account and account.lower() != self.account()["name"].lower():
            raise errors.param_error(f"Unable to find account {account} in domain id={p.get('domainid') or domain['id']}")
        project = p.get("projectid")
        if project == "-1":
            return True
        if project:
            raise errors.no_such_entity(self.command, "projectid", project)
        return False


def response_name(command):
    return f"{command.lower()}response" if command in COMMANDS else "errorresponse"


def handle(store, faults, command, raw, http_method):
    """(HTTP status, response object) for an authenticated request of ``command``."""
    cmd = COMMANDS.get(command)
    if cmd is None:
        return _error(errors.ApiError(errors.UNSUPPORTED_ACTION_ERROR, f"The given command:{command} does not exist or it is not available for user"))
    if params.lowered(raw).get("response", "xml").lower() != "json":
        return _error(errors.param_error("The CloudStack simulator only answers response=json"))
    injected = faults.take_api_failure(command)
    if injected:
        return _error(errors.ApiError(*injected))
    try:
        # Due jobs first, in their own transaction: this request's error must not undo them.
        with store.transaction() as tx:
            jobs.sweep(Context(tx, command, raw, http_method, faults))
        with store.transaction(memo=bool(cmd.list_key)) as tx:
            ctx = Context(tx, command, raw, http_method, faults)
            ctx.params = params.parse(command, cmd.params, raw, tx)
            if cmd.list_key:
                start, size = params.paging(command, raw)
                projects_only = ctx.check_owner()
                items = [] if projects_only else cmd.handler(ctx, ctx.params)
                return 200, _page(cmd.list_key, items, start, size)
            result = cmd.handler(ctx, ctx.params)
            if cmd.is_async:
                job = jobs.create(ctx, cmd, result)
                body = {"jobid": job["id"]}
                if cmd.returns_id and result.instance_id:
                    body["id"] = result.instance_id
                return 200, body
            return 200, result
    except errors.ApiError as e:
        return _error(e)
    except Exception:  # pylint: disable=broad-exception-caught  # CloudStack answers 530 to its own bugs too
        log.exception("%s failed", command)
        return _error(errors.ApiError(errors.INTERNAL_ERROR, errors.INTERNAL_ERROR_TEXT))


def _page(list_key, items, start, size):
    """A list response as CloudStack serialises it: no count when it is 0, no list when empty."""
    page = items[start:start + size] if size is not None else items[start:]
    body = {}
    if items:
        body["count"] = len(items)
    if page:
        body[list_key] = page
    return body


def _error(e):
    return e.code, e.body()
