"""The API commands the simulator knows, registered by the modules in commands/."""
from .params import P

COMMANDS = {}

# What every list command accepts besides its own filters (BaseListProjectAndAccountResourcesCmd).
LIST_PARAMS = {
    "keyword": P(),
    "listall": P("bool"),
    "isrecursive": P("bool"),
    "account": P(),
    "domainid": P("uuid", kind="domain"),
    "projectid": P(),
}


class Command:
    """One API command. A synchronous command's handler returns the response object; a list
    command's handler returns every matching item (the dispatcher pages them); an async
    command's handler checks the request, makes the changes CloudStack makes before its job
    runs, and returns ``ctx.job(...)``; its finisher does the job's work and returns the job
    result; its failure hook (optional) undoes what the handler did when the job fails."""

    def __init__(self, name, handler, params, list_key=None, is_async=False, returns_id=False, java=None):
        self.name = name
        self.handler = handler
        self.params = params
        self.list_key = list_key
        self.is_async = is_async
        self.returns_id = returns_id
        self.java = java or f"org.apache.cloudstack.api.command.user.{name}Cmd"
        self.finish = None
        self.fail = None

    def finisher(self, fn):
        self.finish = fn
        return fn

    def on_failure(self, fn):
        self.fail = fn
        return fn


def command(name, params=None, list_key=None, is_async=False, returns_id=False, java=None):
    """Registers the decorated handler as API command ``name``."""
    spec = dict(params or {})
    if list_key:
        spec = {**LIST_PARAMS, **spec}

    def register(handler):
        cmd = Command(name, handler, spec, list_key, is_async, returns_id, java)
        COMMANDS[name] = cmd
        return cmd

    return register
