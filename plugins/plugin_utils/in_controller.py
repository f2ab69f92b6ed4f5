# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Runs a dinfra.chain chain or IPFS module inside its action plugin, in the controller's worker
process, instead of as a module process of its own.

Why: a module process costs about 1 s of start-up on the machines we measured (Python, the
AnsiballZ payload, substrate-interface and jsonschema imported again), which was most of what a
report or a descriptor fetch cost (docs/performance.md). A worker is forked from
ansible-playbook, which has already imported those libraries when it loaded the action plugin
and read the inventory, so here the module costs only its own work.

The module file stays the one place with the module's documentation, options and logic. It has
one shape (see docs/development.md, "Module shape"):

    def module_args():  # the AnsibleModule keyword arguments: argument_spec, mutually_exclusive, ...
    def run(module):    # the work; ends with module.exit_json or module.fail_json
    def main():         # run(AnsibleModule(**module_args()))

and its action plugin is two lines: ``class ActionModule(InControllerAction): MODULE = <the module>``.
"""

from __future__ import annotations

import json
import traceback

from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase


class ModuleExit(BaseException):
    """How ``exit_json`` and ``fail_json`` end a module here. A BaseException, as SystemExit is
    for a module process: the modules' own ``except Exception`` handlers must not catch it."""

    def __init__(self, result):
        super().__init__("module exit")
        self.result = result


class ControllerModule:
    """The part of AnsibleModule the dinfra.chain modules use, over arguments the action plugin
    has validated against the module's own argument spec."""

    def __init__(self, params, check_mode):
        self.params = params
        self.check_mode = check_mode
        self.warnings = []

    def exit_json(self, **result):
        raise ModuleExit(result)

    def fail_json(self, msg, **result):
        result.update(failed=True, msg=msg)
        raise ModuleExit(result)

    def warn(self, warning):
        self.warnings.append(warning)


class InControllerAction(ActionBase):
    """The action plugin of a module that runs in the controller (module file named by MODULE)."""

    TRANSFERS_FILES = False
    # The chain, the IPFS gateway and the signer's lock are reached from the controller; no
    # host is contacted, so no connection is set up.
    _requires_connection = False
    MODULE = None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        spec = dict(self.MODULE.module_args())
        spec.pop("supports_check_mode", None)  # every module of this shape supports it
        # Applies the environment fallbacks (AWX credentials arrive as environment variables)
        # and collects the no_log values, which nothing below may return.
        validation, params = self.validate_argument_spec(**spec)
        hidden = validation._no_log_values
        # What a module process would receive: plain JSON types. Task arguments arrive as
        # ansible-core's tagged str and dict subclasses, which the SCALE encoder refuses.
        params = json.loads(json.dumps(params))
        module = ControllerModule(params, bool(self._play_context.check_mode))
        try:
            self.MODULE.run(module)
            outcome = dict(failed=True, msg=f"{self._task.action} ended without a result (a bug)")
        except ModuleExit as done:
            outcome = done.result
        except Exception as exc:  # a bug: report it with its traceback, never the secrets
            outcome = dict(
                failed=True,
                msg=f"unexpected error: {exc.__class__.__name__}: {exc}",
                exception=traceback.format_exc(),
            )
        if module.warnings:
            outcome["warnings"] = outcome.get("warnings", []) + module.warnings
        outcome.setdefault("changed", False)
        result.update(remove_values(outcome, hidden))
        return result
