#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: deployment_info
short_description: Read DINFRA deployments from the chain
version_added: 0.1.0
description:
  - Reads one deployment by id, or every deployment of a provider or a consumer, from
    (by default finalised) chain state.
  - A deployment that does not exist is an empty list; a failure to read the chain is a
    module failure with RV(ignore:failure=unavailable), never an empty list.
extends_documentation_fragment:
  - dinfra.chain.attributes
  - dinfra.chain.attributes.read_only
  - dinfra.chain.attributes.controller
  - dinfra.chain.connection
  - dinfra.chain.connection.modules
attributes:
  diff_mode:
    support: none
    description: Changes nothing.
options:
  id:
    description: The deployment to read.
    type: int
  provider:
    description: Read every deployment assigned to this provider (SS58 address).
    type: str
  consumer:
    description: Read every deployment subscribed by this consumer (SS58 address).
    type: str
  states:
    description: Only deployments in these states.
    type: list
    elements: str
    choices: [awarded, running, terminating, terminated, failed]
  max_deployments:
    description: Most deployments to read; more is a failure rather than a truncated list.
    type: int
    default: 100000
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: Where is my deployment?
  dinfra.chain.deployment_info:
    id: 42
  register: found

- name: Everything my provider runs
  dinfra.chain.deployment_info:
    provider: 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty
    states: [running]
"""

RETURN = r"""
deployments:
  description: The deployments found, by ascending id.
  returned: success
  type: list
  elements: dict
  contains:
    id: {description: Deployment id., type: int}
    consumer: {description: Consumer account (SS58)., type: str}
    provider: {description: Provider account (SS58)., type: str}
    type_id: {description: Deployment type id., type: int}
    type_name: {description: Deployment type name., type: str}
    descriptor_cid: {description: CID of the descriptor on IPFS., type: str}
    price_per_block: {description: "Price per block, fixed at award time (plancks).", type: int}
    deposit_remaining: {description: What is still held from the consumer., type: int}
    paid: {description: What the provider has been paid so far., type: int}
    runs_out_at: {description: Block at which the deposit runs out; null unless running., type: int}
    state: {description: "awarded, running, terminating, terminated or failed.", type: str}
    state_reason: {description: "Why it is terminating, terminated or failed.", type: str}
    access_info: {description: "How to reach it, as reported by the provider. Untrusted text.", type: str}
    awarded_at: {description: Block it was awarded at., type: int}
block_number:
  description: The block the deployments were read at.
  returned: success
  type: int
block_hash:
  description: Hash of that block.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils.ansible_chain import AnsibleChain, chain_argument_spec
from ..module_utils.deployments import STATES, account_deployments, records


def read(chain):
    params = chain.module.params
    block_hash, block_number = chain.client.head()
    if params["id"] is not None:
        found = [r for r in records(chain.client, [params["id"]], block_hash).values() if r is not None]
    else:
        role = "provider" if params["provider"] else "consumer"
        found = account_deployments(chain.client, role, params[role], block_hash, params["max_deployments"])
    if params["states"]:
        found = [r for r in found if r["state"] in params["states"]]
    return dict(changed=False, deployments=found, block_number=block_number, block_hash=block_hash)


def module_args():
    argument_spec = chain_argument_spec()
    argument_spec.update(
        id=dict(type="int"),
        provider=dict(type="str"),
        consumer=dict(type="str"),
        states=dict(type="list", elements="str", choices=list(STATES)),
        max_deployments=dict(type="int", default=100000),
    )
    return dict(
        argument_spec=argument_spec,
        required_one_of=[("id", "provider", "consumer")],
        mutually_exclusive=[("id", "provider", "consumer")],
        supports_check_mode=True,
    )


def run(module):
    AnsibleChain(module).run(read)


def main():
    # Runs in the controller through its action plugin (plugin_utils/in_controller.py).
    run(AnsibleModule(**module_args()))


if __name__ == "__main__":
    main()
