# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: ssh_public_key
short_description: An ed25519 account (SS58 or hex) as an OpenSSH public key line
version_added: 0.1.0
description:
  - Turns an ed25519 account, given as an SS58 address (any network) or a 32-byte public key in hex (with or
    without C(0x)), into the OpenSSH C(ssh-ed25519 AAAA... comment) line for C(authorized_keys) or
    cloud-init C(ssh_authorized_keys).
  - The account of an ed25519 key is its public key, so the conversion is exact; a provider derives the
    consumer's SSH key from on-chain data alone and never sees a secret.
  - SS58 addresses are checked as Substrate checks them (base58, network prefix, length, checksum), and the
    key must be a point of the ed25519 group.
  - An account id does not say which key type made it. Most sr25519 accounts fail the ed25519 point check and
    get an error saying what to do, but not all; name ed25519 keys explicitly (see C(docs/ssh-keys.md)).
  - Error messages never quote the input, in case a secret was passed by mistake.
positional: comment
options:
  _input:
    description: The ed25519 account, an SS58 address or a 32-byte public key in hex.
    type: str
    required: true
  comment:
    description: Comment appended to the line. One line without control characters.
    type: str
    default: ""
  crypto:
    description:
      - Key type of the account. Only V(ed25519) converts; V(sr25519) fails with advice, since OpenSSH has no
        sr25519 keys.
    type: str
    choices: [ed25519, sr25519]
    default: ed25519
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: The consumer's keys for cloud-init, from the descriptor on IPFS
  ansible.builtin.set_fact:
    authorized_keys: "{{ descriptor.ssh.authorized_keys | map('dinfra.chain.ssh_public_key', 'dinfra consumer') }}"

- name: //Alice's ed25519 account
  ansible.builtin.debug:
    msg: "{{ '5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu' | dinfra.chain.ssh_public_key }}"
  # ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjcNBfVBY7EtFA+DBLqGgqJviAP6YkiQj1DNAFPprDu

- name: The same key in hex, with a comment
  ansible.builtin.debug:
    msg: "{{ '0x88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee' | dinfra.chain.ssh_public_key(comment='alice') }}"
"""

RETURN = r"""
_value:
  description: The OpenSSH public key line, without a trailing newline.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ..module_utils.ssh_keys import SshKeyError
from ..module_utils.ssh_keys import ssh_public_key as _ssh_public_key


def ssh_public_key(value, comment="", crypto="ed25519"):
    try:
        return _ssh_public_key(value, comment=comment, crypto=crypto)
    except SshKeyError as exc:
        raise AnsibleFilterError(f"dinfra.chain.ssh_public_key: {exc}") from None


class FilterModule:
    """dinfra.chain.ssh_public_key."""

    def filters(self):
        return {"ssh_public_key": ssh_public_key}
