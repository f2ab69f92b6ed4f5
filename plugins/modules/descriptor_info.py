#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: descriptor_info
short_description: Fetch a deployment descriptor from IPFS, verify it, and validate it against its type
version_added: 0.1.0
description:
  - Fetches the document a CID names through an IPFS HTTP gateway, block by block, and checks
    every block against its CID, so that a gateway that lies is caught and nothing it sent
    is returned. Single-block (raw) and multi-block (dag-pb, UnixFS) files are verified.
  - Parses it strictly (UTF-8 JSON, no lone surrogate escapes, no duplicate keys, bounded nesting) and validates it
    against the JSON Schema (2020-12) of its deployment type, given by the type's name (read
    from the chain) or by the schema's CID. The schema is fetched, verified and cached by CID.
  - The kind of a failure tells a reactor what to do. C(unavailable) (the gateway, the node or
    the chain did not answer, or a gateway sent wrong bytes) is worth retrying later and
    says nothing about the descriptor. C(refused) and C(invalid) are final, the consumer's to fix.
extends_documentation_fragment:
  - dinfra.chain.attributes
  - dinfra.chain.attributes.read_only
  - dinfra.chain.attributes.controller
  - dinfra.chain.ipfs.GATEWAY
  - dinfra.chain.connection
options:
  cid:
    description: CID of the descriptor, as the chain records it.
    type: str
    required: true
  deployment_type:
    description:
      - Name of the deployment type to validate against. Its schema CID is read from the
        chain, which needs O(node_url).
      - Mutually exclusive with O(schema_cid). With neither, the document is only verified
        and parsed.
    type: str
  schema_cid:
    description: CID of the JSON Schema to validate against.
    type: str
  fail_on_invalid:
    description:
      - Whether a document that breaks its schema fails the task. With V(false) the task
        succeeds with RV(valid=false) and RV(errors), so that a reactor can report them.
    type: bool
    default: true
  node_url:
    description:
      - WebSocket endpoint of a DINFRA node. Needed with O(deployment_type) only.
      - Falls back to E(DINFRA_NODE_URL).
    required: false
notes:
  - The descriptor comes from the consumer and is untrusted. RV(document) is data; never
    feed its strings to a template.
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: Fetch and validate the descriptor of a deployment
  dinfra.chain.descriptor_info:
    cid: "{{ dinfra_descriptor_cid }}"
    deployment_type: "{{ dinfra_type_name }}"
    fail_on_invalid: false
  register: descriptor

- name: Refuse it on chain when it is invalid
  dinfra.chain.deployment_status:
    id: "{{ dinfra_deployment_id }}"
    state: failed
    reason: "{{ descriptor.errors | map(attribute='message') | first }}"
  when: not descriptor.valid

- name: Check a document against a schema known by CID, through a public gateway
  dinfra.chain.descriptor_info:
    cid: bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku
    schema_cid: bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy
    gateway_url: https://trustless-gateway.link
"""

RETURN = r"""
cid:
  description: The descriptor's CID.
  returned: always
  type: str
document:
  description: The parsed descriptor. Untrusted data.
  returned: when it was fetched and parsed
  type: raw
size:
  description: The descriptor's size in bytes.
  returned: when it was fetched
  type: int
valid:
  description: Whether the descriptor matches the schema (true when there is no schema).
  returned: when it was fetched and parsed
  type: bool
errors:
  description: What is wrong with the descriptor, sorted by path, at most 50.
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: "JSON path of the offending value, for example C($.ports[0].port).", type: str}
    message: {description: What is wrong there., type: str}
schema_cid:
  description: CID of the schema the descriptor was checked against.
  returned: when there was one
  type: str
deployment_type:
  description: The deployment type, as the chain records it.
  returned: with O(deployment_type)
  type: dict
failure:
  description: C(unavailable) (retry later), C(refused) or C(invalid) (final), C(not_found) (no such type) or C(configuration).
  returned: failure
  type: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ..module_utils.ansible_chain import chain_argument_spec
