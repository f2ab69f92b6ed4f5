#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: ssh_key
short_description: Write the OpenSSH key pair of a Substrate ed25519 secret
version_added: 0.1.0
description:
  - Derives an ed25519 key from a Substrate secret the way Substrate does (C(subkey inspect --scheme ed25519)),
    and writes it as an OpenSSH private key file (mode 0600) at O(path) and its public key at O(path) with
    C(.pub) appended (mode 0644).
  - For a consumer. Its SSH public key is named in the deployment's descriptor, so the provider learns it
    from on-chain data; the secret and the private key never leave the host this module runs on. See
    C(docs/ssh-keys.md) in the collection.
  - Substrate ed25519 keys and OpenSSH C(ssh-ed25519) keys are the same RFC 8032 keys, so the conversion is
    exact. sr25519 keys have no OpenSSH form; O(crypto_type=sr25519) fails and says what to do instead.
  - Files are written atomically (a temporary file in the same directory, mode set before the secret is
    written, flushed, then renamed), so a failure never leaves a half-written key.
  - Does not talk to the chain; it is not in the C(dinfra.chain.chain) action group.
extends_documentation_fragment:
  - dinfra.chain.attributes
attributes:
  check_mode:
    support: full
    description: Reports whether the files would change, and writes nothing.
  diff_mode:
    support: full
    description:
      - Shows the public key file's content before and after, and the private key's fingerprint, comment
        and mode (never its content).
  platform:
    support: full
    platforms: posix
    description: Needs POSIX file modes.
