#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: deployment_type
short_description: Register a DINFRA deployment type, or find one by name
version_added: 0.1.0
description:
  - A deployment type names the JSON Schema (by IPFS CID) that descriptors of that type
    follow. Registering holds a deposit from the signer.
  - Types are immutable. If O(name) is registered with another schema CID, the module fails
    rather than pretend; register a new name (for example with a version suffix).
  - Without O(schema_cid), only finds the type; a name that is not registered is a failure.
extends_documentation_fragment:
  - dinfra.chain.attributes
  - dinfra.chain.attributes.controller
  - dinfra.chain.connection
  - dinfra.chain.connection.modules
attributes:
  check_mode:
    support: full
    description: Reads the chain and reports whether it would register.
  diff_mode:
    support: none
    description: A registration has nothing to compare.
options:
  name:
    description: Unique type name, lower-case C([a-z0-9._-]), at most 64 bytes.
    type: str
    required: true
  schema_cid:
    description: CID of the type's JSON Schema on IPFS. Needed to register.
    type: str
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: Our in-house GPU type
  dinfra.chain.deployment_type:
    name: gpu-box
    schema_cid: "{{ published.cid }}"
  register: gpu_type

- name: Find the CloudStack VM type
  dinfra.chain.deployment_type:
    name: cloudstack-vm
  register: vm_type
"""

RETURN = r"""
type_id:
  description: The type's id; unset in check mode when it would be registered.
  returned: success
  type: int
name:
  description: The type's name.
  returned: success
  type: str
schema_cid:
  description: CID of its schema.
  returned: success
  type: str
owner:
  description: Account that registered it.
  returned: success
  type: str
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ..module_utils.ansible_chain import AnsibleChain, chain_argument_spec
from ..module_utils.chain import PROVIDERS, event_attributes
from ..module_utils.deployments import find_deployment_type


def ensure(chain):
    params, module = chain.module.params, chain.module
    block_hash = chain.client.head()[0]
    existing = find_deployment_type(chain.client, params["name"], block_hash)
    if existing is not None:
        if params["schema_cid"] not in (None, existing["schema_cid"]):
            module.fail_json(
                msg=f"deployment type {params['name']!r} is registered with schema {existing['schema_cid']}; "
                "types are immutable, so register the new schema under a new name",
                failure="conflict",
                **existing,
            )
        return dict(changed=False, **existing)
    if params["schema_cid"] is None:
        module.fail_json(msg=f"no deployment type is named {params['name']!r}", failure="not_found")
    if module.check_mode:
        return dict(changed=True, type_id=None, name=params["name"], schema_cid=params["schema_cid"],
                    owner=chain.signer().ss58_address)
    result = chain.client.submit(
        chain.signer(), PROVIDERS, "register_deployment_type", {"name": params["name"], "schema_cid": params["schema_cid"]}
    )
    registered = event_attributes(result, PROVIDERS, "DeploymentTypeRegistered")
    return dict(changed=True, type_id=registered["type_id"], name=registered["name"],
                schema_cid=registered["schema_cid"], owner=registered["owner"], block_hash=result["block_hash"])


def module_args():
    argument_spec = chain_argument_spec()
    argument_spec.update(name=dict(type="str", required=True), schema_cid=dict(type="str"))
    return dict(argument_spec=argument_spec, supports_check_mode=True)


def run(module):
    if not re.fullmatch(r"[a-z0-9._-]{1,64}", module.params["name"]):
        module.fail_json(msg="name must be 1 to 64 characters of [a-z0-9._-]")
    AnsibleChain(module).run(ensure)


def main():
    # Runs in the controller through its action plugin (plugin_utils/in_controller.py).
    run(AnsibleModule(**module_args()))


if __name__ == "__main__":
    main()
