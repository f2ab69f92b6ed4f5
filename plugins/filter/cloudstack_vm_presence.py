# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: cloudstack_vm_presence
short_description: Whether a cloudstack-vm deployment's resources are all there
version_added: 0.1.0
description:
  - From one deployment's entry in the RV(dinfra.chain.cloudstack_deployment_info#module:deployments)
    of M(dinfra.chain.cloudstack_deployment_info), says whether the deployment is whole (a running
    VM, its network and its public IP address), what is missing, and whether anything is left at all.
  - Used by the P(dinfra.chain.cloudstack_vm#role) role to answer the reactor's C(verify) and
    C(survey); pure, makes no cloud calls.
options:
  _input:
    description: The deployment's resources, C(virtual_machines), C(networks) and C(public_ips); missing kinds count as none.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Is deployment 7 whole?
  ansible.builtin.debug:
    msg: "{{ found.deployments['7'] | default({}) | dinfra.chain.cloudstack_vm_presence }}"
"""

RETURN = r"""
_value:
  description: C(present) (bool), C(detail) (what is missing, empty when present) and C(resources) (bool, anything left).
  type: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def cloudstack_vm_presence(resources):
    if not isinstance(resources, Mapping):
        raise AnsibleFilterError("dinfra.chain.cloudstack_vm_presence: expects one deployment's resources (a mapping)")
    vms = list(resources.get("virtual_machines") or [])
    networks = list(resources.get("networks") or [])
    addresses = list(resources.get("public_ips") or [])
    missing = []
    if not any(isinstance(vm, Mapping) and vm.get("state") == "Running" for vm in vms):
        missing.append("a running VM")
    if not networks:
        missing.append("its network")
    if not addresses:
        missing.append("its public IP")
    return {
        "present": not missing,
        "detail": ("no " + ", no ".join(missing)) if missing else "",
        "resources": bool(vms or networks or addresses),
    }


class FilterModule:
    """dinfra.chain.cloudstack_vm_presence."""

    def filters(self):
        return {"cloudstack_vm_presence": cloudstack_vm_presence}
