"""CID parsing and block verification (pure)."""
import hashlib

import pytest

from ansible_collections.dinfra.chain.plugins.module_utils.base58 import b58decode, b58encode
from ansible_collections.dinfra.chain.plugins.module_utils.cid import (
    DAG_PB,
    RAW,
    CidError,
    ContentMismatch,
    parse_cid,
    raw_cid,
    verify_block,
)

# Well-known CIDs, published in IPFS docs and specs: the empty raw block, and the empty
# UnixFS directory as CIDv0.
EMPTY_RAW = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
EMPTY_DIR_V0 = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"


def test_raw_cid_of_empty_block_is_the_well_known_one():
    assert str(raw_cid(b"")) == EMPTY_RAW


def test_cidv1_raw_round_trips():
    cid = parse_cid(EMPTY_RAW)
    assert (cid.version, cid.codec, cid.digest) == (1, RAW, hashlib.sha256(b"").digest())
    assert str(cid) == EMPTY_RAW


def test_cidv0_round_trips_and_is_dag_pb():
    cid = parse_cid(EMPTY_DIR_V0)
    assert (cid.version, cid.codec) == (0, DAG_PB)
    assert str(cid) == EMPTY_DIR_V0


def test_other_multibases_name_the_same_cid():
    cid = parse_cid(EMPTY_RAW)
    body = bytes([1, RAW, 0x12, 32]) + cid.digest
    assert parse_cid("z" + b58encode(body)) == cid
    assert parse_cid("f" + body.hex()) == cid


def test_base58_keeps_leading_zero_bytes():
    data = b"\0\0\x01\x02"
    assert b58decode(b58encode(data)) == data


@pytest.mark.parametrize("text, message", [
    ("", "non-empty"),
    (None, "non-empty"),
    ("x" * 300, "at most 256"),
    ("mAXASIA", "unsupported multibase"),
    ("bafkqaaa", "only sha2-256"),  # identity multihash: nothing to verify
    ("bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", "must be a file"),  # dag-cbor
    ("bafkreigh2akiscaild", "malformed"),
    ("Qm" + "1" * 44, "malformed"),
    ("b!!!!", "bad multibase"),
])
def test_unverifiable_cids_are_refused_by_name(text, message):
    with pytest.raises(CidError, match=message):
        parse_cid(text)


def test_verify_block_accepts_only_the_named_bytes():
    cid = raw_cid(b"descriptor")
    verify_block(cid, b"descriptor")
    with pytest.raises(ContentMismatch, match="do not match"):
        verify_block(cid, b"descriptor ")
