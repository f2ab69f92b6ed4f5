# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: cloudstack_vm_plan
short_description: What a cloudstack-vm or substrate-node descriptor becomes in a provider's CloudStack
version_added: 0.1.0
description:
  - Maps a validated descriptor to the provider's CloudStack objects, explicitly. The service offering
    is the one the descriptor names, or the first of O(settings.service_offerings) with at least the
    CPUs and memory it asks for; the template is looked up in O(settings.templates). Anything else fails
    with a message naming what is offered, fit to be reported on chain as the failure reason.
  - Builds the cloud-init user data (the consumer's ed25519 keys as OpenSSH keys in
    C(ssh_authorized_keys), the substrate-node service, the consumer's own cloud-config merged last
    without being parsed) and checks it against the cloud's user data limit.
  - Used by the P(dinfra.chain.cloudstack_vm#role) role; pure, makes no cloud calls.
positional: deployment_id, settings
options:
  _input:
    description: The descriptor, validated against its type's schema.
    type: dict
    required: true
  deployment_id:
    description: The deployment, named in the SSH key comments.
    type: int
    required: true
  settings:
    description:
      - The provider's mapping, keys C(service_offerings) (list of C(name), C(cpu), C(memory_mb)),
        C(templates) (descriptor name to cloud name), C(cloud_init) (C(extra), C(release_url),
        C(ipfs_gateway), C(data_device)), C(user_data_max) and C(data_disk_offering).
    type: dict
    required: true
  address:
    description: The public address; with it the result has C(access_info) for the chain.
    type: str
  refusal:
    description:
      - What a descriptor this cloud cannot serve gives. C(fail) fails the filter with the reason;
        C(answer) returns C({refused, <reason>}) instead of a plan, so that a role can answer with
        the reason as data.
    type: str
    choices: [fail, answer]
    default: fail
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: Plan deployment 7
  ansible.builtin.set_fact:
    plan: >-
      {{ descriptor | dinfra.chain.cloudstack_vm_plan(7, {
           'service_offerings': [{'name': 'Small Instance', 'cpu': 1, 'memory_mb': 512}],
           'templates': {'debian-12': 'Debian 12 (64-bit)'}}) }}
"""

RETURN = r"""
_value:
  description:
    - C(host_name), C(service_offering), C(template), C(root_disk_gb), C(data_disk_gb),
      C(data_disk_offering), C(ports) (list of C(port) and C(protocol)), C(ssh_user), C(authorized_keys),
      C(user_data), and with O(address) C(access_info) (compact JSON, at most 256 bytes).
    - With O(refusal=answer), C(refused) (the reason) alone when the descriptor cannot be served.
  type: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ..module_utils.cloudstack_plan import PlanError, plan


def plain(value):
    """Ansible's own str/dict/list types (tagged, or marked unsafe) as the plain Python values
    the YAML writer and JSON Schema work with. Unsafe stays unsafe in effect: nothing here is
    ever templated."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    raise AnsibleFilterError("dinfra.chain.cloudstack_vm_plan: unexpected %s in the input" % type(value).__name__)


def cloudstack_vm_plan(descriptor, deployment_id, settings, address=None, refusal="fail"):
    if not isinstance(descriptor, Mapping) or not isinstance(settings, Mapping):
        raise AnsibleFilterError("dinfra.chain.cloudstack_vm_plan: the descriptor and the settings must be mappings")
    if refusal not in ("fail", "answer"):
        raise AnsibleFilterError("dinfra.chain.cloudstack_vm_plan: refusal must be fail or answer")
    try:
        return plan(plain(descriptor), int(deployment_id), plain(settings), address=plain(address))
    except PlanError as exc:
        if refusal == "answer":
            return {"refused": str(exc)}
        raise AnsibleFilterError("dinfra.chain.cloudstack_vm_plan: %s" % exc) from None
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError("dinfra.chain.cloudstack_vm_plan: the descriptor is not a valid cloudstack-vm or "
                                 "substrate-node descriptor (missing or wrong %s); validate it first" % exc) from None


class FilterModule:
    """dinfra.chain.cloudstack_vm_plan."""

    def filters(self):
        return {"cloudstack_vm_plan": cloudstack_vm_plan}
