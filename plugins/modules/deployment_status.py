#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: deployment_status
short_description: Report a DINFRA deployment deployed, failed or terminated (provider side)
version_added: 0.1.0
description:
  - The provider's report on a deployment awarded to it, signed with O(signer_secret).
  - C(deployed) starts billing (or, on a running deployment, replaces its access info);
    C(failed) refunds the consumer; C(terminated) settles after teardown.
  - Idempotent. The deployment is read first; reporting the state it is already in changes
    nothing, and so does C(terminated) for a deployment the chain already terminated.
extends_documentation_fragment:
  - dinfra.chain.attributes
  - dinfra.chain.attributes.controller
  - dinfra.chain.connection
  - dinfra.chain.connection.modules
attributes:
  check_mode:
    support: full
    description: Reads the deployment and reports what would change, without signing.
  diff_mode:
    support: full
    description: Shows the deployment's state and access info before and after.
options:
  id:
    description: The deployment.
    type: int
    required: true
  state:
    description: What to report.
    type: str
    required: true
    choices: [deployed, failed, terminated]
  access_info:
    description:
      - With O(state=deployed), how the consumer reaches the deployment (addresses,
        ports). Public on chain. At most 256 bytes.
    type: str
    default: ""
  reason:
    description: With O(state=failed), why, in words the consumer can act on. At most 256 bytes.
    type: str
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: Tell the chain the machine is up
  dinfra.chain.deployment_status:
    id: "{{ dinfra_deployment_id }}"
    state: deployed
    access_info: "{{ vm_ip }} ssh:22"

- name: Refuse a descriptor that cannot be served
  dinfra.chain.deployment_status:
    id: "{{ dinfra_deployment_id }}"
    state: failed
    reason: "no template named {{ descriptor.template }} in this cloud"
"""

RETURN = r"""
deployment:
  description: The deployment after the report (before it, in check mode).
  returned: success
  type: dict
  contains:
    id: {description: Deployment id., type: int}
    state: {description: Its state., type: str}
    access_info: {description: Its access info., type: str}
block_hash:
  description: Block the report was included in; absent when nothing was submitted.
  returned: changed and not check mode
  type: str
events:
  description: The events the report emitted.
  returned: changed and not check mode
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils.ansible_chain import AnsibleChain, chain_argument_spec
from ..module_utils.reports import MAX_ACCESS_INFO, MAX_REASON, REPORTS, ReportRefused, current_for, needs_report, submit


def report(chain):
    params, module = chain.module.params, chain.module
    signer = chain.signer()
    try:
        current = current_for(chain.client, params["id"], signer.ss58_address, chain.client.head()[0])
    except ReportRefused as exc:
        module.fail_json(msg=str(exc), failure=exc.kind)
    if not needs_report(current, params["state"], params["access_info"]):
        return dict(changed=False, deployment=current)
    after = dict(current, state=REPORTS[params["state"]][0])
    if params["state"] == "deployed":
        after["access_info"] = params["access_info"]
    diff = dict(
        before={k: current[k] for k in ("state", "access_info")},
        after={k: after[k] for k in ("state", "access_info")},
    )
    if module.check_mode:
        return dict(changed=True, deployment=current, diff=diff)
    result = submit(chain.client, signer, current, params["state"], params["access_info"], params["reason"])
    return dict(result, diff=diff) if result["changed"] else result


def module_args():
    argument_spec = chain_argument_spec()
    argument_spec.update(
        id=dict(type="int", required=True),
        state=dict(type="str", required=True, choices=list(REPORTS)),
        access_info=dict(type="str", default=""),
        reason=dict(type="str"),
    )
    return dict(argument_spec=argument_spec, required_if=[("state", "failed", ("reason",))], supports_check_mode=True)


def run(module):
    for name, limit in (("access_info", MAX_ACCESS_INFO), ("reason", MAX_REASON)):
        value = module.params[name]
        if value is not None and len(value.encode("utf-8")) > limit:
            module.fail_json(msg=f"{name} is {len(value.encode('utf-8'))} bytes; the chain takes at most {limit}")
    AnsibleChain(module).run(report)


def main():
    # Runs in the controller through its action plugin (plugin_utils/in_controller.py).
    run(AnsibleModule(**module_args()))


if __name__ == "__main__":
    main()
