# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Access to a DINFRA chain for the dinfra.chain plugins: reads at a chosen block, signed
submissions, and errors that keep "the node failed" apart from "the chain says nothing".

That distinction is the point of this module. A reactor that took an RPC failure for "no
deployments" would tear down customers' machines, so every failure to talk to the node,
or to decode its answer, raises ChainUnavailable; only a successful read returns None or an
empty list.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows controllers
    fcntl = None

try:
    from substrateinterface import SubstrateInterface
    from substrateinterface.base import ExtrinsicReceipt
    from substrateinterface.exceptions import SubstrateRequestException

    HAS_SUBSTRATE_INTERFACE = True
    SUBSTRATE_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the callers
    HAS_SUBSTRATE_INTERFACE = False
    SUBSTRATE_IMPORT_ERROR = exc

    class SubstrateRequestException(Exception):
        """Stands in for substrate-interface's exception when it is missing; never raised."""

from .chain_storage import StorageItem, StorageLayoutError

PROVIDERS = "DinfraProviders"
SUBSCRIPTIONS = "DinfraSubscriptions"

READ_AT_CHOICES = ("finalized", "best")
WAIT_FOR_CHOICES = ("inclusion", "finalization")

# JSON-RPC errors on submission after which the transaction is certainly not in the pool,
# so signing it again (with a fresh nonce) cannot apply it twice.
_RETRYABLE_SUBMIT_ERRORS = ("Priority is too low", "Transaction is outdated", "stale")
SUBMIT_ATTEMPTS = 3
# How long the signer's last nonce is remembered (SignerLock).
NONCE_MEMORY = 30
# Extrinsic statuses after which the node sends no more (Substrate's TransactionStatus).
_WATCH_ENDS = ("dropped", "invalid", "usurped", "finalitytimeout", "retracted")
# Storage keys per state_queryStorageAt call.
QUERY_BATCH = 1000


class ChainError(Exception):
    """Base of every error this module raises."""


class ChainUnavailable(ChainError):
    """The node could not be reached, failed, or answered with something undecodable.
    Nothing may be concluded about chain state."""


class ExtrinsicFailed(ChainError):
    """The chain included the extrinsic and its dispatch failed with a pallet error."""

    def __init__(self, pallet, error, docs, block_hash=None):
        self.pallet, self.error, self.docs, self.block_hash = pallet, error, docs, block_hash
        super().__init__(f"{pallet}.{error}: {docs}" if docs else f"{pallet}.{error}")


class ExtrinsicRejected(ChainError):
    """The node refused the extrinsic before inclusion (bad signature, cannot pay fees...)."""


class ExtrinsicUncertain(ChainError):
    """The extrinsic may or may not have been applied: the connection failed after it was
    sent. Read the chain again before acting on the outcome."""


def _describe(exc):
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= 500 else text[:500] + "..."


# The decoded runtime (metadata and type registry) of a closed connection, kept for the next
# client of the same node in this process, which reconnects it instead of fetching and decoding
# the metadata again (about 0.25 s). ansible-playbook decodes it when it reads the deployments
# inventory, and the workers it forks for each task inherit it, so a chain module running in the
# controller starts warm. A client still asks the node for the runtime version at each block it
# reads at, and decodes the new metadata after a runtime upgrade, as a long-lived one does.
_IDLE_RUNTIMES = {}


