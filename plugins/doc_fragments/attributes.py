# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """The attributes the modules share: every module supports check mode (DOCUMENTATION),
    some only read (READ_ONLY), and the chain and IPFS modules run in the controller
    (CONTROLLER). A module's own entry for an attribute replaces the fragment's, which is how a
    module says what exactly its check or diff mode shows."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Changes nothing in check mode, and reports what a real run would change.
  diff_mode:
    support: none
    description: Returns no diff.
"""

    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: Only reads, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Only reads; there is nothing to compare.
"""

    CONTROLLER = r"""
attributes:
  action:
    support: full
    description:
      - Runs in the controller, inside its action plugin, without a module process of its own
        (a module process costs about a second of start-up; docs/performance.md).
      - The node, the gateway and the signer are reached from the controller, whatever the
        play's hosts are. Options that are not given come from the controller's environment
        variables, as AWX credentials set them; the task's C(environment) keyword does not
        apply.
  async:
    support: none
    description: Runs in the controller; C(async) does not apply.
  bypass_host_loop:
    support: none
    description: Runs once per host, like any task.
  platform:
    support: full
    platforms: posix
    description: Runs in the controller; the play's hosts may be anything.
"""
