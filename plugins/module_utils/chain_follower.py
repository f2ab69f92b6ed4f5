# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Following a provider's deployments block by finalised block, losing no change.

The EDA event source (extensions/eda/plugins/event_source/deployments.py) is a thin wrapper
of DeploymentFollower; the Chain Reactor API's event stream is meant to be another.

What "losing no change" rests on:
- **A persisted position.** After each block whose events were emitted, and after each round,
  the follower writes the last block it processed (number, hash, and the chain's genesis hash)
  to a file. On start it replays every finalised block after that one.
- **The gap is replayed after any failure.** Every failure to talk to the node is
  ChainUnavailable (module_utils/chain.py); the follower then reconnects with backoff and
  goes on from its position, so the blocks finalised meanwhile are read like any others.
- **No subscription that can die silently.** The follower asks for the finalised head every
  ``poll_interval`` seconds. Each ask is an RPC with a timeout, so a node that hangs or a
  connection that drops is noticed within one interval plus the timeout, never hours later.
- **A resync when replay is not possible or not enough.** At start, every
  ``resync_interval`` seconds, when the gap is longer than ``max_replay`` blocks, and when
  the chain at the position is not the chain the position was written on, the follower emits
  a ``resync`` event: a full reconcile reads all the state, so nothing is lost even then.
- **Bounded memory.** The follower holds one block's events at a time, and hands each event
  to ``emit`` before it reads the next block; ``emit`` may block (back-pressure).

Events carry ids, states, block numbers and hashes only, never chain text (names, access
info, reasons): rulebooks pass events to playbooks as extra vars, which Ansible templates.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time

from .chain import SUBSCRIPTIONS, ChainError, ChainUnavailable
from .deployments import records
from .files import write_atomically

# Events of the subscriptions pallet, by the kind of change the follower reports.
EVENT_KINDS = {
    "DeploymentAwarded": "awarded",
    "DeploymentRunning": "running",
    "DeploymentTerminating": "terminating",
    "DeploymentTerminated": "terminated",
    "DeploymentFailed": "failed",
    "DeploymentToppedUp": "deposit",
    "DeploymentSettled": "deposit",
    "DeploymentRunsOutAt": "deposit",
}
RESYNC_REASONS = ("start", "interval", "gap", "chain_changed")
POSITION_MAX_BYTES = 4096
_HASH = re.compile(r"^0x[0-9a-f]{64}$")


class PositionError(Exception):
    """The position file cannot be read or written."""


class Stopped(Exception):
    """Raised by an ``emit`` that gave up because the follower is stopping."""


class Position:
    """The last block processed, in a JSON file: ``{"genesis", "block", "block_hash"}``."""

    def __init__(self, path):
        self.path = path

    def load(self):
        """The stored position, or None when there is no file. A file that is not a position
        raises PositionError: the follower then resyncs rather than guess."""
        try:
            with open(self.path, "rb") as handle:
                data = handle.read(POSITION_MAX_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PositionError(f"cannot read the position file {self.path}: {exc.strerror}") from None
        try:
            if len(data) > POSITION_MAX_BYTES:
                raise ValueError("too long")
            found = json.loads(data)
            if not (isinstance(found, dict) and isinstance(found.get("block"), int) and found["block"] >= 0
                    and all(isinstance(found.get(k), str) and _HASH.match(found[k]) for k in ("genesis", "block_hash"))):
                raise ValueError("not a position")
        except ValueError as exc:
            raise PositionError(f"the position file {self.path} is not a position ({exc})") from None
        return {k: found[k] for k in ("genesis", "block", "block_hash")}

    def save(self, genesis, block, block_hash):
        data = json.dumps({"genesis": genesis, "block": block, "block_hash": block_hash}).encode()
        try:
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, mode=0o700, exist_ok=True)
            write_atomically(self.path, data, 0o600)
        except OSError as exc:
            raise PositionError(f"cannot write the position file {self.path}: {exc.strerror}") from None


class Backoff:
    """Exponential delays with jitter, from ``first`` up to ``cap`` seconds."""

    def __init__(self, first=1.0, cap=60.0, rand=random.random):
        self.first, self.cap, self._rand, self._next = first, cap, rand, first

    def next(self):
        delay = self._next
        self._next = min(self.cap, self._next * 2)
        return delay * (0.5 + self._rand() / 2)

    def reset(self):
        self._next = self.first


def same_account(one, other):
    """Whether two SS58 addresses name the same account, whatever their network prefix."""
    from substrateinterface.utils.ss58 import ss58_decode  # pylint: disable=import-outside-toplevel

    try:
        return ss58_decode(one) == ss58_decode(other)
    except (ValueError, TypeError):
        return False


def block_changes(events):
    """[(kind, deployment_id)] of the subscriptions pallet's events of one block, in order."""
    found = []
    for pallet, name, attributes in events:
        kind = EVENT_KINDS.get(name) if pallet == SUBSCRIPTIONS else None
        if kind is None:
            continue
        deployment_id = attributes.get("id") if isinstance(attributes, dict) else None
        if not isinstance(deployment_id, int) or isinstance(deployment_id, bool):
            raise ChainUnavailable(f"{pallet}.{name} has no deployment id: is the collection older than the runtime?")
        found.append((kind, deployment_id))
    return found


class DeploymentFollower:
    """Emits one event per change of ``provider``'s deployments in each finalised block, and
    resync events. ``run()`` returns when ``stop`` is set; ``emit(event)`` gets plain dicts.

    ``connect()`` returns a new ChainClient (reads at the finalised head); ``compare(a, b)``
    tells whether two addresses are the same account."""

    def __init__(self, connect, provider, position, emit, log, compare=same_account, max_replay=1000,
                 resync_interval=3600, poll_interval=0.5, backoff=None, clock=time.monotonic, stop=None):
        if max_replay < 1 or poll_interval <= 0 or resync_interval < 0:
            raise ValueError("max_replay must be at least 1, poll_interval above 0, resync_interval 0 or more")
        self.connect, self.provider, self.position = connect, provider, position
        self.emit, self.log, self.same_account = emit, log, compare
        self.max_replay, self.resync_interval, self.poll_interval = max_replay, resync_interval, poll_interval
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.stop = stop or threading.Event()
        self._at = None  # {"genesis", "block", "block_hash"} of the last block processed
        self._started = False
        self._next_resync = None

    # ---- the loop ----

    def run(self):
        while not self.stop.is_set():
            client = None
            try:
                client = self.connect()
                self._follow(client)
            except Stopped:
                return
            except ChainError as exc:
                delay = self.backoff.next()
                self.log(f"the chain is unavailable, reconnecting in {delay:.1f} s: {exc}")
                self.stop.wait(delay)
            finally:
                if client is not None:
                    client.close()

    def _follow(self, client):
        genesis = client.block_hash(0)
        head_hash, head = client.head()
        if not self._started:
            self._at = self._load()
            self._resync("start", head, head_hash)
            self._started = True
        if self._at is not None and not self._same_chain(client, genesis, head):
            self._at = None
            self._resync("chain_changed", head, head_hash)
        if self._at is None:
            self._move_to(genesis, head, head_hash)
        self.backoff.reset()
        while not self.stop.is_set():
            if self.resync_interval and self.clock() >= self._next_resync:
                self._resync("interval", head, head_hash)
            self._catch_up(client, genesis, head, head_hash)
            if self.stop.wait(self.poll_interval):
                return
            head_hash, head = client.head()

    def _catch_up(self, client, genesis, head, head_hash):
        at = self._at["block"]
        if head < at:
            # A finalised block is never undone; a lower head is another chain.
            self._resync("chain_changed", head, head_hash)
            self._move_to(genesis, head, head_hash)
            return
        if head - at > self.max_replay:
            self.log(f"{head - at} blocks were finalised since block {at}, more than max_replay "
                     f"({self.max_replay}): resyncing instead of replaying them")
            self._resync("gap", head, head_hash)
            self._move_to(genesis, head, head_hash)
            return
        for number in range(at + 1, head + 1):
            if self.stop.is_set():
                break
            block_hash = head_hash if number == head else client.block_hash(number)
            emitted = self._block(client, number, block_hash)
            self._at = {"genesis": genesis, "block": number, "block_hash": block_hash}
            if emitted:
                self._save()
        self._save()

    def _block(self, client, number, block_hash):
        """Emits the provider's changes in one block; how many."""
        changes = block_changes(client.events(block_hash))
        if not changes:
            return 0
        try:
            found = records(client, sorted({deployment_id for _kind, deployment_id in changes}), block_hash)
        except (KeyError, TypeError) as exc:
            raise ChainUnavailable(f"a deployment of block {number} did not decode: {exc!r}") from None
        emitted = 0
        for kind, deployment_id in changes:
            record = found.get(deployment_id)
            if record is None:
                # Removed in its own block; nothing is left to act on.
                continue
            if not self.same_account(record["provider"], self.provider):
                continue
            self.emit({"kind": kind, "deployment_id": deployment_id, "state": record["state"],
                       "block": number, "block_hash": block_hash, "provider": self.provider})
            emitted += 1
        return emitted

    # ---- position ----

    def _load(self):
        try:
            return self.position.load()
        except PositionError as exc:
            self.log(f"{exc}: starting from the finalised head after a resync")
            return None

    def _save(self):
        if self._at is not None:
            self.position.save(self._at["genesis"], self._at["block"], self._at["block_hash"])

    def _same_chain(self, client, genesis, head):
        if self._at["genesis"] != genesis:
            self.log("the node serves another chain than the position file's (genesis differs): resyncing")
            return False
        if self._at["block"] > head:
            self.log(f"the node's finalised head {head} is below the position's block {self._at['block']}: resyncing")
            return False
        if client.block_hash(self._at["block"]) != self._at["block_hash"]:
            self.log(f"block {self._at['block']} on the node is not the position's block: resyncing")
            return False
        return True

    def _move_to(self, genesis, head, head_hash):
        self._at = {"genesis": genesis, "block": head, "block_hash": head_hash}
        self._save()

    def _resync(self, reason, head, head_hash):
        self.emit({"kind": "resync", "reason": reason, "block": head, "block_hash": head_hash,
                   "provider": self.provider})
        if self.resync_interval:
            self._next_resync = self.clock() + self.resync_interval