options:
  path:
    description:
      - Path of the private key file. The public key goes to the same path with C(.pub) appended.
      - The directory must exist.
    type: path
    required: true
  secret:
    description:
      - The ed25519 secret. A Substrate secret URI with hard junctions only (C(//Alice),
        C(<mnemonic>//ssh), C(<mnemonic>//ssh///password), C(0x<64 hex digits>//ssh)), a BIP39 mnemonic,
        or a raw 32-byte seed as 64 hex digits with or without C(0x).
      - Prefer a dedicated hard path such as C(<mnemonic>//ssh). Without a path the SSH key is the account
        key itself, and whoever copies the private key file can sign for that account on chain.
      - Never logged and never returned. Falls back to the environment variable E(DINFRA_SSH_SECRET) on the
        host the module runs on.
      - Required with O(state=present).
    type: str
  secret_type:
    description:
      - What O(secret) is. V(auto) takes any of them. V(suri) also takes a plain mnemonic or C(0x) seed, which
        are secret URIs without a path. V(mnemonic) and V(seed) refuse anything else, to catch a secret given
        in the wrong place.
    type: str
    choices: [auto, suri, mnemonic, seed]
    default: auto
  crypto_type:
    description:
      - Key type to derive. Only V(ed25519) can be an SSH key; V(sr25519) fails with advice, so that a play
        which passes its chain signer's crypto type along stops with a clear message.
    type: str
    choices: [ed25519, sr25519]
    default: ed25519
  comment:
    description:
      - Comment stored in the private key and appended to the public key line, for example the account's
        SS58 address. One line without control characters.
    type: str
    default: ""
  ss58_format:
    description:
      - SS58 network format of the returned RV(ss58_address); 42 is the generic Substrate format, 0 Polkadot.
    type: int
    default: 42
  state:
    description:
      - V(present) writes the key pair. V(absent) removes both files, whatever key they hold.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - Replace a file at O(path) that holds another key, or is not an unencrypted OpenSSH ed25519 key.
        Without it the module fails and leaves that file alone.
    type: bool
    default: false
notes:
  - Idempotent. A key file already holding the derived key, with the same comment and mode 0600, and a
    public key file with the expected line and mode 0644, are left untouched.
  - The files belong to the user the module runs as; use C(become_user) to write another user's keys.
requirements:
  - cryptography
  - py-bip39-bindings (for a mnemonic or a secret URI with a phrase; installed with substrate-interface)
seealso:
  - name: The dinfra.chain.ssh_public_key filter
    description: The provider's side, an SS58 address or hex public key to an OpenSSH public key line.
    link: https://gitlab.com/dinfra/dinfra/-/blob/main/docs/ssh-keys.md
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: My SSH key, derived from my account's mnemonic along a dedicated hard path
  dinfra.chain.ssh_key:
    path: ~/.ssh/dinfra_ed25519
    secret: "{{ my_mnemonic }}//ssh"
    comment: dinfra consumer
  register: ssh

- name: Put the public key in the descriptor (ssh.authorized_keys)
  ansible.builtin.set_fact:
    descriptor: "{{ descriptor | combine({'ssh': {'authorized_keys': [ssh.ss58_address]}}) }}"

- name: The secret from the environment (DINFRA_SSH_SECRET), in check mode first
  dinfra.chain.ssh_key:
    path: ~/.ssh/dinfra_ed25519
  check_mode: true

- name: Forget the key
  dinfra.chain.ssh_key:
    path: ~/.ssh/dinfra_ed25519
    state: absent
"""

RETURN = r"""
path:
  description: The private key file.
  returned: always
  type: str
public_key_path:
  description: The public key file.
  returned: always
  type: str
public_key:
  description: The OpenSSH public key line, as in the C(.pub) file (without its newline).
  returned: O(state=present)
  type: str
  sample: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjcNBfVBY7EtFA+DBLqGgqJviAP6YkiQj1DNAFPprDu alice
public_key_hex:
  description: The 32-byte ed25519 public key (the account id) in hex; one form for the descriptor.
  returned: O(state=present)
  type: str
  sample: "0x88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee"
ss58_address:
  description: The key as an SS58 address in the O(ss58_format) network; the other form for the descriptor.
  returned: O(state=present)
  type: str
  sample: 5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu
fingerprint:
  description: The key's fingerprint, as C(ssh-keygen -l) prints it.
  returned: O(state=present)
  type: str
  sample: SHA256:3Rh3qucaBpMVQlq4w1W4X1DJRqR30tc93Qs6KMKWyPk
comment:
  description: The key's comment.
  returned: O(state=present)
  type: str
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ..module_utils.keys import parse_suri
from ..module_utils.ssh_keys import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
    PRIVATE_KEY_MODE,
    PUBLIC_KEY_MODE,
    SECRET_TYPES,
    SR25519_ADVICE,
    SshKeyError,
    check_comment,
    ed25519_public_key,
    fingerprint,
    openssh_private_key,
    openssh_public_line,
    read_key_file,
    read_openssh_private_key,
    ss58_encode,
    ssh_seed,
    write_file_atomically,
)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _check_directory(path):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(directory):
        raise SshKeyError(f"the directory {directory} does not exist (the module does not create it)")
    if not os.path.isdir(directory):
        raise SshKeyError(f"{directory} is not a directory")


def _describe_private(data, path, seed, public_key):
    """One line about a private key file for the diff: never its content."""
    if data is None:
        return "absent\n"
    try:
        found_seed, found_public_key, comment = read_openssh_private_key(data)
    except SshKeyError as exc:
        return f"not this key ({exc}), mode {_mode(path):04o}\n"
    which = "this key" if (found_seed, found_public_key) == (seed, public_key) else "another key"
    return f"{which} {fingerprint(found_public_key)}, comment {comment!r}, mode {_mode(path):04o}\n"


def present(module):
    params = module.params
    if params["crypto_type"] == "sr25519":
        module.fail_json(msg=SR25519_ADVICE)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(CRYPTOGRAPHY_IMPORT_ERROR))
    path, force = params["path"], params["force"]
    public_path = path + ".pub"
    comment = check_comment(params["comment"])
    seed = ssh_seed(params["secret"], params["secret_type"])
    public_key = ed25519_public_key(seed)
    ss58_address = ss58_encode(public_key, params["ss58_format"])
    if not parse_suri(params["secret"])[1]:
        module.warn(
            "the secret has no derivation path: if it also controls a chain account, this SSH key is that "
            "account's key, and a copy of the private key file can sign for it on chain; prefer a dedicated "
            "hard path such as '<mnemonic>//ssh'"
        )
    _check_directory(path)

    existing = read_key_file(path)
    write_private = chmod_private = False
    if existing is None:
        write_private = True
    else:
        try:
            found_seed, found_public_key, found_comment = read_openssh_private_key(existing)
            same_key = (found_seed, found_public_key) == (seed, public_key)
        except SshKeyError:
            same_key, found_comment = False, None
        if not same_key and not force:
            module.fail_json(
                msg=f"{path} holds another private key, or no unencrypted OpenSSH ed25519 key, and is left alone; "
                "choose another path, or set force=true to replace it",
                path=path,
            )
        write_private = not same_key or found_comment != comment
        chmod_private = not write_private and _mode(path) != PRIVATE_KEY_MODE

    line = openssh_public_line(public_key, comment)
    existing_public = read_key_file(public_path)
    write_public = existing_public != (line + "\n").encode("utf-8")
    chmod_public = not write_public and _mode(public_path) != PUBLIC_KEY_MODE
    changed = write_private or chmod_private or write_public or chmod_public

    result = dict(
        changed=changed,
        path=path,
        public_key_path=public_path,
        public_key=line,
        public_key_hex="0x" + public_key.hex(),
        ss58_address=ss58_address,
        fingerprint=fingerprint(public_key),
        comment=comment,
    )
    if module._diff:
        result["diff"] = [
            dict(
                before_header=path,
                after_header=path,
                before=_describe_private(existing, path, seed, public_key),
                after=f"this key {fingerprint(public_key)}, comment {comment!r}, mode {PRIVATE_KEY_MODE:04o}\n",
            ),
            dict(
                before_header=public_path,
                after_header=public_path,
                before="" if existing_public is None else existing_public.decode("utf-8", "replace"),
                after=line + "\n",
            ),
        ]
    if module.check_mode:
        return result
    try:
        if write_private:
            write_file_atomically(path, openssh_private_key(seed, comment), PRIVATE_KEY_MODE)
        elif chmod_private:
            os.chmod(path, PRIVATE_KEY_MODE)
        if write_public:
            write_file_atomically(public_path, (line + "\n").encode("utf-8"), PUBLIC_KEY_MODE)
        elif chmod_public:
            os.chmod(public_path, PUBLIC_KEY_MODE)
    except OSError as exc:
        raise SshKeyError(f"cannot set the mode of {exc.filename}: {exc.strerror or exc}") from None
    return result


def absent(module):
    path = module.params["path"]
    public_path = path + ".pub"
    found = [candidate for candidate in (path, public_path) if os.path.lexists(candidate)]
    for candidate in found:
        if os.path.isdir(candidate) and not os.path.islink(candidate):
            raise SshKeyError(f"{candidate} is a directory, not a key file")
    result = dict(changed=bool(found), path=path, public_key_path=public_path)
    if module._diff:
        result["diff"] = [
            dict(before_header=candidate, after_header=candidate, before="present\n", after="absent\n")
            for candidate in found
        ]
    if not module.check_mode:
        for candidate in found:
            try:
                os.unlink(candidate)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise SshKeyError(f"cannot remove {candidate}: {exc.strerror or exc}") from None
    return result


def module_args():
    return dict(
        argument_spec=dict(
            path=dict(type="path", required=True),
            secret=dict(type="str", no_log=True, fallback=(env_fallback, ["DINFRA_SSH_SECRET"])),
            secret_type=dict(type="str", default="auto", choices=list(SECRET_TYPES)),
            crypto_type=dict(type="str", default="ed25519", choices=["ed25519", "sr25519"]),
            comment=dict(type="str", default=""),
            ss58_format=dict(type="int", default=42),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            force=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ("secret",))],
        supports_check_mode=True,
    )


def run(module):
    try:
        result = present(module) if module.params["state"] == "present" else absent(module)
    except SshKeyError as exc:
        module.fail_json(msg=str(exc), path=module.params["path"])
    module.exit_json(**result)


def main():
    # A module process on the play's host: the key file is written there.
    run(AnsibleModule(**module_args()))


if __name__ == "__main__":
    main()
