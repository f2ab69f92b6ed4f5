# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Content identifiers, and checking bytes against them.

Everything fetched from IPFS is checked here, locally, so that a lying gateway is caught:
a block is accepted only if its sha2-256 digest is the one its CID names. Only the CIDs
that Kubo makes for files are accepted: CIDv0 (dag-pb), and CIDv1 with codec raw or dag-pb,
all with sha2-256. Anything else is refused by name rather than trusted.
"""

from __future__ import annotations

import base64
import hashlib

from .base58 import b58decode, b58encode

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
CODEC_NAMES = {RAW: "raw", DAG_PB: "dag-pb"}

_MAX_CID_TEXT = 256


class CidError(ValueError):
    """A text that is not a CID this collection can verify."""


class ContentMismatch(ValueError):
    """Bytes that are not the ones their CID names: a gateway or cache lied."""


class Cid:
    """A parsed CID: version, codec and sha2-256 digest."""

    __slots__ = ("version", "codec", "digest")

    def __init__(self, version, codec, digest):
        self.version, self.codec, self.digest = version, codec, digest

    def __eq__(self, other):
        return isinstance(other, Cid) and (self.version, self.codec, self.digest) == (
            other.version, other.codec, other.digest)

    def __hash__(self):
        return hash((self.version, self.codec, self.digest))

    def __str__(self):
        multihash = bytes([SHA2_256, 32]) + self.digest
        if self.version == 0:
            return b58encode(multihash)
        body = _varint(1) + _varint(self.codec) + multihash
        return "b" + base64.b32encode(body).decode("ascii").lower().rstrip("=")

    def __repr__(self):
        return f"Cid({self})"

    @property
    def codec_name(self):
        return CODEC_NAMES[self.codec]


def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data, pos):
    """The unsigned LEB128 integer at ``data[pos:]`` and the position after it."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated or oversized varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def base58_decode(text):
    try:
        return b58decode(text)
    except ValueError:
        raise CidError("a CID in base58 has a character outside the base58 alphabet") from None


def _multibase_decode(text):
    prefix, rest = text[0], text[1:]
    try:
        if prefix == "b":
            return base64.b32decode(rest.upper() + "=" * (-len(rest) % 8))
        if prefix == "B":
            return base64.b32decode(rest + "=" * (-len(rest) % 8))
        if prefix == "z":
            return base58_decode(rest)
        if prefix in "fF":
            return bytes.fromhex(rest)
    except (ValueError, TypeError) as exc:
        raise CidError(f"bad multibase {prefix!r} text: {exc}") from None
    raise CidError(f"unsupported multibase prefix {prefix!r} (use base32 'b...', base58 'z...' or CIDv0 'Qm...')")


def _read_multihash(data, pos, what):
    code, pos = read_varint(data, pos)
    length, pos = read_varint(data, pos)
    if code != SHA2_256:
        raise CidError(f"{what} uses multihash 0x{code:x}; only sha2-256 (0x12) can be verified here")
    digest = data[pos:pos + length]
    if length != 32 or len(digest) != 32 or pos + length != len(data):
        raise CidError(f"{what} has a malformed sha2-256 multihash")
    return digest


def parse_cid(text):
    """Parses a CID given as text; raises CidError for anything that cannot be verified."""
    if not isinstance(text, str) or not text or len(text) > _MAX_CID_TEXT:
        raise CidError("a CID must be a non-empty string of at most 256 characters")
    text = text.strip()
    if len(text) == 46 and text.startswith("Qm"):
        return Cid(0, DAG_PB, _read_multihash(base58_decode(text), 0, f"CID {text}"))
    raw = _multibase_decode(text)
    try:
        version, pos = read_varint(raw, 0)
        if version != 1:
            raise CidError(f"CID {text} has version {version}; expected 1 (or a CIDv0 'Qm...')")
        codec, pos = read_varint(raw, pos)
        if codec not in CODEC_NAMES:
            raise CidError(f"CID {text} has codec 0x{codec:x}; a descriptor must be a file (raw or dag-pb)")
        return Cid(1, codec, _read_multihash(raw, pos, f"CID {text}"))
    except ValueError as exc:
        if isinstance(exc, CidError):
            raise
        raise CidError(f"CID {text} is malformed: {exc}") from None


def raw_cid(data):
    """The CIDv1 (raw, sha2-256) of one block of bytes: what `ipfs add --cid-version 1`
    gives a file that fits in one chunk."""
    return Cid(1, RAW, hashlib.sha256(data).digest())


def verify_block(cid, data):
    """Raises ContentMismatch unless ``data`` is the block ``cid`` names."""
    if hashlib.sha256(data).digest() != cid.digest:
        raise ContentMismatch(
            f"the bytes received for {cid} do not match it (sha2-256 {hashlib.sha256(data).hexdigest()}); "
            "the gateway returned other content"
        )
