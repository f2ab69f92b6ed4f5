# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: descriptor
short_description: Fetch, verify and validate DINFRA deployment descriptors from IPFS
version_added: 0.1.0
description:
  - Returns the parsed descriptor each CID names, fetched through an IPFS HTTP gateway
    with every block checked against its CID, and validated against a schema when
    O(schema_cid) is given. For use in roles that map a descriptor to infrastructure.
  - Any failure (unreachable gateway, wrong bytes, too large, invalid JSON, schema errors)
    fails the lookup; nothing unverified is ever returned. Use the
    M(dinfra.chain.descriptor_info) module to get validation errors as data.
  - The result is marked unsafe, so Jinja in a consumer's strings is never evaluated.
options:
  _terms:
    description: CIDs of descriptors.
    required: true
  schema_cid:
    description: CID of the JSON Schema (2020-12) every descriptor must match.
    type: str
  gateway_url:
    env:
      - name: DINFRA_IPFS_GATEWAY
extends_documentation_fragment:
  - dinfra.chain.ipfs.GATEWAY
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: The machine's size from its descriptor
  ansible.builtin.debug:
    msg: "{{ lookup('dinfra.chain.descriptor', dinfra_descriptor_cid, schema_cid=dinfra_schema_cid).size }}"
"""

RETURN = r"""
_raw:
  description: One parsed descriptor per CID.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.unsafe_proxy import wrap_var

from ..module_utils.descriptors import (
    DescriptorError,
    SchemaCache,
    default_cache_dir,
    load,
    summarize,
)
from ..module_utils.ipfs import Gateway, IpfsError


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        try:
            gateway = Gateway(self.get_option("gateway_url"), timeout=self.get_option("ipfs_timeout"), max_size=self.get_option("max_size"))
        except IpfsError as exc:
            raise AnsibleLookupError(str(exc)) from None
        cache = SchemaCache(self.get_option("schema_cache") or default_cache_dir())
        schema_cid = self.get_option("schema_cid")
        documents = []
        for cid in terms:
            try:
                document, _size, errors = load(gateway, str(cid), schema_cid, cache)
            except (IpfsError, DescriptorError) as exc:
                raise AnsibleLookupError(f"descriptor {cid}: {exc}") from None
            if errors:
                raise AnsibleLookupError(f"descriptor {cid} does not match schema {schema_cid}: {summarize(errors)}")
            documents.append(wrap_var(document))
        return documents