from ..module_utils.chain import ChainClient, ChainError, ChainUnavailable
from ..module_utils.deployments import find_deployment_type
from ..module_utils.descriptors import (
    HAS_JSONSCHEMA,
    JSONSCHEMA_IMPORT_ERROR,
    DescriptorError,
    SchemaCache,
    default_cache_dir,
    load,
    lone_surrogate,
    summarize,
)
from ..module_utils.ipfs import (
    DEFAULT_GATEWAY,
    ContentRefused,
    Gateway,
    IpfsError,
    IpfsUnavailable,
)


def argument_spec():
    spec = chain_argument_spec()
    del spec["wait_for"]  # reads only
    spec["node_url"]["required"] = False
    spec.update(
        cid=dict(type="str", required=True),
        deployment_type=dict(type="str"),
        schema_cid=dict(type="str"),
        fail_on_invalid=dict(type="bool", default=True),
        gateway_url=dict(type="str", default=DEFAULT_GATEWAY, fallback=(env_fallback, ["DINFRA_IPFS_GATEWAY"])),
        max_size=dict(type="int", default=1024 * 1024),
        ipfs_timeout=dict(type="int", default=30),
        schema_cache=dict(type="path"),
    )
    return spec


def type_schema(module, result):
    """The schema CID to validate against, reading the type from the chain if named."""
    params = module.params
    if not params["deployment_type"]:
        return params["schema_cid"]
    if not params["node_url"]:
        module.fail_json(msg="deployment_type needs node_url (or DINFRA_NODE_URL)", failure="configuration", **result)
    client = ChainClient(params["node_url"], timeout=params["timeout"], read_at=params["read_at"])
    try:
        found = find_deployment_type(client, params["deployment_type"], client.head()[0])
    finally:
        client.close()
    if found is None:
        module.fail_json(msg=f"the chain has no deployment type named {params['deployment_type']!r}",
                         failure="not_found", **result)
    result["deployment_type"] = found
    return found["schema_cid"]


def inspect(module):
    params = module.params
    result = dict(changed=False, cid=params["cid"], errors=[])
    schema_cid = type_schema(module, result)
    if schema_cid and not HAS_JSONSCHEMA:
        module.fail_json(msg=missing_required_lib("jsonschema"), exception=str(JSONSCHEMA_IMPORT_ERROR))
    gateway = Gateway(params["gateway_url"], timeout=params["ipfs_timeout"], max_size=params["max_size"])
    cache = SchemaCache(params["schema_cache"] or default_cache_dir())
    try:
        document, size, errors = load(gateway, params["cid"], schema_cid, cache)
    except DescriptorError as exc:
        module.fail_json(msg=str(exc), failure="invalid", **result)
    except ContentRefused as exc:
        module.fail_json(msg=str(exc), failure="refused", **result)
    result.update(document=document, size=size, valid=not errors, errors=errors)
    if schema_cid:
        result["schema_cid"] = schema_cid
    if errors and params["fail_on_invalid"]:
        module.fail_json(msg=f"the descriptor does not match its schema: {summarize(errors)}",
                         failure="invalid", **result)
    return result


def module_args():
    return dict(
        argument_spec=argument_spec(),
        mutually_exclusive=[("deployment_type", "schema_cid")],
        supports_check_mode=True,
    )


def run(module):
    try:
        result = inspect(module)
    except (IpfsUnavailable, ChainUnavailable) as exc:
        module.fail_json(msg=str(exc), failure="unavailable", cid=module.params["cid"])
    except (IpfsError, ChainError) as exc:
        module.fail_json(msg=str(exc), failure="configuration", cid=module.params["cid"])
    except Exception as exc:  # a bug: report it with its traceback
        module.fail_json(msg=f"unexpected error: {exc.__class__.__name__}: {exc}", exception=traceback.format_exc())
    # Never a result that Ansible refuses to read: the reactor could not tell the consumer why.
    where = lone_surrogate(result)
    if where:
        module.fail_json(msg=f"the result holds text that is not Unicode at {where}", failure="invalid",
                         cid=module.params["cid"])
    module.exit_json(**result)


def main():
    # Runs in the controller through its action plugin (plugin_utils/in_controller.py).
    run(AnsibleModule(**module_args()))


if __name__ == "__main__":
    main()
