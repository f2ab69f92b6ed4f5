# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: reactor_plan
short_description: Which deployments a reactor run has to work on, and the outcome of the others
version_added: 0.1.0
description:
  - The reactor's plan for one run (docs/reactor.md), from the chain's view of each deployment and
    the type roles' surveys of the cloud. Only deployments that need work get per-host work -
    awarded ones, terminating ones, running ones whose resources vanished, and finished (failed
    or terminated) ones that left resources. Every other deployment gets its outcome here.
  - A deployment whose type role made no survey, or whose survey failed, is left to per-host
    work (running, finished) exactly as without a survey; a failed survey never makes a running
    deployment look vanished.
  - Pure; used by the P(dinfra.chain.reactor#role) role.
positional: hostvars, types, surveys, sweep_finished
options:
  _input:
    description: The inventory hosts to plan for (deployment hosts of M(dinfra.chain.deployments)).
    type: list
    elements: str
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  types:
    description: The reactor's C(reactor_types).
    type: dict
    required: true
  surveys:
    description:
      - Per type role (C(role:tasks_from)), C(ok) (bool), C(reason) when not, and C(deployments), which maps
        each deployment id (as text) to C(present), C(detail) and C(resources), as the role answered.
    type: dict
    required: true
  sweep_finished:
    description: The reactor's C(reactor_sweep_finished).
    type: bool
    required: true
"""

EXAMPLES = r"""
- name: Plan the run
  ansible.builtin.set_fact:
    reactor_plan: "{{ hosts | dinfra.chain.reactor_plan(hostvars, reactor_types, reactor_surveys, reactor_sweep_finished) }}"
"""

RETURN = r"""
_value:
  description: C(work), the hosts that need per-host work, and C(records), the outcome of every other host.
  type: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

FINISHED = ("failed", "terminated")


def survey_key(type_role):
    """How a type role's survey is filed: role and entry point."""
    return "%s:%s" % (type_role.get("role"), type_role.get("tasks_from") or "main")


def plan_one(state, type_role, survey, deployment_id, sweep_finished):
    """(needs work, outcome, detail) of one deployment."""
    if state in ("awarded", "terminating") and (type_role or state == "awarded"):
        return True, None, None
    if not type_role:
        if state == "running":
            return False, "retrying", "running, but no role is mapped for its type: not checked"
        if state == "terminating":
            return False, "retrying", "terminating, but no role is mapped for its type: nothing torn down"
        return False, "unchanged", ""
    if state in FINISHED and not sweep_finished:
        return False, "unchanged", ""
    if survey is None or not survey.get("ok"):
        # Without a survey, ask per host, as a reactor without surveys does.
        return True, None, None
    found = (survey.get("deployments") or {}).get(str(deployment_id))
    if state == "running":
        if isinstance(found, Mapping) and found.get("present") is True:
            return False, "unchanged", ""
        return True, None, None
    # Failed or terminated: work only when something is left.
    if isinstance(found, Mapping) and found.get("resources"):
        return True, None, None
    return False, "unchanged", ""


def reactor_plan(hosts, hostvars, types, surveys, sweep_finished):
    if not isinstance(types, Mapping) or not isinstance(surveys, Mapping):
        raise AnsibleFilterError("dinfra.chain.reactor_plan: types and surveys must be mappings")
    work, records = [], {}
    for host in hosts:
        variables = hostvars[host]
        state = variables.get("dinfra_state")
        type_name = variables.get("dinfra_type_name")
        deployment_id = int(variables.get("dinfra_deployment_id"))
        type_role = types.get(type_name) if type_name else None
        if type_role is not None and not isinstance(type_role, Mapping):
            raise AnsibleFilterError("dinfra.chain.reactor_plan: reactor_types[%s] must be a mapping" % type_name)
        survey = surveys.get(survey_key(type_role)) if type_role else None
        needs_work, outcome, detail = plan_one(state, type_role, survey, deployment_id, bool(sweep_finished))
        if needs_work:
            work.append(str(host))
        else:
            records[str(host)] = {"id": deployment_id, "state": state, "type": type_name, "outcome": outcome,
                                  "detail": detail}
    return {"work": work, "records": records}


class FilterModule:
    """dinfra.chain.reactor_plan."""

    def filters(self):
        return {"reactor_plan": reactor_plan}
