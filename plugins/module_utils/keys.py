# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Signers from secrets: a Substrate secret URI (``//Alice``, ``<mnemonic>//hard/soft``,
``<mnemonic>///password``), a mnemonic, or a 32-byte hex seed; sr25519 or ed25519.

python substrate-interface derives sr25519 keys from paths itself but refuses to derive
ed25519 keys along a path, so ed25519 hard derivation is implemented here the
way Substrate's sp-core does it: ``seed' = blake2_256(SCALE(("Ed25519HDKD", seed, chain_code)))``.
ed25519 has no soft derivation; a soft junction is an error.
"""

from __future__ import annotations

import hashlib
import re

# Separate imports: ed25519 seeds need only the BIP39 bindings, so dinfra.chain.ssh_key runs
# on hosts without substrate-interface.
try:
    from bip39 import bip39_to_mini_secret

    HAS_BIP39 = True
    BIP39_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the callers
    HAS_BIP39 = False
    BIP39_IMPORT_ERROR = exc

try:
    from substrateinterface import Keypair, KeypairType

    HAS_KEYS = HAS_BIP39
    KEYS_IMPORT_ERROR = BIP39_IMPORT_ERROR
except ImportError as exc:  # pragma: no cover - reported by the callers
    HAS_KEYS = False
    KEYS_IMPORT_ERROR = exc

# The development phrase Substrate uses when a URI starts with a path.
DEV_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
CRYPTO_TYPES = ("sr25519", "ed25519")

_SURI = re.compile(r"^(?P<phrase>[^/]*)(?P<path>(//?[^/]+)*)(///(?P<password>.*))?$")
_JUNCTION = re.compile(r"/(/?[^/]+)")


class SignerSecretError(ValueError):
    """A secret that cannot become a key; the message never contains the secret."""


def _scale_compact_length(n):
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return ((n << 2) | 1).to_bytes(2, "little")
    if n < 1 << 30:
        return ((n << 2) | 2).to_bytes(4, "little")
    raise SignerSecretError("derivation junction too long")


def chain_code(junction):
    """The 32-byte chain code of one junction (without its leading slashes), as sp-core's
    DeriveJunction: a u64 if it parses as one, else a SCALE string; longer than 32 bytes is
    hashed with blake2_256, shorter is zero-padded."""
    if re.fullmatch(r"[0-9]+", junction) and int(junction) < 1 << 64:
        encoded = int(junction).to_bytes(8, "little")
    else:
        raw = junction.encode("utf-8")
        encoded = _scale_compact_length(len(raw)) + raw
    if len(encoded) > 32:
        return hashlib.blake2b(encoded, digest_size=32).digest()
    return encoded.ljust(32, b"\0")


def ed25519_hard_derive(seed, junction):
    """One hard derivation step of an ed25519 seed."""
    payload = _scale_compact_length(len(b"Ed25519HDKD")) + b"Ed25519HDKD" + seed + chain_code(junction)
    return hashlib.blake2b(payload, digest_size=32).digest()


def parse_suri(suri):
    """(phrase_or_seed, [(is_hard, junction)], password) of a secret URI."""
    match = _SURI.match(suri.strip())
    if not match:
        raise SignerSecretError("the secret is not a valid Substrate secret URI")
    junctions = [(j.startswith("/"), j.lstrip("/")) for j in _JUNCTION.findall(match.group("path") or "")]
    return (match.group("phrase") or "").strip(), junctions, match.group("password")


def _is_hex_seed(text):
    return bool(re.fullmatch(r"0x[0-9a-fA-F]{64}", text))


def ed25519_seed(secret):
    """The 32-byte ed25519 secret seed of a secret URI, mnemonic or hex seed, as sp-core's
    ``ed25519::Pair::from_string`` derives it (hard junctions only)."""
    if not secret or not secret.strip():
        raise SignerSecretError("the secret is empty")
    phrase, junctions, password = parse_suri(secret)
    if any(not hard for hard, _code in junctions):
        raise SignerSecretError("ed25519 keys have no soft derivation: use only hard junctions (//name)")
    phrase = phrase or DEV_PHRASE
    if _is_hex_seed(phrase):
        seed = bytes.fromhex(phrase[2:])
    elif not HAS_BIP39:
        raise SignerSecretError(f"the python package py-bip39-bindings is required for a mnemonic: {BIP39_IMPORT_ERROR}")
    else:
        try:
            seed = bytes(bip39_to_mini_secret(phrase, password or ""))
        except Exception as exc:
            # Name the kind of problem only: the exception text may quote the secret.
            raise SignerSecretError(
                f"the secret is not a valid ed25519 secret URI, mnemonic or seed ({exc.__class__.__name__})"
            ) from None
    for _hard, junction in junctions:
        seed = ed25519_hard_derive(seed, junction)
    return seed


def keypair_from_secret(secret, crypto_type="sr25519"):
    """A substrate-interface Keypair from a secret URI, mnemonic or hex seed."""
    if not HAS_KEYS:
        raise SignerSecretError(f"the python package substrate-interface is required: {KEYS_IMPORT_ERROR}")
    if crypto_type not in CRYPTO_TYPES:
        raise SignerSecretError(f"crypto type must be one of {', '.join(CRYPTO_TYPES)}")
    if not secret or not secret.strip():
        raise SignerSecretError("the signer secret is empty")
    try:
        if crypto_type == "ed25519":
            return Keypair.create_from_seed("0x" + ed25519_seed(secret).hex(), crypto_type=KeypairType.ED25519)
        phrase, junctions, _password = parse_suri(secret)
        if _is_hex_seed(phrase) and not junctions:
            return Keypair.create_from_seed(phrase, crypto_type=KeypairType.SR25519)
        return Keypair.create_from_uri(secret.strip(), crypto_type=KeypairType.SR25519)
    except SignerSecretError:
        raise
    except Exception as exc:
        # Name the kind of problem only: the exception text may quote the secret.
        raise SignerSecretError(
            f"the signer secret is not a valid {crypto_type} secret URI, mnemonic or seed ({exc.__class__.__name__})"
        ) from None
