#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: subscription
short_description: Subscribe to a DINFRA deployment, top it up, or cancel it (consumer side)
version_added: 0.1.0
description:
  - Subscribes a deployment of a type with a descriptor (by IPFS CID) and a deposit, signed
    by the consumer's O(signer_secret). The chain awards it to a provider.
  - Idempotent. The subscription is the consumer's live (awarded or running) deployment of
    the same type and descriptor, or the one named by O(id); when it exists nothing is
    subscribed again.
  - O(min_deposit_remaining) tops the deposit up to at least that amount, so that running
    the task twice adds nothing the second time.
  - O(state=absent) cancels the subscription; a deployment that is already terminating or
    ended is left as it is.
extends_documentation_fragment:
  - dinfra.chain.attributes
  - dinfra.chain.attributes.controller
  - dinfra.chain.connection
  - dinfra.chain.connection.modules
attributes:
  check_mode:
    support: full
    description: Reads the chain and reports what would change, without signing.
  diff_mode:
    support: full
    description: Shows state and remaining deposit before and after.
options:
  state:
    description: Whether the subscription should be live (C(present)) or cancelled (C(absent)).
    type: str
    choices: [present, absent]
    default: present
  id:
    description: An existing deployment to top up or cancel.
    type: int
  type:
    description: Deployment type name. Needed to subscribe unless O(type_id) is given.
    type: str
  type_id:
    description: Deployment type id.
    type: int
  descriptor_cid:
    description: CID of the deployment descriptor on IPFS.
    type: str
  deposit:
    description: Deposit held when subscribing, in the chain's smallest unit.
    type: int
  min_deposit_remaining:
    description: Top the deposit up so that at least this much remains held.
    type: int
  strategy:
    description: How the chain picks a provider when O(provider) is not set.
    type: str
    choices: [round_robin, random, capacity_based]
    default: round_robin
  provider:
    description: The provider to ask for (SS58 address); it must be eligible.
    type: str
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: Subscribe a Substrate node
  dinfra.chain.subscription:
    type: substrate-node
    descriptor_cid: "{{ published.cid }}"
    deposit: "{{ 100 * 10**12 }}"
  register: sub

- name: Keep at least 50 units in it
  dinfra.chain.subscription:
    id: "{{ sub.id }}"
    min_deposit_remaining: "{{ 50 * 10**12 }}"

- name: Cancel it
  dinfra.chain.subscription:
    id: "{{ sub.id }}"
    state: absent
"""

RETURN = r"""
id:
  description: The deployment id; unset in check mode when it would be subscribed.
  returned: success
  type: int
deployment:
  description: The deployment as the chain holds it after the change (see M(dinfra.chain.deployment_info)).
  returned: when there is one
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils.ansible_chain import AnsibleChain, chain_argument_spec
from ..module_utils.chain import PROVIDERS, SUBSCRIPTIONS, event_attributes
from ..module_utils.deployments import account_deployments, records

STRATEGIES = {"round_robin": "RoundRobin", "random": "Random", "capacity_based": "CapacityBased"}
LIVE = ("awarded", "running")


def type_id_of(chain, block_hash):
    params = chain.module.params
    if params["type_id"] is not None:
        return params["type_id"]
    if params["type"] is None:
        return None
    type_id = chain.client.query(PROVIDERS, "DeploymentTypeIdByName", [params["type"]], block_hash)
    if type_id is None:
        chain.module.fail_json(msg=f"no deployment type is named {params['type']!r}", failure="not_found")
    return type_id


def current(chain, consumer, block_hash, type_id):
    """The subscription this task is about, or None."""
    params = chain.module.params
    if params["id"] is not None:
        found = records(chain.client, [params["id"]], block_hash)[params["id"]]
        if found is None:
            chain.module.fail_json(msg=f"deployment {params['id']} does not exist", failure="not_found")
        if found["consumer"] != consumer:
            chain.module.fail_json(msg=f"deployment {params['id']} belongs to another consumer", failure="not_the_consumer")
        return found
    for d in account_deployments(chain.client, "consumer", consumer, block_hash, 100000):
        if d["state"] in LIVE and d["descriptor_cid"] == params["descriptor_cid"] and d["type_id"] == type_id:
            return d
    return None


