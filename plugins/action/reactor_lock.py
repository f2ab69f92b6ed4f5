# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""The dinfra.chain.reactor_lock action (documented in plugins/modules/reactor_lock.py): the
lock belongs to the ansible-playbook process, which is the parent of the worker running this."""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ..module_utils import run_lock
from ..modules.reactor_lock import ARGUMENT_SPEC


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # Everything happens on the controller; no host is contacted.
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        name = args["name"]
        lock_dir = os.path.expanduser(args["lock_dir"] or run_lock.default_lock_dir(os.environ))
        result["lock_path"] = run_lock.lock_path(os.path.abspath(lock_dir), name)
        # Workers are forked from ansible-playbook (ansible-core 2.19, also under
        # ansible-runner); a parent of 1 means it died and the worker was adopted.
        owner = os.getppid()
        try:
            if not name:
                raise run_lock.LockError("name must not be empty")
            if owner == 1:
                raise run_lock.LockError("the ansible-playbook process that ran this task is gone")
            run_lock.check_wait(args["wait"])
            if args["state"] == "released":
                released = run_lock.release(lock_dir, name, owner)
                result["changed"] = released is not None
                if released:
                    result["owner"] = released
                return result
            report = run_lock.acquire(lock_dir, name, owner, args["wait"])
        except run_lock.LockError as exc:
            result.update(failed=True, msg=f"dinfra.chain.reactor_lock: {exc}")
            return result
        if report.get("owner"):
            result["owner"] = report["owner"]
        if report["status"] == "busy":
            result.update(failed=True, msg=run_lock.busy_message(report))
        else:
            result["changed"] = report["status"] == "acquired"
            # "run": held until every process of the run has exited (the deployments inventory
            # marked it); "owner": until the ansible-playbook process has.
            result["covers"] = "run" if run_lock.run_mark(owner) else "owner"
        return result
