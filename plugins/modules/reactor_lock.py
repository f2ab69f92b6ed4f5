#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: reactor_lock
short_description: Keep two Chain Reactor runs for one provider from running at the same time
version_added: 0.1.0
description:
  - Takes a lock on the controller that is held for as long as the run lives, and released when
    it ends, whatever the way (a failed play, Ctrl-C, C(kill -9)), or earlier by O(state=released).
  - A run is the C(ansible-playbook) process running the task and, when the
    C(dinfra.chain.deployments) inventory marked it (as in a reactor run), every worker and
    module it started. ansible-core's workers start sessions of their own, so a run killed by
    its process group leaves them running, and a module may still be writing. The lock is then
    held until the last of them has exited, and a run waiting for it is told which they are.
    Without the mark, the lock is held until the C(ansible-playbook) process has exited.
  - A run asking for a lock another run holds waits up to O(wait) seconds for it, then fails,
    saying which C(ansible-playbook) process holds it, on which host, and since when.
  - Taking a lock the same run holds already changes nothing. Releasing a lock the run does not
    hold changes nothing; another run's lock is never touched.
  - The lock is an C(flock) on a file in O(lock_dir), held by a small process of its own session
    that ends when the run does (it looks twice a second) or when the lock is released; the
    kernel frees the C(flock) then, so a crash never leaves a stale lock.
options:
  name:
    description:
      - What is locked, for example the provider's address and the node URL. Runs that use the
        same name exclude each other.
      - The lock file is named after a hash of it; the name is in the file's owner info.
    type: str
    required: true
  state:
    description:
      - C(acquired) takes the lock, waiting up to O(wait) seconds; C(released) gives it up before
        the run ends.
    type: str
    choices: [acquired, released]
    default: acquired
  wait:
    description:
      - Seconds to wait for a lock another run holds, at most 3600. C(0) tries once.
    type: int
    default: 60
  lock_dir:
    description:
      - Directory of the lock files, created with mode C(0700) if missing. It must be on a local
        file system of the controller.
      - Defaults to E(DINFRA_LOCK_DIR), else C($XDG_RUNTIME_DIR/dinfra) when E(XDG_RUNTIME_DIR)
        is set, else C(~/.cache/dinfra/locks).
    type: path
extends_documentation_fragment:
  - dinfra.chain.attributes
  - dinfra.chain.attributes.controller
attributes:
  action:
    support: full
    description: Runs as an action plugin on the controller, never on the hosts of the play.
  async:
    support: none
    description: The lock outlives the task by design; C(async) does not apply.
  bypass_host_loop:
    support: none
    description:
      - Runs once per host like any task; the hosts after the first find the lock held by their
        own run and report no change. C(run_once) avoids that.
  check_mode:
    support: full
    description:
      - Takes and releases the lock in check mode too; a check run should not overlap a real one,
        and the lock changes nothing outside the controller.
  diff_mode:
    support: none
    description: Returns no diff.
  platform:
    support: N/A
    platforms: all
    description: Runs on the controller, which must run Linux (the lock needs C(/proc) and C(flock)); the hosts of the play do not matter.
notes:
  - Take the lock in the first play, before any task that reads or changes what the lock protects.
    Inventory sources are read before the first play; a run that had to wait for the lock should
    refresh them (C(ansible.builtin.meta) C(refresh_inventory)).
  - Only runs on one controller are kept apart; two controllers with their own lock directories do
    not see each other's locks.
  - The owner is the parent of the worker process running the task, that is the C(ansible-playbook)
    process (also under C(ansible-runner)). Strategy plugins that run tasks elsewhere are not supported.
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: One reactor run at a time for this provider on this chain
  dinfra.chain.reactor_lock:
    name: "{{ dinfra_provider_address }} {{ dinfra_node_url }}"
    wait: 300
  run_once: true

- name: Fail at once when another run is under way
  dinfra.chain.reactor_lock:
    name: "{{ dinfra_provider_address }} {{ dinfra_node_url }}"
    wait: 0
  run_once: true

- name: Let the next run start before this one's slow summary
  dinfra.chain.reactor_lock:
    name: "{{ dinfra_provider_address }} {{ dinfra_node_url }}"
    state: released
  run_once: true
"""

RETURN = r"""
lock_path:
  description: The lock file.
  returned: success, and when the lock is busy
  type: str
  sample: /run/user/1000/dinfra/reactor-2d711642b726b044.lock
covers:
  description:
    - C(run) when the lock is held until every process of the run has exited (the run was marked
      by the C(dinfra.chain.deployments) inventory), C(owner) when until the C(ansible-playbook)
      process has.
  returned: when the lock was taken or held
  type: str
  sample: run
owner:
  description:
    - Who holds the lock - this run once it took it, the other run when it is busy, or the run
      that held it until this task released it.
    - Absent when the lock is busy but its holder has not written its info yet, and when
      O(state=released) released nothing.
  returned: when known
  type: dict
  contains:
    name: {description: The locked name., type: str}
    pid: {description: Process id of the C(ansible-playbook) run that holds the lock., type: int}
    pid_start: {description: "Its start time in clock ticks after boot, which tells it from a later process with the same id.", type: int}
    holder_pid: {description: Process id of the process holding the C(flock)., type: int}
    holder_start: {description: Its start time in clock ticks after boot., type: int}
    host: {description: The controller's host name., type: str}
    since: {description: "When the lock was taken, in UTC (C(2026-11-24T10:00:00Z))", type: str}
    leftovers:
      description:
        - When the run's C(ansible-playbook) process has ended but some of its processes still
          run, each one's C(pid) and C(command), its program and the names of the first files it
          was given, never the values of its arguments (they may hold secrets).
      type: list
      elements: dict
  sample:
    name: 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY ws://127.0.0.1:9944
    pid: 4242
    pid_start: 2402498
    holder_pid: 4250
    holder_start: 2402511
    host: reactor-1
    since: "2026-11-24T10:00:00Z"
"""

from ansible.module_utils.basic import AnsibleModule

# The action plugin validates the task's arguments with this too.
ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", choices=["acquired", "released"], default="acquired"),
    wait=dict(type="int", default=60),
    lock_dir=dict(type="path"),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="dinfra.chain.reactor_lock runs on the controller as an action plugin")


if __name__ == "__main__":
    main()
