# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Storage keys and values of one storage item, worked out once from the runtime's metadata.

substrate-interface builds every storage key through ``create_storage_key``, which
re-initialises the runtime (three RPC calls) for each key, and its ``query_map`` fetches the
values of an index whose values are all ``()``. A read of 10,000 deployments paid 30,000
needless calls that way (docs/performance.md). A :class:`StorageItem` looks the item up in the
metadata once; after that a key costs one SCALE encoding and one hash, with no RPC at all.
"""

from __future__ import annotations

try:
    from scalecodec.base import ScaleBytes
    from substrateinterface.utils.hasher import (
        blake2_128, blake2_128_concat, blake2_256, identity, two_x64_concat, xxh128,
    )

    # What each hasher does to an encoded key, and how many hash bytes come before the encoded
    # key itself in the storage key (None: the key cannot be read back from its storage key).
    _HASHERS = {
        "Blake2_128": (blake2_128, None),
        "Blake2_256": (blake2_256, None),
        "Blake2_128Concat": (blake2_128_concat, 16),
        "Twox128": (xxh128, None),
        "Twox64Concat": (two_x64_concat, 8),
        "Identity": (identity, 0),
    }
except ImportError:  # pragma: no cover - ChainClient reports the missing package
    ScaleBytes = None
    _HASHERS = {}


class StorageLayoutError(Exception):
    """The metadata does not describe the item as this code expects (unknown item or hasher)."""


class StorageItem:
    """``pallet.item`` as the runtime whose ``metadata`` and ``runtime_config`` are given lays it
    out. Valid for that runtime only: build a new one after a runtime upgrade."""

    def __init__(self, pallet, item, metadata, runtime_config):
        metadata_pallet = metadata.get_metadata_pallet(pallet)
        function = metadata_pallet.get_storage_function(item) if metadata_pallet else None
        if function is None:
            raise StorageLayoutError(f"the runtime has no storage item {pallet}.{item}")
        self.name = f"{pallet}.{item}"
        self._metadata, self._config = metadata, runtime_config
        self.prefix = bytes(xxh128(metadata_pallet.value["storage"]["prefix"].encode()) + xxh128(item.encode()))
        self.param_types = function.get_params_type_string()
        self.hashers = function.get_param_hashers() or []
        self.value_type = function.get_value_type_string()
        unknown = [h for h in self.hashers if h not in _HASHERS]
        if unknown:
            raise StorageLayoutError(f"{self.name} uses hashers this collection does not know: {unknown}")

    def key(self, params):
        """The storage key (bytes) of the entry at ``params`` (all of them, or a leading part of
        them for the prefix of a map's entries under those keys)."""
        if len(params) > len(self.param_types):
            raise StorageLayoutError(f"{self.name} takes {len(self.param_types)} keys, got {len(params)}")
        key = self.prefix  # bytes: each += below makes a new object
        for param_type, hasher, value in zip(self.param_types, self.hashers, params):
            if param_type in ("AccountId", "AccountId32") and isinstance(value, str) and not value.startswith("0x"):
                # SS58 to the raw account id, as substrate-interface does.
                from substrateinterface.utils.ss58 import ss58_decode
                value = "0x" + ss58_decode(value, self._config.ss58_format)
            encoded = self._config.create_scale_object(param_type).encode(value)
            key += bytes(_HASHERS[hasher][0](encoded.data))
        return key

    def last_key(self, suffix):
        """The last key of an entry, from what follows the prefix its listing was made under
        (``key(params[:-1])``): the last hasher must keep the key readable (a concat hasher)."""
        offset = _HASHERS[self.hashers[-1]][1] if self.hashers else None
        if offset is None:
            raise StorageLayoutError(f"{self.name}: its last key cannot be read back from a storage key")
        return self._decode(self.param_types[-1], suffix[offset:])

    def value(self, data):
        """A stored value (bytes or 0x-hex) decoded to plain Python data."""
        return self._decode(self.value_type, data)

    def _decode(self, type_string, data):
        if isinstance(data, str):
            data = bytes.fromhex(data[2:] if data.startswith("0x") else data)
        obj = self._config.create_scale_object(type_string, data=ScaleBytes(data), metadata=self._metadata)
        value = obj.decode(check_remaining=True)
        return value