class ChainClient:
    """One connection to a node. Reads go to the finalised head by default, or to the best
    head with ``read_at='best'``; submissions wait for inclusion or finalisation."""

    def __init__(self, url, timeout=30, read_at="finalized", wait_for="finalization"):
        if not HAS_SUBSTRATE_INTERFACE:
            raise ChainError(f"the python package substrate-interface is required: {SUBSTRATE_IMPORT_ERROR}")
        if not url or not url.startswith(("ws://", "wss://")):
            raise ChainError(f"node_url must be a ws:// or wss:// URL, got {url!r}")
        if read_at not in READ_AT_CHOICES:
            raise ChainError(f"read_at must be one of {', '.join(READ_AT_CHOICES)}")
        if wait_for not in WAIT_FOR_CHOICES:
            raise ChainError(f"wait_for must be one of {', '.join(WAIT_FOR_CHOICES)}")
        self.url, self.timeout, self.read_at, self.wait_for = url, timeout, read_at, wait_for
        self._substrate = None
        self._items = {}

    # ---- connection ----

    @property
    def substrate(self):
        if self._substrate is None:
            idle = _IDLE_RUNTIMES.pop((self.url, self.timeout), None)
            if idle is not None:
                with contextlib.suppress(Exception):  # a failed reconnect connects anew below
                    idle.connect_websocket()
                    self._substrate = idle
                    return idle
            try:
                self._substrate = SubstrateInterface(url=self.url, ws_options={"timeout": self.timeout})
            except Exception as exc:
                raise ChainUnavailable(f"cannot connect to {self.url}: {_describe(exc)}") from exc
        return self._substrate

    def close(self):
        if self._substrate is not None:
            with contextlib.suppress(Exception):
                self._substrate.close()
                if self._substrate.metadata is not None:
                    _IDLE_RUNTIMES[(self.url, self.timeout)] = self._substrate
            self._substrate = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, what, fn, *args, **kwargs):
        """Runs one RPC-backed operation; any failure becomes ChainUnavailable."""
        try:
            return fn(*args, **kwargs)
        except ChainError:
            raise
        except Exception as exc:
            raise ChainUnavailable(f"{what} failed on {self.url}: {_describe(exc)}") from exc

    # ---- reads ----

    def head(self):
        """The hash and number of the block reads are made at (finalised or best head)."""
        get = self.substrate.get_chain_finalised_head if self.read_at == "finalized" else self.substrate.get_chain_head
        block_hash = self._call("reading the chain head", get)
        if not block_hash:
            raise ChainUnavailable(f"{self.url} returned no chain head")
        number = self._call("reading the head's number", self.substrate.get_block_number, block_hash)
        if number is None:
            raise ChainUnavailable(f"{self.url} returned no header for {block_hash}")
        return block_hash, number

    def block_hash(self, number):
        """The hash of block ``number`` of the canonical chain; raises if the node has none, as
        for a number above its head, since a caller asks only for blocks it knows exist."""
        found = self._call(f"reading the hash of block {number}", self.substrate.get_block_hash, number)
        if not found:
            raise ChainUnavailable(f"{self.url} has no block {number}")
        return found

    def events(self, block_hash):
        """[(pallet, event, attributes)] of every event of the block ``block_hash``, decoded
        against the runtime of that block."""
        raw = self.query("System", "Events", [], block_hash)
        try:
            return [
                (e["event"]["module_id"], e["event"]["event_id"], e["event"].get("attributes"))
                for e in raw or []
            ]
        except (TypeError, KeyError) as exc:
            raise ChainUnavailable(f"the events of block {block_hash} on {self.url} are malformed") from exc

    def query(self, pallet, item, params, block_hash):
        """A storage value at ``block_hash``, decoded; None when the chain holds none."""
        result = self._call(
            f"reading {pallet}.{item}", self.substrate.query, pallet, item, params, block_hash=block_hash
        )
        return result.value

    def storage_item(self, pallet, item, block_hash):
        """``pallet.item``'s layout in the runtime at ``block_hash`` (one metadata look-up per
        item and runtime; see module_utils/chain_storage.py)."""
        self._call("loading the runtime", self.substrate.init_runtime, block_hash=block_hash)
        cache_key = (self.substrate.runtime_version, pallet, item)
        found = self._items.get(cache_key)
        if found is None:
            try:
                found = StorageItem(pallet, item, self.substrate.metadata, self.substrate.runtime_config)
            except StorageLayoutError as exc:
                raise ChainUnavailable(f"{exc}: is the collection older than the runtime?") from None
            self._items[cache_key] = found
        return found

    def query_keys(self, pallet, item, params, block_hash, limit):
        """The last keys of the entries of a map under ``params`` (its leading keys), at most
        ``limit`` of them, without their values. Raises ChainUnavailable if there are more, rather
        than return a silently truncated list. Pages hold at most the 1,000 keys a node serves."""
        storage = self.storage_item(pallet, item, block_hash)
        prefix = "0x" + self._call(f"building a key of {pallet}.{item}", storage.key, params).hex()
        keys, start = [], None
        while True:
            wanted = min(limit + 1 - len(keys), 1000)
            page = self._call(
                f"listing {pallet}.{item}", self._rpc, "state_getKeysPaged", [prefix, wanted, start, block_hash]
            )
            if not isinstance(page, list) or not all(isinstance(k, str) and k.startswith(prefix) for k in page):
                raise ChainUnavailable(f"listing {pallet}.{item} on {self.url} returned keys outside the prefix")
            for storage_key in page:
                keys.append(self._call(
                    f"decoding a key of {pallet}.{item}", storage.last_key, bytes.fromhex(storage_key[len(prefix):])
                ))
            if len(page) < wanted or len(keys) > limit:
                break
            start = page[-1]
        if len(keys) > limit:
            raise ChainUnavailable(f"{pallet}.{item} has more than {limit} entries; raise the limit to read them all")
        return keys

    def query_many(self, pallet, item, keys, block_hash):
        """{key: value} of ``pallet.item`` for each key in ``keys`` (a single key each, or a list
        of keys for a map of several); None where the chain holds none. One batched RPC call per
        1,000 keys, and no call to build the keys."""
        storage = self.storage_item(pallet, item, block_hash)
        values = {}
        for start in range(0, len(keys), QUERY_BATCH):
            chunk = keys[start:start + QUERY_BATCH]
            storage_keys = {
                "0x" + self._call(
                    f"building a key of {pallet}.{item}", storage.key, list(k) if isinstance(k, (list, tuple)) else [k]
                ).hex(): k
                for k in chunk
            }
            answer = self._call(
                f"reading {pallet}.{item}", self._rpc, "state_queryStorageAt", [list(storage_keys), block_hash]
            )
            changes = {}
            try:
                for change_set in answer:
                    changes.update(dict(change_set["changes"]))
            except (TypeError, KeyError, ValueError) as exc:
                raise ChainUnavailable(f"reading {pallet}.{item} on {self.url} returned a malformed answer") from exc
            for storage_key, key in storage_keys.items():
                # A key the node leaves out of its answer is one it does not hold.
                data = changes.get(storage_key)
                values[key if not isinstance(key, list) else tuple(key)] = (
                    None if data is None else self._call(f"decoding {pallet}.{item}", storage.value, data)
                )
        return values

    def query_entries(self, pallet, item, params, block_hash, limit):
        """[(last key, value)] of the entries of a map under ``params``, at most ``limit``."""
        keys = self.query_keys(pallet, item, params, block_hash, limit)
        values = self.query_many(pallet, item, [list(params) + [k] for k in keys], block_hash)
        return [(k, values[tuple(list(params) + [k])]) for k in keys]

    def _rpc(self, method, params):
        """One JSON-RPC call's result; an error answer raises."""
        answer = self.substrate.rpc_request(method, params)
        if "error" in answer:
            raise ChainUnavailable(f"{method} failed on {self.url}: {_describe(answer['error'])}")
        return answer.get("result")

    def constant(self, pallet, name):
        return self._call(f"reading {pallet}.{name}", self.substrate.get_constant, pallet, name).value

    # ---- writes ----

    def submit(self, signer, pallet, call, params):
        """Signs ``pallet.call(params)`` with ``signer``, submits it, and waits for inclusion
        or finalisation. Returns a dict: block_hash, extrinsic_hash, events.

        Raises ExtrinsicFailed when the dispatch failed (with the pallet's error name and
        docs), ExtrinsicRejected when the node refused it, ExtrinsicUncertain when the
        connection failed after sending, ChainUnavailable when nothing was sent.
        """
        composed = self._call(
            f"composing {pallet}.{call}", self.substrate.compose_call, call_module=pallet, call_function=call,
            call_params=params,
        )
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            # Serialise this signer's submissions on this controller, so that parallel hosts
            # of one playbook run never pick the same nonce. The lock is held only until the
            # node's pool has the extrinsic: from then on the node counts it in the next nonce
            # (system_accountNextIndex), so the wait for its block happens outside the lock.
            lock = SignerLock(signer.ss58_address)
            lock.acquire()
            try:
                nonce = lock.next_nonce(self._call(
                    "reading the signer's next nonce", self.substrate.rpc_request, "system_accountNextIndex",
                    [signer.ss58_address],
                )["result"])
                extrinsic = self._call(
                    "signing", self.substrate.create_signed_extrinsic, call=composed, keypair=signer, nonce=nonce
                )
                lock.used(nonce)
                try:
                    receipt = self._submit_and_watch(extrinsic, on_pooled=lock.release)
                except SubstrateRequestException as exc:
                    message = _describe(exc)
                    if any(marker in message for marker in _RETRYABLE_SUBMIT_ERRORS) and attempt < SUBMIT_ATTEMPTS:
                        continue
                    if "dropped" in message.lower():
                        raise ExtrinsicUncertain(f"{pallet}.{call} was dropped from the pool: {message}") from exc
                    raise ExtrinsicRejected(f"the node refused {pallet}.{call}: {message}") from exc
                except ChainError:
                    raise
                except Exception as exc:
                    raise ExtrinsicUncertain(
                        f"{pallet}.{call} was sent but its outcome is unknown ({_describe(exc)}); "
                        "read the chain before retrying"
                    ) from exc
            finally:
                lock.release()
            return self._outcome(pallet, call, receipt)

    def _submit_and_watch(self, extrinsic, on_pooled):
        """Submits ``extrinsic`` and follows it to inclusion or finality (``wait_for``); calls
        ``on_pooled`` as soon as the node reports the first status, which it sends once its pool
        holds the extrinsic. Returns an ExtrinsicReceipt. A refusal at submission raises
        SubstrateRequestException; a status that ends the watch without a block raises
        ExtrinsicUncertain, since a dropped or usurped extrinsic may still be in some pool."""
        wanted = ("finalized",) if self.wait_for == "finalization" else ("inblock", "finalized")
        extrinsic_hash = "0x" + extrinsic.extrinsic_hash.hex()

        def follow(message, _update_nr, subscription_id):
            status = (message.get("params") or {}).get("result")
            on_pooled()
            if isinstance(status, dict):
                status = {str(k).lower(): v for k, v in status.items()}
                for name in wanted:
                    if name in status:
                        with contextlib.suppress(Exception):
                            self.substrate.rpc_request("author_unwatchExtrinsic", [subscription_id])
                        return {"block_hash": status[name], "finalized": name == "finalized"}
                ended = next((k for k in status if k in _WATCH_ENDS), None)
            else:
                ended = str(status).lower() if str(status).lower() in _WATCH_ENDS else None
            if ended:
                raise ExtrinsicUncertain(
                    f"the node stopped following extrinsic {extrinsic_hash} ({ended}) before it was in a block; "
                    "read the chain before retrying"
                )
            return None

        answer = self.substrate.rpc_request(
            "author_submitAndWatchExtrinsic", [str(extrinsic.data)], result_handler=follow
        )
        return ExtrinsicReceipt(
            substrate=self.substrate, extrinsic_hash=extrinsic_hash, block_hash=answer["block_hash"],
            finalized=answer["finalized"],
        )

    def _outcome(self, pallet, call, receipt):
        try:
            success = receipt.is_success
            events = [
                {
                    "pallet": e.value["event"]["module_id"],
                    "event": e.value["event"]["event_id"],
                    "attributes": e.value["event"]["attributes"],
                }
                for e in receipt.triggered_events
            ]
            error = receipt.error_message
        except Exception as exc:
            raise ExtrinsicUncertain(
                f"{pallet}.{call} was included in {receipt.block_hash} but its events could not be read: "
                f"{_describe(exc)}"
            ) from exc
        if not success:
            raise ExtrinsicFailed(*dispatch_error(error, events, self._pallet_name), block_hash=receipt.block_hash)
        return {"block_hash": receipt.block_hash, "extrinsic_hash": receipt.extrinsic_hash, "events": events}

    def _pallet_name(self, index):
        for pallet in self.substrate.metadata.pallets:
            if pallet["index"] == index:
                return pallet.name
        return f"Pallet{index}"


