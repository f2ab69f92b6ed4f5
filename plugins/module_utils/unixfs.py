# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Just enough of dag-pb and UnixFS to reassemble a file from verified blocks.

A file that Kubo splits into chunks has a dag-pb root whose links name the chunks by CID.
Reading the links lets every chunk be fetched and verified on its own, so a multi-block
descriptor is checked as strictly as a single block.
"""

from __future__ import annotations

from .cid import DAG_PB, SHA2_256, Cid, CidError, read_varint

# UnixFS Data.Type values that carry file bytes.
_UNIXFS_RAW, _UNIXFS_FILE = 0, 2
_UNIXFS_TYPE_NAMES = {1: "a directory", 3: "metadata", 4: "a symlink", 5: "a sharded directory"}


class DagError(ValueError):
    """A block that is not a UnixFS file node."""


def _fields(data):
    """(field number, wire type, value) of each protobuf field in ``data``."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(data, pos)
        elif wire == 2:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated length-delimited field")
            value, pos = data[pos:pos + length], pos + length
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
        yield number, wire, value


def _link_cid(link_bytes):
    for number, wire, value in _fields(link_bytes):
        if number == 1 and wire == 2:
            return _binary_cid(value)
    raise DagError("a dag-pb link has no hash")


def _binary_cid(raw):
    if raw[:2] == bytes([SHA2_256, 32]):
        return _cid_v0_bytes(raw)
    version, pos = read_varint(raw, 0)
    if version != 1:
        raise DagError(f"a dag-pb link has CID version {version}")
    codec, pos = read_varint(raw, pos)
    code, pos = read_varint(raw, pos)
    length, pos = read_varint(raw, pos)
    if code != SHA2_256 or length != 32 or len(raw) != pos + 32:
        raise DagError("a dag-pb link does not use a sha2-256 CID")
    return Cid(1, codec, raw[pos:])


def _cid_v0_bytes(raw):
    if len(raw) != 34:
        raise DagError("a dag-pb link has a malformed CIDv0")
    return Cid(0, DAG_PB, raw[2:])


def file_node(block):
    """Decodes a dag-pb block that is a UnixFS file: returns (inline bytes, [child CIDs])."""
    try:
        links, unixfs = [], None
        for number, wire, value in _fields(block):
            if number == 2 and wire == 2:
                links.append(_link_cid(value))
            elif number == 1 and wire == 2:
                unixfs = value
        if unixfs is None:
            raise DagError("the dag-pb node has no UnixFS data")
        kind, inline = None, b""
        for number, wire, value in _fields(unixfs):
            if number == 1 and wire == 0:
                kind = value
            elif number == 2 and wire == 2:
                inline = value
    except (ValueError, CidError) as exc:
        if isinstance(exc, DagError):
            raise
        raise DagError(f"the dag-pb node is malformed: {exc}") from None
    if kind not in (_UNIXFS_RAW, _UNIXFS_FILE):
        what = _UNIXFS_TYPE_NAMES.get(kind, f"UnixFS type {kind}")
        raise DagError(f"the CID names {what}, not a file")
    return inline, links
