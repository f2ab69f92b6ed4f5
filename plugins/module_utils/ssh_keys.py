# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Substrate ed25519 accounts as OpenSSH keys.

Substrate's ed25519 keys are RFC 8032 keys, exactly like OpenSSH's ``ssh-ed25519``: the
AccountId32 of an ed25519 key is its 32-byte public key, and its secret seed is the secret
half of the OpenSSH key. sr25519 (Schnorrkel on Ristretto) keys have no OpenSSH form.

The public side (an SS58 address or hex key to an ``ssh-ed25519`` line) is pure Python.
The private side needs ``cryptography`` (the public key of a seed) and, for a mnemonic,
py-bip39-bindings (through keys.py); not substrate-interface.

Error messages never quote the input: a secret passed where an account belongs by mistake
must not end up in a log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import struct

from .base58 import b58decode as _b58decode
from .base58 import b58encode
from .files import write_atomically
from .keys import SignerSecretError, ed25519_seed

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the callers
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

SR25519_ADVICE = (
    "sr25519 keys cannot be SSH keys: OpenSSH has no sr25519 key type. Derive a separate ed25519 key "
    "from your own mnemonic with a hard path (for example the secret '<mnemonic>//ssh' with crypto_type "
    "ed25519 in dinfra.chain.ssh_key), and name its public key (SS58 or 0x hex) in your descriptor's "
    "ssh.authorized_keys"
)
SECRET_TYPES = ("auto", "suri", "mnemonic", "seed")
PRIVATE_KEY_MODE = 0o600
PUBLIC_KEY_MODE = 0o644

_KEY_TYPE = b"ssh-ed25519"
_SS58_HASH_PREFIX = b"SS58PRE"
# sp-core refuses these two network identifiers (Ss58AddressFormat::Reserved46/47).
_SS58_RESERVED = (46, 47)
_RAW_SEED = re.compile(r"(0[xX])?[0-9a-fA-F]{64}")
_PEM_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
_PEM_END = "-----END OPENSSH PRIVATE KEY-----"
_AUTH_MAGIC = b"openssh-key-v1\0"
# A key file is a few hundred bytes; anything much larger at the path is not one.
_MAX_KEY_FILE = 64 * 1024

# edwards25519 (RFC 8032, section 5.1).
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


class SshKeyError(ValueError):
    """Input that cannot become an SSH key; the message never quotes the input."""


# --- SS58 and hex accounts -------------------------------------------------------------


def b58decode(text):
    try:
        return _b58decode(text)
    except ValueError:
        raise SshKeyError("the account is neither 0x hex nor an SS58 address (it has characters outside base58)") from None


def _ss58_checksum(data):
    return hashlib.blake2b(_SS58_HASH_PREFIX + data, digest_size=64).digest()[:2]


def ss58_decode(address):
    """(network format, 32-byte account) of an SS58 address, checked as sp-core's
    ``from_ss58check_with_version``: 1- or 2-byte prefix, length, reserved formats, checksum."""
    data = b58decode(address)
    if not data:
        raise SshKeyError("the SS58 address is empty")
    if data[0] < 64:
        prefix_length, network = 1, data[0]
    elif data[0] < 128 and len(data) > 1:
        # Two prefix bytes carry a 14-bit identifier, its low byte split across them.
        prefix_length = 2
        network = (((data[0] << 2) | (data[1] >> 6)) & 0xFF) | ((data[1] & 0x3F) << 8)
    else:
        raise SshKeyError("the SS58 address does not start with a valid network prefix")
    if len(data) != prefix_length + 32 + 2:
        raise SshKeyError(
            f"the SS58 address decodes to {len(data)} bytes, not the {prefix_length + 34} of a 32-byte account: "
            "only the AccountId32 of an ed25519 key can become an SSH key (account indices and ecdsa keys cannot)"
        )
    if network in _SS58_RESERVED:
        raise SshKeyError(f"the SS58 address uses the reserved network format {network}")
    if _ss58_checksum(data[:-2]) != data[-2:]:
        raise SshKeyError("the SS58 address's checksum does not match: it is mistyped or truncated")
    return network, data[prefix_length:-2]


def ss58_encode(public_key, ss58_format=42):
    """The SS58 address of a 32-byte account on network ``ss58_format``."""
    if not 0 <= ss58_format < 1 << 14 or ss58_format in _SS58_RESERVED:
        raise SshKeyError("ss58_format must be 0 to 16383, except the reserved 46 and 47")
    if ss58_format < 64:
        prefix = bytes([ss58_format])
    else:
        prefix = bytes([((ss58_format & 0xFC) >> 2) | 0x40, (ss58_format >> 8) | ((ss58_format & 0x03) << 6)])
    body = prefix + bytes(public_key)
    return b58encode(body + _ss58_checksum(body))


