# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """Chain connection options (DOCUMENTATION), with what modules (MODULES) and other
    plugins (PLUGINS) add to them.

    Every option falls back to an environment variable, so that an AWX custom credential
    can inject the node URL and the signer without them ever appearing in a playbook.
    """

    # ansible-test wants every fragment to be a plain string literal. Ansible merges an option
    # that several fragments define, so PLUGINS adds only the env entries that plugins read.

    DOCUMENTATION = r"""
options:
  node_url:
    description:
      - WebSocket JSON-RPC endpoint of a node of the DINFRA chain (C(ws://) or C(wss://)).
    type: str
    required: true
  signer_secret:
    description:
      - Secret of the account that signs extrinsics, and whose address is used where the
        plugin needs "our" account. It is a Substrate secret URI (C(//Alice), C(<mnemonic>//hard)),
        a BIP39 mnemonic, or a 32-byte hex seed (C(0x...)).
      - Never logged and never returned.
    type: str
  signer_crypto:
    description:
      - Key type of O(signer_secret). ed25519 secret URIs allow hard junctions only.
    type: str
    choices: [sr25519, ed25519]
    default: sr25519
  timeout:
    description:
      - Seconds to wait for any single answer from the node, and for an extrinsic to be
        included or finalised.
    type: int
    default: 60
  read_at:
    description:
      - Which block reads are made at. C(finalized) (the default) never sees state that a
        reorganisation can undo; C(best) is newer.
    type: str
    choices: [finalized, best]
    default: finalized
requirements:
  - substrate-interface == 1.8.1
"""

    MODULES = r"""
options:
  wait_for:
    description:
      - Whether a submitted extrinsic is reported done once included in a block, or once
        that block is finalised.
    type: str
    choices: [inclusion, finalization]
    default: finalization
notes:
  - Every connection option falls back to an environment variable when not set, namely
    E(DINFRA_NODE_URL), E(DINFRA_SIGNER_SECRET), E(DINFRA_SIGNER_CRYPTO), E(DINFRA_TIMEOUT),
    E(DINFRA_READ_AT), E(DINFRA_WAIT_FOR).
  - A failure to reach or read the chain is always an error; it is never reported as an
    empty result.
"""

    PLUGINS = r"""
options:
  node_url:
    env:
      - name: DINFRA_NODE_URL
  signer_secret:
    env:
      - name: DINFRA_SIGNER_SECRET
  signer_crypto:
    env:
      - name: DINFRA_SIGNER_CRYPTO
  timeout:
    env:
      - name: DINFRA_TIMEOUT
  read_at:
    env:
      - name: DINFRA_READ_AT
"""
