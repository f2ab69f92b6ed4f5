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

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows controllers
    fcntl = None

try:
    from substrateinterface import SubstrateInterface
    from substrateinterface.exceptions import SubstrateRequestException

    HAS_SUBSTRATE_INTERFACE = True
    SUBSTRATE_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the callers
    HAS_SUBSTRATE_INTERFACE = False
    SUBSTRATE_IMPORT_ERROR = exc

    class SubstrateRequestException(Exception):
        """Stands in for substrate-interface's exception when it is missing; never raised."""

PROVIDERS = "DinfraProviders"
SUBSCRIPTIONS = "DinfraSubscriptions"

READ_AT_CHOICES = ("finalized", "best")
WAIT_FOR_CHOICES = ("inclusion", "finalization")

# JSON-RPC errors on submission after which the transaction is certainly not in the pool,
# so signing it again (with a fresh nonce) cannot apply it twice.
_RETRYABLE_SUBMIT_ERRORS = ("Priority is too low", "Transaction is outdated", "stale")
SUBMIT_ATTEMPTS = 3


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

    # ---- connection ----

    @property
    def substrate(self):
        if self._substrate is None:
            try:
                self._substrate = SubstrateInterface(url=self.url, ws_options={"timeout": self.timeout})
            except Exception as exc:
                raise ChainUnavailable(f"cannot connect to {self.url}: {_describe(exc)}") from exc
        return self._substrate

    def close(self):
        if self._substrate is not None:
            with contextlib.suppress(Exception):
                self._substrate.close()
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

    def query(self, pallet, item, params, block_hash):
        """A storage value at ``block_hash``, decoded; None when the chain holds none."""
        result = self._call(
            f"reading {pallet}.{item}", self.substrate.query, pallet, item, params, block_hash=block_hash
        )
        return result.value

    def query_keys(self, pallet, item, params, block_hash, limit):
        """The (key, value) pairs of a map under ``params``, at most ``limit`` of them. Raises
        ChainUnavailable if there are more, rather than return a silently truncated list."""

        def collect():
            pairs = []
            result = self.substrate.query_map(
                pallet, item, params, block_hash=block_hash, page_size=min(limit + 1, 1000), max_results=limit + 1
            )
            for key, value in result:
                pairs.append((key.value, value.value))
            return pairs

        pairs = self._call(f"listing {pallet}.{item}", collect)
        if len(pairs) > limit:
            raise ChainUnavailable(f"{pallet}.{item} has more than {limit} entries; raise the limit to read them all")
        return pairs

    def query_many(self, pallet, item, keys, block_hash):
        """Values of ``pallet.item`` for each key in ``keys`` (one batched RPC call per 250)."""

        def fetch(chunk):
            storage_keys = [self.substrate.create_storage_key(pallet, item, [k]) for k in chunk]
            return [value.value for _key, value in self.substrate.query_multi(storage_keys, block_hash=block_hash)]

        values = []
        for start in range(0, len(keys), 250):
            values.extend(self._call(f"reading {pallet}.{item}", fetch, keys[start:start + 250]))
        return dict(zip(keys, values))

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
            # of one playbook run never pick the same nonce.
            with signer_lock(signer.ss58_address):
                nonce = self._call(
                    "reading the signer's next nonce", self.substrate.rpc_request, "system_accountNextIndex",
                    [signer.ss58_address],
                )["result"]
                extrinsic = self._call(
                    "signing", self.substrate.create_signed_extrinsic, call=composed, keypair=signer, nonce=nonce
                )
                try:
                    receipt = self.substrate.submit_extrinsic(
                        extrinsic,
                        wait_for_inclusion=self.wait_for == "inclusion",
                        wait_for_finalization=self.wait_for == "finalization",
                    )
                except SubstrateRequestException as exc:
                    message = _describe(exc)
                    if any(marker in message for marker in _RETRYABLE_SUBMIT_ERRORS) and attempt < SUBMIT_ATTEMPTS:
                        continue
                    if "dropped" in message.lower():
                        raise ExtrinsicUncertain(f"{pallet}.{call} was dropped from the pool: {message}") from exc
                    raise ExtrinsicRejected(f"the node refused {pallet}.{call}: {message}") from exc
                except Exception as exc:
                    raise ExtrinsicUncertain(
                        f"{pallet}.{call} was sent but its outcome is unknown ({_describe(exc)}); "
                        "read the chain before retrying"
                    ) from exc
            return self._outcome(pallet, call, receipt)

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


@contextlib.contextmanager
def signer_lock(address):
    """An exclusive lock per signer account on this controller (no-op without fcntl)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    name = hashlib.sha256(address.encode()).hexdigest()[:16]
    path = os.path.join(tempfile.gettempdir(), f"dinfra-signer-{name}.lock")
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
