#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: descriptor
short_description: Publish a deployment descriptor or a type's schema to IPFS, pinned
version_added: 0.1.0
description:
  - Adds a JSON document to IPFS through Kubo's HTTP RPC, pins it, and returns its CID, which
    is what goes on chain (in a subscription, or as a deployment type's schema).
  - The CID depends only on the bytes (CIDv1, raw leaves, sha2-256, 256 KiB chunks), so
    publishing the same content again gives the same CID and C(changed=false).
  - The document is parsed strictly first (valid UTF-8 JSON, no duplicate keys, bounded
    nesting), and can be validated against a local JSON Schema before it is published.
extends_documentation_fragment:
  - dinfra.chain.attributes
  - dinfra.chain.attributes.controller
  - dinfra.chain.ipfs.API
attributes:
  check_mode:
    support: full
    description: Computes the CID without storing anything and reports whether it is pinned.
  diff_mode:
    support: none
    description: Content-addressed data has nothing to compare; a new content is a new CID.
options:
  src:
    description:
      - Path of the JSON file to publish, on the host the module runs on.
      - Exactly one of O(src) and O(content) is needed.
    type: path
  content:
    description:
      - The document itself. A string is published as it is. A dictionary is serialised
        canonically (sorted keys, no spaces), so equal dictionaries give equal CIDs.
    type: raw
  validate_with:
    description:
      - Path of a JSON Schema (2020-12) to validate the document against before publishing;
        an invalid document fails with the list of errors and is not published.
    type: path
  state:
    description:
      - C(present) adds and pins; C(absent) unpins (Kubo may then garbage-collect it).
    type: str
    choices: [present, absent]
    default: present
  max_size:
    description: Largest document accepted, in bytes.
    type: int
    default: 1048576
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: Publish our VM's descriptor
  dinfra.chain.descriptor:
    src: files/web-vm.json
    validate_with: "{{ playbook_dir }}/descriptors/cloudstack-vm/schema.json"
  register: published

- name: Subscribe with it
  dinfra.chain.subscription:
    type: cloudstack-vm
    descriptor_cid: "{{ published.cid }}"
    deposit: 100000000000000

- name: Publish a new type's schema
  dinfra.chain.descriptor:
    src: descriptors/gpu-box/schema.json
  register: gpu_schema

- name: Stop keeping an old descriptor
  dinfra.chain.descriptor:
    src: files/old-vm.json
    state: absent
"""

RETURN = r"""
cid:
  description: The document's CID (CIDv1, base32).
  returned: always
  type: str
  sample: bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku
size:
  description: The document's size in bytes.
  returned: always
  type: int
pinned:
  description: Whether the node keeps the document pinned after this run.
  returned: always
  type: bool
errors:
  description: With O(validate_with), what is wrong with an invalid document.
  returned: failure
  type: list
  elements: dict
  contains:
    path: {description: "JSON path of the offending value, for example C($.ports[0].port).", type: str}
    message: {description: What is wrong there., type: str}
failure:
  description: "What kind of failure it was: C(unavailable) (Kubo did not answer), C(invalid), C(refused) or C(configuration)."
  returned: failure
  type: str
"""

import json
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ..module_utils.cid import parse_cid
from ..module_utils.descriptors import (
    HAS_JSONSCHEMA,
    JSONSCHEMA_IMPORT_ERROR,
    DescriptorError,
    parse_json,
    summarize,
    validation_errors,
)
from ..module_utils.ipfs import DEFAULT_API, IpfsError, IpfsUnavailable, Kubo, expected_cid


def document_bytes(module):
    params = module.params
    if params["src"] is not None:
        try:
            with open(params["src"], "rb") as source:
                data = source.read(params["max_size"] + 1)
        except OSError as exc:
            module.fail_json(msg=f"cannot read {params['src']}: {exc.strerror}", failure="refused")
    elif isinstance(params["content"], (dict, list)):
        data = json.dumps(params["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    else:
        data = str(params["content"]).encode()
    if len(data) > params["max_size"]:
        module.fail_json(msg=f"the document is more than max_size ({params['max_size']} bytes)", failure="refused")
    return data


def check_document(module, data):
    try:
        document = parse_json(data, "the document")
        if module.params["validate_with"]:
            if not HAS_JSONSCHEMA:
                module.fail_json(msg=missing_required_lib("jsonschema"), exception=str(JSONSCHEMA_IMPORT_ERROR))
            with open(module.params["validate_with"], "rb") as schema_file:
                schema = parse_json(schema_file.read(), "the schema", max_depth=64)
            errors = validation_errors(document, schema)
            if errors:
                module.fail_json(
                    msg=f"the document does not match its schema: {summarize(errors)}",
                    errors=errors, failure="invalid",
                )
    except DescriptorError as exc:
        module.fail_json(msg=str(exc), failure="invalid")
    except OSError as exc:
        module.fail_json(msg=f"cannot read {module.params['validate_with']}: {exc.strerror}", failure="refused")


def publish(module, kubo, data):
    local = expected_cid(data)
    # Kubo computes the CID of multi-chunk files; one chunk we compute ourselves and hold
    # Kubo to it, so a misconfigured node (other chunker, CIDv0) is caught, not published.
    cid = str(local) if local else kubo.add(data, only_hash=True)
    result = dict(cid=cid, size=len(data))
    pinned = kubo.is_pinned(cid)
    if module.params["state"] == "absent":
        if pinned and not module.check_mode:
            kubo.unpin(cid)
        return dict(result, changed=pinned, pinned=False)
    if pinned:
        return dict(result, changed=False, pinned=True)
    if not module.check_mode:
        added = kubo.add(data, pin=True)
        if parse_cid(added) != parse_cid(cid):
            module.fail_json(msg=f"Kubo stored the document as {added}, not {cid}; check its Import settings",
                             failure="refused", **result)
    return dict(result, changed=True, pinned=True)


def module_args():
    return dict(
        argument_spec=dict(
            src=dict(type="path"),
            content=dict(type="raw"),
            validate_with=dict(type="path"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            max_size=dict(type="int", default=1024 * 1024),
            api_url=dict(type="str", default=DEFAULT_API, fallback=(env_fallback, ["DINFRA_IPFS_API"])),
            api_auth=dict(type="str", no_log=True, fallback=(env_fallback, ["DINFRA_IPFS_API_AUTH"])),
            ipfs_timeout=dict(type="int", default=60),
        ),
        required_one_of=[("src", "content")],
        mutually_exclusive=[("src", "content")],
        supports_check_mode=True,
    )


def run(module):
    params = module.params
    data = document_bytes(module)
    check_document(module, data)
    try:
        kubo = Kubo(params["api_url"], timeout=params["ipfs_timeout"], auth=params["api_auth"])
        result = publish(module, kubo, data)
    except IpfsUnavailable as exc:
        module.fail_json(msg=str(exc), failure="unavailable")
    except IpfsError as exc:
        module.fail_json(msg=str(exc), failure="configuration")
    except Exception as exc:  # a bug: report it with its traceback
        module.fail_json(msg=f"unexpected error: {exc.__class__.__name__}: {exc}", exception=traceback.format_exc())
    module.exit_json(**result)


def main():
    # Runs in the controller through its action plugin (plugin_utils/in_controller.py).
    run(AnsibleModule(**module_args()))


if __name__ == "__main__":
    main()
