#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudstack_deployment_info
short_description: Find the CloudStack resources of DINFRA deployments by their tags
version_added: 0.1.0
description:
  - Lists the virtual machines, isolated networks and public IP addresses that the
    P(dinfra.chain.cloudstack_vm#role) role tagged for one deployment, or for every deployment
    of a chain. This is how a re-run after a crash finds what an earlier run made, how
    teardown finds everything to remove, and how a provider lists orphans.
  - Every resource the role makes carries the tag C(dinfra-deployment=<chain>:<id>), and VMs
    and networks also C(dinfra-chain=<chain>); RV(tags) and RV(deployment_tag) give them, so
    that the role and this module never disagree on them.
  - A failure to reach or query the cloud fails the module. It is never reported as "no
    resources", because a reactor that believes a machine is gone would deploy it twice.
extends_documentation_fragment:
  - dinfra.chain.attributes
  - dinfra.chain.attributes.read_only
  - ngine_io.cloudstack.cloudstack
attributes:
  diff_mode:
    support: none
    description: Changes nothing.
options:
  chain:
    description:
      - The chain label the resources were tagged with (the reactor's C(dinfra_chain_label)).
    type: str
    required: true
  deployment_id:
    description:
      - One deployment. Without it, every deployment's resources; see RV(deployments).
    type: int
  name:
    description:
      - With O(deployment_id), the name the deployment's VM and network were given. Those with
        this name are found even without tags, because CloudStack tags a resource only after
        creating it; a crash or a failed deploy job in between leaves it untagged.
      - The public IP addresses of the deployment's networks are found the same way, tagged or
        not (the source NAT address excepted), because a crash between acquiring an address and
        tagging it must not lead to a second address.
    type: str
  zone:
    description: Only resources in this zone (name). All zones when absent.
    type: str
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: What does deployment 7 have in the cloud?
  dinfra.chain.cloudstack_deployment_info:
    chain: dev
    deployment_id: 7
  register: found

- name: Every deployment with resources in the cloud (orphans are those not on chain)
  dinfra.chain.cloudstack_deployment_info:
    chain: dev
  register: tagged
"""

RETURN = r"""
tags:
  description: The tags that mark the deployment's resources (with O(deployment_id)).
  returned: when O(deployment_id) is given
  type: list
  elements: dict
  sample: [{key: dinfra-chain, value: dev}, {key: dinfra-deployment, value: "dev:7"}]
deployment_tag:
  description:
    - The one tag that identifies the deployment. Public IP addresses carry only this one,
      because ngine_io.cloudstack's cs_ip_address cannot match more than one tag.
  returned: when O(deployment_id) is given
  type: dict
  sample: {key: dinfra-deployment, value: "dev:7"}
virtual_machines:
  description: Tagged virtual machines, destroyed ones included (they still hold an address).
  returned: always
  type: list
  elements: dict
  sample: [{id: 5b1c9f4e, name: dinfra-dev-7, state: Running, deployment_id: 7, ip_address: 10.1.1.2}]
networks:
  description: Tagged networks.
  returned: always
  type: list
  elements: dict
  sample: [{id: 0a3e2c11, name: dinfra-dev-7, state: Implemented, deployment_id: 7}]
public_ips:
  description:
    - Tagged public IP addresses (never a network's source NAT address) and, with O(name), every
      address of the deployment's networks, tagged or not.
  returned: always
  type: list
  elements: dict
  sample: [{id: 9d2f0b7a, ip_address: 192.168.2.3, network_id: 0a3e2c11, deployment_id: 7}]
deployments:
  description:
    - The same resources grouped by deployment, keyed by the deployment id as a string.
    - Without O(deployment_id), this is the reactor's survey of a whole chain, made in a fixed
      number of paged listings however many deployments there are (docs/reactor.md).
  returned: always
  type: dict
  sample: {"7": {virtual_machines: [], networks: [], public_ips: []}}
deployment_ids:
  description: The deployments that have at least one resource found, sorted.
  returned: always
  type: list
  elements: int
  sample: [7, 9]
"""

import re

from ansible.module_utils.basic import AnsibleModule

try:
    from ansible_collections.ngine_io.cloudstack.plugins.module_utils.cloudstack import (
        AnsibleCloudStack,
        cs_argument_spec,
        cs_required_together,
    )
except ImportError:  # reported clearly in main(): the collection depends on ngine_io.cloudstack
    AnsibleCloudStack = object
    cs_argument_spec = None

CHAIN_TAG = "dinfra-chain"
DEPLOYMENT_TAG = "dinfra-deployment"
# What each kind of resource is listed with, and the list key of the answer.
RESOURCE_LISTS = (
    ("virtual_machines", "listVirtualMachines", "virtualmachine"),
    ("networks", "listNetworks", "network"),
    ("public_ips", "listPublicIpAddresses", "publicipaddress"),
)


def deployment_tags(chain, deployment_id):
    return [{"key": CHAIN_TAG, "value": chain}, {"key": DEPLOYMENT_TAG, "value": "%s:%d" % (chain, deployment_id)}]


def tagged_deployment(resource, chain):
    """The deployment id in a resource's tags, or None when it is not one of this chain's."""
    for tag in resource.get("tags") or []:
        if tag.get("key") == DEPLOYMENT_TAG:
            owner, sep, number = str(tag.get("value", "")).rpartition(":")
            if sep and owner == chain and number.isdigit():
                return int(number)
    return None


def summarize(kind, resource, deployment_id):
    if kind == "virtual_machines":
        nics = resource.get("nic") or [{}]
        return dict(id=resource["id"], name=resource.get("name"), display_name=resource.get("displayname"),
                    state=resource.get("state"), ip_address=nics[0].get("ipaddress"),
                    network_id=nics[0].get("networkid"), deployment_id=deployment_id)
    if kind == "networks":
        return dict(id=resource["id"], name=resource.get("name"), state=resource.get("state"), deployment_id=deployment_id)
    return dict(id=resource["id"], ip_address=resource.get("ipaddress"), network_id=resource.get("associatednetworkid"),
                deployment_id=deployment_id)


def by_deployment(found):
    """{deployment id (as text, as JSON keys are): {kind: [resources]}} of what was found."""
    grouped = {}
    for kind, resources in found.items():
        for resource in resources:
            entry = grouped.setdefault(str(resource["deployment_id"]), {k: [] for k in found})
            entry[kind].append(resource)
    return grouped


class CloudStackDeploymentInfo(AnsibleCloudStack):

    def list_all(self, command, list_key, zone_id, **filters):
        """Every page of a list command; a failure fails the module (query_api)."""
        if zone_id:
            filters["zoneid"] = zone_id
        answer = self.query_api(command, listall=True, fetch_list=True, **filters)
        if isinstance(answer, dict):  # a cs without fetch_list support answers one page
            answer = answer.get(list_key, [])
        return answer

    def named(self, name, zone_id, deployment_id):
        """VMs and networks with the deployment's name, tagged or not."""
        found = {}
        for kind, command, list_key in RESOURCE_LISTS[:2]:
            filters = dict(keyword=name, name=name) if kind == "virtual_machines" else dict(keyword=name)
            answer = self.list_all(command, list_key, zone_id, **filters)
            found[kind] = [summarize(kind, r, deployment_id) for r in answer if r.get("name") == name]
        return found

    def tagged(self, chain, deployment_id):
        if deployment_id is None:
            return self.surveyed(chain)
        # One deployment: CloudStack filters by its tag (its filter matches ANY of the pairs
        # given, so one pair only). Each result's own tags are checked before it is trusted.
        filters = dict(tags=[deployment_tags(chain, deployment_id)[1]])
        zone_id = self.get_zone(key="id") if self.module.params.get("zone") else None
        found = {}
        for kind, command, list_key in RESOURCE_LISTS:
            found[kind] = []
            for resource in self.list_all(command, list_key, zone_id, **filters):
                owner = tagged_deployment(resource, chain)
                if owner != deployment_id:
                    continue
                if kind == "public_ips" and resource.get("issourcenat"):
                    continue
                found[kind].append(summarize(kind, resource, owner))
        name = self.module.params.get("name")
        if name:
            for kind, resources in self.named(name, zone_id, deployment_id).items():
                known = {r["id"] for r in found[kind]}
                found[kind].extend(r for r in resources if r["id"] not in known)
            # An address is tagged only after it is acquired: one its run did not live to tag
            # is still on the deployment's network.
            known = {r["id"] for r in found["public_ips"]}
            for network in found["networks"]:
                for resource in self.list_all("listPublicIpAddresses", "publicipaddress", zone_id,
                                              associatednetworkid=network["id"]):
                    if not resource.get("issourcenat") and resource["id"] not in known:
                        known.add(resource["id"])
                        found["public_ips"].append(summarize("public_ips", resource, deployment_id))
        return found

    def surveyed(self, chain):
        """Every deployment's resources, in a fixed number of listings however many deployments
        there are (each one paged): VMs and networks tagged with the chain, and those named as
        the role names them (``dinfra-<chain>-<id>``, which finds a resource a crash left
        untagged); every address, kept when its deployment tag is the chain's or it sits on one
        of the deployments' networks (addresses carry only the deployment tag)."""
        zone_id = self.get_zone(key="id") if self.module.params.get("zone") else None
        named = re.compile(r"^dinfra-%s-(0|[1-9][0-9]{0,19})$" % re.escape(chain))
        found = {kind: {} for kind, _command, _key in RESOURCE_LISTS}
        for kind, command, list_key in RESOURCE_LISTS[:2]:
            listings = (
                self.list_all(command, list_key, zone_id, tags=[{"key": CHAIN_TAG, "value": chain}]),
                self.list_all(command, list_key, zone_id, keyword="dinfra-%s-" % chain),
            )
            for resource in (r for listing in listings for r in listing):
                by_name = named.match(str(resource.get("name") or ""))
                owner = tagged_deployment(resource, chain)
                if owner is None and by_name:
                    owner = int(by_name.group(1))
                if owner is not None:
                    found[kind].setdefault(resource["id"], summarize(kind, resource, owner))
        networks = {n["id"]: n["deployment_id"] for n in found["networks"].values()}
        for resource in self.list_all("listPublicIpAddresses", "publicipaddress", zone_id):
            if resource.get("issourcenat"):
                continue
            owner = tagged_deployment(resource, chain)
            if owner is None:
                owner = networks.get(resource.get("associatednetworkid"))
            if owner is not None:
                found["public_ips"].setdefault(resource["id"], summarize("public_ips", resource, owner))
        return {kind: list(resources.values()) for kind, resources in found.items()}


def module_args():
    argument_spec = cs_argument_spec()
    argument_spec.update(
        chain=dict(type="str", required=True),
        deployment_id=dict(type="int"),
        name=dict(type="str"),
        zone=dict(type="str"),
    )
    return dict(argument_spec=argument_spec, required_together=cs_required_together(), supports_check_mode=True)


def run(module):
    chain, deployment_id = module.params["chain"], module.params["deployment_id"]
    if not chain or ":" in chain:
        module.fail_json(msg="chain must be a non-empty label without ':' (it is part of the deployment tag)")
    if deployment_id is not None and deployment_id < 0:
        module.fail_json(msg="deployment_id must not be negative")

    info = CloudStackDeploymentInfo(module)
    found = info.tagged(chain, deployment_id)
    result = dict(changed=False, **found)
    result["deployment_ids"] = sorted({r["deployment_id"] for resources in found.values() for r in resources})
    result["deployments"] = by_deployment(found)
    if deployment_id is not None:
        result["tags"] = deployment_tags(chain, deployment_id)
        result["deployment_tag"] = result["tags"][1]
    module.exit_json(**result)


def main():
    if cs_argument_spec is None:
        AnsibleModule(argument_spec={}, supports_check_mode=True).fail_json(
            msg="dinfra.chain.cloudstack_deployment_info needs the ngine_io.cloudstack collection "
                "(in the ansible package, or: ansible-galaxy collection install ngine_io.cloudstack)")
    # A module process, as ngine_io.cloudstack's modules are: its base class is theirs.
    run(AnsibleModule(**module_args()))


if __name__ == "__main__":
    main()