def dispatch_error(error_message, events, pallet_name):
    """(pallet, error, docs) of a failed dispatch. substrate-interface names module errors
    (the pallet comes from the index in the ExtrinsicFailed event, via ``pallet_name``); for
    the others (Token, Arithmetic, ...) the ExtrinsicFailed event carries the variant."""
    if error_message and error_message.get("name"):
        docs = error_message.get("docs") or []
        pallet = "System"
        for e in events:
            if e["event"] == "ExtrinsicFailed":
                dispatch = e["attributes"].get("dispatch_error")
                module = dispatch.get("Module") if isinstance(dispatch, dict) else None
                if isinstance(module, dict) and "index" in module:
                    pallet = pallet_name(module["index"])
        return pallet, error_message["name"], " ".join(docs) if isinstance(docs, list) else str(docs)
    for e in events:
        if e["event"] == "ExtrinsicFailed":
            dispatch = e["attributes"].get("dispatch_error")
            if isinstance(dispatch, dict):
                kind, detail = next(iter(dispatch.items()))
                return "System", kind, str(detail)
            return "System", str(dispatch), ""
    return "System", "UnknownDispatchError", ""


def event_attributes(result, pallet, event):
    """The attributes of the first ``pallet.event`` in a submission result, or None."""
    for e in result["events"]:
        if e["pallet"] == pallet and e["event"] == event:
            return e["attributes"]
    return None