def ensure(chain):
    params, module = chain.module.params, chain.module
    signer = chain.signer()
    block_hash = chain.client.head()[0]
    type_id = None if params["id"] is not None else type_id_of(chain, block_hash)
    found = current(chain, signer.ss58_address, block_hash, type_id)
    before = {k: found[k] for k in ("state", "deposit_remaining")} if found else {}

    if params["state"] == "absent":
        if found is None or found["state"] not in LIVE:
            return dict(changed=False, id=found and found["id"], deployment=found)
        if module.check_mode:
            return dict(changed=True, id=found["id"], deployment=found, diff=dict(before=before, after=dict(before, state="terminating")))
        chain.client.submit(signer, SUBSCRIPTIONS, "cancel", {"id": found["id"]})
        return reread(chain, found["id"], before)

    changed, deployment_id = False, found and found["id"]
    if found is None:
        missing = [n for n, v in (("type or type_id", type_id), ("descriptor_cid", params["descriptor_cid"]), ("deposit", params["deposit"])) if v is None]
        if missing:
            module.fail_json(msg=f"to subscribe, set {', '.join(missing)}", failure="configuration")
        if module.check_mode:
            return dict(changed=True, id=None, diff=dict(before={}, after=dict(state="awarded", deposit_remaining=params["deposit"])))
        result = chain.client.submit(signer, SUBSCRIPTIONS, "subscribe", {
            "type_id": type_id,
            "descriptor_cid": params["descriptor_cid"],
            "deposit": params["deposit"],
            "strategy": STRATEGIES[params["strategy"]],
            "provider": params["provider"],
        })
        deployment_id, changed = event_attributes(result, SUBSCRIPTIONS, "DeploymentAwarded")["id"], True
        head = chain.client.head()[0]
        found = records(chain.client, [deployment_id], head)[deployment_id]

    wanted = params["min_deposit_remaining"]
    if wanted is not None and found["deposit_remaining"] < wanted:
        if found["state"] not in LIVE:
            module.fail_json(msg=f"deployment {deployment_id} is {found['state']}; it cannot be topped up", failure="not_live")
        if module.check_mode:
            return dict(changed=True, id=deployment_id, deployment=found,
                        diff=dict(before=before, after=dict(before, deposit_remaining=wanted)))
        chain.client.submit(signer, SUBSCRIPTIONS, "top_up", {"id": deployment_id, "amount": wanted - found["deposit_remaining"]})
        changed = True
    if not changed:
        return dict(changed=False, id=deployment_id, deployment=found)
    return reread(chain, deployment_id, before)


def reread(chain, deployment_id, before):
    head = chain.client.head()[0]
    now = records(chain.client, [deployment_id], head)[deployment_id]
    return dict(changed=True, id=deployment_id, deployment=now,
                diff=dict(before=before, after={k: now[k] for k in ("state", "deposit_remaining")}))


def module_args():
    argument_spec = chain_argument_spec()
    argument_spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        id=dict(type="int"),
        type=dict(type="str"),
        type_id=dict(type="int"),
        descriptor_cid=dict(type="str"),
        deposit=dict(type="int"),
        min_deposit_remaining=dict(type="int"),
        strategy=dict(type="str", default="round_robin", choices=list(STRATEGIES)),
        provider=dict(type="str"),
    )
    return dict(
        argument_spec=argument_spec,
        mutually_exclusive=[("type", "type_id"), ("id", "type"), ("id", "type_id")],
        required_one_of=[("id", "descriptor_cid")],
        supports_check_mode=True,
    )


def run(module):
    for name in ("deposit", "min_deposit_remaining"):
        if module.params[name] is not None and module.params[name] <= 0:
            module.fail_json(msg=f"{name} must be positive")
    AnsibleChain(module).run(ensure)


def main():
    # Runs in the controller through its action plugin (plugin_utils/in_controller.py).
    run(AnsibleModule(**module_args()))


if __name__ == "__main__":
    main()
