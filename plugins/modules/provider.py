#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: provider
short_description: Register, update or deregister a DINFRA provider, its offers and its consumer policy
version_added: 0.1.0
description:
  - Makes the provider account of O(signer_secret) match what the task says, whether
    registered or not, its name, status, offers (deployment type, capacity, price per block) and consumer
    policy with its allow-list.
  - Reads the provider first and submits only the calls that change something, in order;
    a second run changes nothing.
  - Registering holds the provider deposit; deregistering releases it and is refused by the
    chain while the provider has live deployments.
extends_documentation_fragment:
  - dinfra.chain.attributes
  - dinfra.chain.attributes.controller
  - dinfra.chain.connection
  - dinfra.chain.connection.modules
attributes:
  check_mode:
    support: full
    description: Returns the calls it would make in RV(calls), without signing.
  diff_mode:
    support: full
    description: Shows the provider before and after.
options:
  state:
    description: Whether the signer is a registered provider.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: Provider name shown to consumers (UTF-8, at most 64 bytes). Needed to register.
    type: str
  status:
    description: C(paused) keeps live deployments but takes no new ones.
    type: str
    choices: [active, paused]
  consumer_policy:
    description: Accept any consumer, or only those in O(allowed_consumers).
    type: str
    choices: [accept_all, allow_list_only]
  allowed_consumers:
    description: The exact allow-list (SS58 addresses); consumers not listed are removed.
    type: list
    elements: str
  offers:
    description: Offers to make or update.
    type: list
    elements: dict
    suboptions:
      type:
        description: Deployment type name.
        type: str
        required: true
      capacity:
        description: How many live deployments of this type the provider takes.
        type: int
        required: true
      price_per_block:
        description: Price per block, in the chain's smallest unit; more than zero.
        type: int
        required: true
  purge_offers:
    description: Remove offers for types not in O(offers). The chain refuses while deployments of that type are live.
    type: bool
    default: false
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: Our provider, serving CloudStack VMs and Substrate nodes
  dinfra.chain.provider:
    name: Example Cloud
    status: active
    offers:
      - {type: cloudstack-vm, capacity: 20, price_per_block: 1000000000}
      - {type: substrate-node, capacity: 5, price_per_block: 5000000000}

- name: Only our partners
  dinfra.chain.provider:
    consumer_policy: allow_list_only
    allowed_consumers: ["5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"]
"""

RETURN = r"""
provider:
  description: The provider after the change (before it, in check mode); null when not registered.
  returned: success
  type: dict
calls:
  description: The extrinsics made (or, in check mode, that would be made), in order.
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils.ansible_chain import AnsibleChain, chain_argument_spec
from ..module_utils.chain import PROVIDERS
from ..module_utils.providers import read_provider as read_provider_at

STATUS = {"active": "Active", "paused": "Paused"}
POLICY = {"accept_all": "AcceptAll", "allow_list_only": "AllowListOnly"}


def read_provider(chain, address):
    """The provider at the head as plain data, or None when not registered."""
    return read_provider_at(chain.client, address, chain.client.head()[0])


def plan(chain, current):
    """The calls that make the provider match the task, in a safe order."""
    params, module = chain.module.params, chain.module
    if params["state"] == "absent":
        return [("deregister_provider", {})] if current else []
    calls = []
    if current is None:
        if not params["name"]:
            module.fail_json(msg="to register a provider, set name", failure="configuration")
        calls.append(("register_provider", {"name": params["name"]}))
        current = dict(name=params["name"], status="Active", consumer_policy="AcceptAll", offers={}, allowed_consumers=[])
    elif params["name"] is not None and params["name"] != current["name"]:
        calls.append(("set_provider_name", {"name": params["name"]}))
    if params["status"] and STATUS[params["status"]] != current["status"]:
        calls.append(("set_provider_status", {"status": STATUS[params["status"]]}))
    if params["allowed_consumers"] is not None:
        wanted = set(params["allowed_consumers"])
        have = set(current["allowed_consumers"])
        calls += [("disallow_consumer", {"consumer": c}) for c in sorted(have - wanted)]
        calls += [("allow_consumer", {"consumer": c}) for c in sorted(wanted - have)]
    if params["consumer_policy"] and POLICY[params["consumer_policy"]] != current["consumer_policy"]:
        calls.append(("set_consumer_policy", {"policy": POLICY[params["consumer_policy"]]}))
    if params["offers"] is not None:
        block_hash = chain.client.head()[0]
        wanted = {}
        for offer in params["offers"]:
            type_id = chain.client.query(PROVIDERS, "DeploymentTypeIdByName", [offer["type"]], block_hash)
            if type_id is None:
                module.fail_json(msg=f"no deployment type is named {offer['type']!r}", failure="not_found")
            if offer["price_per_block"] <= 0 or offer["capacity"] < 0:
                module.fail_json(msg=f"offer for {offer['type']!r}: price must be positive and capacity not negative")
            wanted[type_id] = offer
        for type_id, offer in sorted(wanted.items()):
            have = current["offers"].get(type_id)
            if have is None or (have["capacity"], have["price_per_block"]) != (offer["capacity"], offer["price_per_block"]):
                calls.append(("set_offer", {"type_id": type_id, "capacity": offer["capacity"],
                                            "price_per_block": offer["price_per_block"]}))
        if params["purge_offers"]:
            calls += [("remove_offer", {"type_id": t}) for t in sorted(set(current["offers"]) - set(wanted))]
    return calls


def ensure(chain):
    module = chain.module
    signer = chain.signer()
    before = read_provider(chain, signer.ss58_address)
    calls = plan(chain, before)
    listed = [{"call": call, "args": args} for call, args in calls]
    if not calls:
        return dict(changed=False, provider=before, calls=[])
    if module.check_mode:
        return dict(changed=True, provider=before, calls=listed)
    for call, args in calls:
        chain.client.submit(signer, PROVIDERS, call, args)
    after = read_provider(chain, signer.ss58_address)
    return dict(changed=True, provider=after, calls=listed, diff=dict(before=before or {}, after=after or {}))


def module_args():
    argument_spec = chain_argument_spec()
    argument_spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        name=dict(type="str"),
        status=dict(type="str", choices=list(STATUS)),
        consumer_policy=dict(type="str", choices=list(POLICY)),
        allowed_consumers=dict(type="list", elements="str"),
        offers=dict(
            type="list",
            elements="dict",
            options=dict(
                type=dict(type="str", required=True),
                capacity=dict(type="int", required=True),
                price_per_block=dict(type="int", required=True),
            ),
        ),
        purge_offers=dict(type="bool", default=False),
    )
    return dict(argument_spec=argument_spec, supports_check_mode=True)


def run(module):
    AnsibleChain(module).run(ensure)


def main():
    # Runs in the controller through its action plugin (plugin_utils/in_controller.py).
    run(AnsibleModule(**module_args()))


if __name__ == "__main__":
    main()