class SignerLock:
    """An exclusive lock per signer account on this controller (no-op without fcntl), held
    from the nonce read until the node's pool holds the extrinsic. ``release`` may be called
    more than once.

    The lock file also keeps the last nonce used, for NONCE_MEMORY seconds. A node counts the
    extrinsics in its pool in ``system_accountNextIndex``, but not every node does so at every
    instant (one behind a load balancer may not have seen the extrinsic yet; the dev chain
    forgets it while it builds its block), and two extrinsics with one nonce means one of them
    is lost. The next nonce is therefore the larger of the node's and the one after the last
    used. The memory is short so that an extrinsic the pool dropped leaves no lasting gap."""

    def __init__(self, address):
        name = hashlib.sha256(address.encode()).hexdigest()[:16]
        self.path = os.path.join(tempfile.gettempdir(), f"dinfra-signer-{name}.lock")
        self._handle = None

    def acquire(self):
        if fcntl is None:  # pragma: no cover
            return
        self._handle = open(self.path, "a+", encoding="ascii")  # pylint: disable=consider-using-with
        fcntl.flock(self._handle, fcntl.LOCK_EX)

    def next_nonce(self, node_nonce):
        """The nonce to sign with, given the node's ``system_accountNextIndex``."""
        if not isinstance(node_nonce, int) or node_nonce < 0:
            raise ChainUnavailable(f"the node answered {node_nonce!r} for the signer's next nonce")
        if self._handle is None:
            return node_nonce
        self._handle.seek(0)
        used, _sep, at = self._handle.read(64).strip().partition(" ")
        try:
            # The time is written rounded to the millisecond, so a nonce used just now may look
            # up to a millisecond younger than zero; a second of slack also covers small clock steps.
            if -1.0 < time.time() - float(at) < NONCE_MEMORY:
                return max(node_nonce, int(used) + 1)
        except ValueError:
            pass  # empty or foreign content: the node's answer alone
        return node_nonce

    def used(self, nonce):
        """Remembers that ``nonce`` was just signed with."""
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.write(f"{nonce} {time.time():.3f}")
            self._handle.flush()

    def release(self):
        if self._handle is not None:
            handle, self._handle = self._handle, None
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