def account_public_key(value):
    """The 32-byte public key that an SS58 address or a hex string (with or without 0x) names."""
    if not isinstance(value, str):
        raise SshKeyError(f"an account is a string (an SS58 address or 0x hex), not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise SshKeyError("the account is empty")
    # No SS58 address starts with 0 (not a base58 digit) or is 64 hex digits long.
    if text[:2] in ("0x", "0X") or re.fullmatch(r"[0-9a-fA-F]{64}", text):
        digits = text[2:] if text[:2] in ("0x", "0X") else text
        if not re.fullmatch(r"[0-9a-fA-F]*", digits) or len(digits) % 2:
            raise SshKeyError("the hex public key is not valid hexadecimal")
        if len(digits) != 64:
            raise SshKeyError(f"a hex public key has 32 bytes, this one has {len(digits) // 2}")
        return bytes.fromhex(digits)
    return ss58_decode(text)[1]


# --- ed25519 points --------------------------------------------------------------------


def _decode_point(data):
    """Extended coordinates of a canonical point encoding (RFC 8032, 5.1.3), or None."""
    encoded = int.from_bytes(data, "little")
    sign, y = encoded >> 255, encoded & ((1 << 255) - 1)
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else (0, y, 1, 0)
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _add(p, q):
    """Point addition in extended coordinates (RFC 8032, 5.1.4); complete, so it also doubles."""
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * _D * p[3] * q[3] % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def is_ed25519_public_key(public_key):
    """Whether 32 bytes can be an ed25519 public key: a canonical curve point of the
    prime-order group other than the identity, as every ``seed -> public key`` gives (the
    test libsodium's crypto_core_ed25519_is_valid_point makes). Public data only, so the
    variable-time arithmetic leaks nothing."""
    point = _decode_point(bytes(public_key))
    if point is None or (point[0] == 0 and point[1] == 1):
        return False
    result, addend, scalar = (0, 1, 1, 0), point, _L
    while scalar:
        if scalar & 1:
            result = _add(result, addend)
        addend = _add(addend, addend)
        scalar >>= 1
    return result[0] % _P == 0 and (result[1] - result[2]) % _P == 0


# --- OpenSSH public keys ---------------------------------------------------------------


def _ssh_string(data):
    return struct.pack(">I", len(data)) + data


def check_comment(comment):
    """The comment as text; SshKeyError for one that would break an authorized_keys line."""
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise SshKeyError(f"the comment is a string, not {type(comment).__name__}")
    if any(ord(char) < 32 or ord(char) == 127 for char in comment):
        # A newline would smuggle a second key into authorized_keys.
        raise SshKeyError("the comment must be one line without control characters")
    return str(comment)


def openssh_public_blob(public_key):
    return _ssh_string(_KEY_TYPE) + _ssh_string(bytes(public_key))


def openssh_public_line(public_key, comment=""):
    """The ``ssh-ed25519 AAAA... comment`` line of a 32-byte public key."""
    comment = check_comment(comment)
    line = "ssh-ed25519 " + base64.b64encode(openssh_public_blob(public_key)).decode("ascii")
    return f"{line} {comment}" if comment else line


def fingerprint(public_key):
    """The key's fingerprint as ``ssh-keygen -l`` prints it (SHA256:, unpadded base64)."""
    digest = hashlib.sha256(openssh_public_blob(public_key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def ssh_public_key(value, comment="", crypto="ed25519"):
    """The OpenSSH public key line of an ed25519 account given as SS58 or hex."""
    if crypto == "sr25519":
        raise SshKeyError(SR25519_ADVICE)
    if crypto != "ed25519":
        raise SshKeyError("crypto must be ed25519 (the only Substrate key type that is also an SSH key type)")
    comment = check_comment(comment)
    public_key = account_public_key(value)
    if not is_ed25519_public_key(public_key):
        raise SshKeyError(
            "the account is not an ed25519 public key (it is not a point of the ed25519 group); most sr25519 "
            "accounts, the default in the Polkadot ecosystem, fail this way. " + SR25519_ADVICE
        )
    return openssh_public_line(public_key, comment)


# --- secrets and OpenSSH private keys --------------------------------------------------


def secret_kind(secret):
    """``suri`` (has a path or password), ``seed`` (64 hex digits, 0x optional) or ``mnemonic``."""
    text = secret.strip()
    if "/" in text:
        return "suri"
    if _RAW_SEED.fullmatch(text):
        return "seed"
    return "mnemonic"


def ssh_seed(secret, secret_type="auto"):
    """The ed25519 seed of a secret URI, mnemonic or raw seed, derived as Substrate does."""
    if not isinstance(secret, str) or not secret.strip():
        raise SshKeyError("the secret is empty")
    if secret_type not in SECRET_TYPES:
        raise SshKeyError(f"secret_type must be one of {', '.join(SECRET_TYPES)}")
    kind = secret_kind(secret)
    # Every mnemonic and seed is also a valid secret URI; the other types are strict.
    if secret_type in ("mnemonic", "seed") and kind != secret_type:
        raise SshKeyError(f"the secret is not a {secret_type}: it has the form of a {kind}")
    text = secret.strip()
    if kind == "seed":
        text = "0x" + text[-64:]
    try:
        return ed25519_seed(text)
    except SignerSecretError as exc:
        raise SshKeyError(str(exc)) from None


def ed25519_public_key(seed):
    """The 32-byte public key of a 32-byte ed25519 seed."""
    if not HAS_CRYPTOGRAPHY:
        raise SshKeyError(f"the python package cryptography is required: {CRYPTOGRAPHY_IMPORT_ERROR}")
    return Ed25519PrivateKey.from_private_bytes(bytes(seed)).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def openssh_private_key(seed, comment=""):
    """An unencrypted OpenSSH private key file (OpenSSH's PROTOCOL.key) of an ed25519 seed.

    Built here rather than with cryptography's serializer because that cannot store a
    comment, and ``ssh-keygen -y`` and ``ssh-add -l`` show the one inside the private key."""
    comment = check_comment(comment)
    public_key = ed25519_public_key(seed)
    check = os.urandom(4)
    private = (
        check
        + check
        + _ssh_string(_KEY_TYPE)
        + _ssh_string(public_key)
        + _ssh_string(bytes(seed) + public_key)
        + _ssh_string(comment.encode("utf-8"))
    )
    private += bytes(range(1, 1 + (-len(private)) % 8))
    body = (
        _AUTH_MAGIC
        + _ssh_string(b"none")
        + _ssh_string(b"none")
        + _ssh_string(b"")
        + struct.pack(">I", 1)
        + _ssh_string(openssh_public_blob(public_key))
        + _ssh_string(private)
    )
    text = base64.b64encode(body).decode("ascii")
    lines = [text[start:start + 70] for start in range(0, len(text), 70)]
    return ("\n".join([_PEM_BEGIN, *lines, _PEM_END]) + "\n").encode("ascii")


class _Reader:
    def __init__(self, data):
        self.data, self.offset = data, 0

    def take(self, length):
        if self.offset + length > len(self.data):
            raise SshKeyError("the OpenSSH private key is truncated")
        chunk = self.data[self.offset:self.offset + length]
        self.offset += length
        return chunk

    def uint32(self):
        return struct.unpack(">I", self.take(4))[0]

    def string(self):
        return self.take(self.uint32())

    def rest(self):
        return self.data[self.offset:]


def read_openssh_private_key(data):
    """(seed, public key, comment) of an unencrypted OpenSSH ed25519 private key file;
    SshKeyError for anything else (another key type, an encrypted key, not a key)."""
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise SshKeyError("the file is not an OpenSSH private key") from None
    if not (text.startswith(_PEM_BEGIN) and text.endswith(_PEM_END)):
        raise SshKeyError("the file is not an OpenSSH private key")
    try:
        body = base64.b64decode("".join(text[len(_PEM_BEGIN):-len(_PEM_END)].split()), validate=True)
    except binascii.Error:
        raise SshKeyError("the OpenSSH private key is not valid base64") from None
    outer = _Reader(body)
    if outer.take(len(_AUTH_MAGIC)) != _AUTH_MAGIC:
        raise SshKeyError("the file is not an OpenSSH private key")
    cipher, kdf, _kdf_options = outer.string(), outer.string(), outer.string()
    if cipher != b"none" or kdf != b"none":
        raise SshKeyError("the OpenSSH private key is encrypted")
    if outer.uint32() != 1:
        raise SshKeyError("the file holds more than one key")
    public_blob = outer.string()
    inner = _Reader(outer.string())
    first_check, second_check = inner.uint32(), inner.uint32()
    if first_check != second_check:
        raise SshKeyError("the OpenSSH private key is corrupt")
    if inner.string() != _KEY_TYPE:
        raise SshKeyError("the OpenSSH private key is not an ed25519 key")
    public_key, secret, comment = inner.string(), inner.string(), inner.string()
    padding = inner.rest()
    if (
        len(public_key) != 32
        or len(secret) != 64
        or secret[32:] != public_key
        or public_blob != openssh_public_blob(public_key)
        or padding != bytes(range(1, len(padding) + 1))
    ):
        raise SshKeyError("the OpenSSH private key is corrupt")
    try:
        return secret[:32], public_key, comment.decode("utf-8")
    except UnicodeDecodeError:
        raise SshKeyError("the OpenSSH private key's comment is not UTF-8") from None


# --- files -----------------------------------------------------------------------------


def read_key_file(path):
    """The bytes of a small key file, None if there is none; SshKeyError if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise SshKeyError(f"{path} is a directory, not a key file") from None
    except OSError as exc:
        raise SshKeyError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > _MAX_KEY_FILE:
        # Too large to be a key: treat as another file, never as ours.
        return data[:_MAX_KEY_FILE]
    return data


def write_file_atomically(path, data, mode):
    """files.write_atomically, with an SshKeyError that names the path but no content."""
    try:
        write_atomically(path, data, mode)
    except OSError as exc:
        raise SshKeyError(f"cannot write {path}: {exc.strerror or exc}") from None
