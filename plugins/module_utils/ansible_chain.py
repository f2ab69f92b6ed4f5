# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""What every dinfra.chain module shares: the connection options (with environment
fallbacks for AWX credentials), the client and signer, and one way of failing."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from .chain import (
    HAS_SUBSTRATE_INTERFACE,
    READ_AT_CHOICES,
    SUBSTRATE_IMPORT_ERROR,
    WAIT_FOR_CHOICES,
    ChainClient,
    ChainError,
    ChainUnavailable,
    ExtrinsicFailed,
    ExtrinsicRejected,
    ExtrinsicUncertain,
)
from .keys import CRYPTO_TYPES, SignerSecretError, keypair_from_secret


def chain_argument_spec():
    """The connection options of every module (documented by dinfra.chain.connection.modules)."""
    return dict(
        node_url=dict(type="str", required=True, fallback=(env_fallback, ["DINFRA_NODE_URL"])),
        signer_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["DINFRA_SIGNER_SECRET"])),
        signer_crypto=dict(
            type="str", default="sr25519", choices=list(CRYPTO_TYPES), fallback=(env_fallback, ["DINFRA_SIGNER_CRYPTO"])
        ),
        timeout=dict(type="int", default=60, fallback=(env_fallback, ["DINFRA_TIMEOUT"])),
        read_at=dict(
            type="str", default="finalized", choices=list(READ_AT_CHOICES), fallback=(env_fallback, ["DINFRA_READ_AT"])
        ),
        wait_for=dict(
            type="str", default="finalization", choices=list(WAIT_FOR_CHOICES),
            fallback=(env_fallback, ["DINFRA_WAIT_FOR"]),
        ),
    )


# What kind of failure a module reports, so that playbooks can tell them apart.
FAILURE_KINDS = {
    ExtrinsicFailed: "dispatch_error",
    ExtrinsicRejected: "rejected",
    ExtrinsicUncertain: "uncertain",
    ChainUnavailable: "unavailable",
}


class AnsibleChain:
    """The chain side of a module: ``self.client`` reads and submits, ``self.signer()`` is
    the signing key; ``fail`` turns any ChainError into fail_json with a ``failure`` kind."""

    def __init__(self, module):
        self.module = module
        if not HAS_SUBSTRATE_INTERFACE:
            module.fail_json(msg=missing_required_lib("substrate-interface"), exception=str(SUBSTRATE_IMPORT_ERROR))
        params = module.params
        try:
            self.client = ChainClient(
                params["node_url"], timeout=params["timeout"], read_at=params["read_at"], wait_for=params["wait_for"]
            )
        except ChainError as exc:
            module.fail_json(msg=str(exc), failure="configuration")
        self._signer = None

    def signer(self):
        if self._signer is None:
            secret = self.module.params["signer_secret"]
            if not secret:
                self.module.fail_json(msg="this module needs signer_secret (or DINFRA_SIGNER_SECRET)", failure="configuration")
            try:
                self._signer = keypair_from_secret(secret, self.module.params["signer_crypto"])
            except SignerSecretError as exc:
                self.module.fail_json(msg=str(exc), failure="configuration")
        return self._signer

    def fail(self, exc):
        kind = next((k for cls, k in FAILURE_KINDS.items() if isinstance(exc, cls)), "error")
        result = dict(msg=str(exc), failure=kind)
        if isinstance(exc, ExtrinsicFailed):
            result.update(pallet=exc.pallet, error=exc.error, error_docs=exc.docs, block_hash=exc.block_hash)
        self.client.close()
        self.module.fail_json(**result)

    def run(self, work):
        """Runs ``work(self)`` and exits with its result; chain errors fail the module."""
        try:
            result = work(self)
        except ChainError as exc:
            self.fail(exc)
        except Exception as exc:  # a bug: report it with its traceback, never the secrets
            self.client.close()
            self.module.fail_json(msg=f"unexpected error: {exc.__class__.__name__}: {exc}", exception=traceback.format_exc())
        self.client.close()
        self.module.exit_json(**result)
