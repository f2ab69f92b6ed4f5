# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

DOCUMENTATION = r"""
---
short_description: Changes of a provider's deployments on a DINFRA chain, block by finalised block
description:
  - An Event-Driven Ansible source. It follows the finalised blocks of a DINFRA chain and puts
    one event on the queue for each change of the provider's deployments, of the kinds
    C(awarded), C(running), C(terminating), C(terminated), C(failed), and C(deposit) (topped
    up, settled, or a new block the deposit runs out at).
  - It also puts a C(resync) event at start, every O(resync_interval) seconds, after a gap
    longer than O(max_replay) blocks, and when the node serves another chain than the one
    the position was written on. A rule should run a full reconcile on it.
  - It persists the last block processed in O(position_file). After a restart, and after
    the node went away, it replays every block finalised meanwhile. No event is lost.
  - >-
    An event is C({"dinfra": {"kind", "deployment_id", "state", "block", "block_hash", "provider"}}),
    or C({"dinfra": {"kind": "resync", "reason", "block", "block_hash", "provider"}}), where
    C(provider) is O(provider) as configured. It never carries
    chain text (names, access info, reasons), because rulebooks pass events to playbooks as extra
    vars, and Ansible templates extra vars. Read everything else from the
    dinfra.chain.deployments inventory, which marks it unsafe.
  - It needs no secret.
options:
  node_url:
    description:
      - WebSocket JSON-RPC endpoint of a node of the DINFRA chain. Falls back to
        E(DINFRA_NODE_URL). Credentials in the URL are never logged.
    type: str
    required: true
  provider:
    description:
      - SS58 address of the provider whose deployments to follow. Falls back to
        E(DINFRA_PROVIDER).
    type: str
    required: true
  position_file:
    description:
      - Where the last block processed is kept. Falls back to E(DINFRA_EDA_POSITION_FILE),
        then to C(dinfra/eda-<provider>.json) under E(XDG_STATE_HOME) (C(~/.local/state)).
      - Keep it on storage that outlives the source (a volume, in a container).
    type: str
  poll_interval:
    description:
      - Seconds between two asks for the finalised head. Every ask has a timeout, so a node
        that hangs is noticed within this interval plus O(timeout).
    type: float
    default: 0.5
  resync_interval:
    description:
      - Seconds between two C(resync) events after the one at start; C(0) for none.
    type: int
    default: 3600
  max_replay:
    description:
      - The most blocks replayed one by one after a gap; a longer gap gives a C(resync)
        event instead.
    type: int
    default: 1000
  timeout:
    description:
      - Seconds to wait for any single answer from the node.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: React to a provider's deployments
  hosts: all
  sources:
    - dinfra.chain.deployments:
        node_url: wss://rpc.dinfra.example
        provider: 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty
        position_file: /var/lib/dinfra/eda-position.json
  rules:
    - name: Reconcile on every change
      condition: event.dinfra is defined
      action:
        run_playbook:
          name: dinfra.chain.reconcile
"""

import asyncio
import concurrent.futures
import logging
import os
import pathlib
import re
import sys
import threading

try:
    from ansible_collections.dinfra.chain.plugins.module_utils.chain import ChainClient
except ImportError:
    # ansible-rulebook loads this file by path, with the collections directory not always
    # on sys.path: that directory is seven levels up (ansible_collections/dinfra/chain/
    # extensions/eda/plugins/event_source). Not resolved, so that a symlinked collection
    # finds its own tree.
    sys.path.append(str(pathlib.Path(os.path.abspath(__file__)).parents[7]))
    from ansible_collections.dinfra.chain.plugins.module_utils.chain import ChainClient

from ansible_collections.dinfra.chain.plugins.module_utils.chain_follower import (  # noqa: E402
    DeploymentFollower,
    Position,
    Stopped,
)

LOGGER = logging.getLogger("dinfra.chain.deployments")
# How long the follower's thread waits for one queue.put before it looks at the stop flag.
_PUT_WAIT = 1.0


def _setting(args, name, env, default=None):
    value = args.get(name)
    if value is None or value == "":
        value = os.environ.get(env) if env else None
    return default if value is None or value == "" else value


def _redactor(url):
    """A function that removes the URL's credentials from a message."""
    found = re.match(r"^(wss?://)([^/@]+)@", url or "")
    if not found:
        return lambda message: message
    secret = found.group(2)
    return lambda message: message.replace(secret, "***")


def settings(args):
    """The source's settings from its arguments and the environment; ValueError if unusable."""
    node_url = _setting(args, "node_url", "DINFRA_NODE_URL")
    provider = _setting(args, "provider", "DINFRA_PROVIDER")
    if not node_url or not provider:
        raise ValueError("dinfra.chain.deployments needs node_url (DINFRA_NODE_URL) and provider (DINFRA_PROVIDER)")
    state_home = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    position_file = _setting(args, "position_file", "DINFRA_EDA_POSITION_FILE",
                             os.path.join(state_home, "dinfra", f"eda-{provider}.json"))
    try:
        found = {
            "node_url": str(node_url), "provider": str(provider), "position_file": str(position_file),
            "poll_interval": float(_setting(args, "poll_interval", None, 0.5)),
            "resync_interval": int(_setting(args, "resync_interval", None, 3600)),
            "max_replay": int(_setting(args, "max_replay", None, 1000)),
            "timeout": int(_setting(args, "timeout", None, 30)),
        }
    except (TypeError, ValueError):
        raise ValueError("poll_interval, resync_interval, max_replay and timeout must be numbers") from None
    if found["timeout"] < 1:
        raise ValueError("timeout must be at least 1")
    return found


async def main(queue, args):
    """Follows the chain until cancelled; events go to ``queue``."""
    config = settings(args)
    redact = _redactor(config["node_url"])
    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def emit(event):
        # Blocks the follower until the rulebook took the event: one block's events at most
        # are held, whatever the rate of the chain.
        future = asyncio.run_coroutine_threadsafe(queue.put({"dinfra": event}), loop)
        while True:
            try:
                future.result(_PUT_WAIT)
                return
            except concurrent.futures.TimeoutError:
                if stop.is_set():
                    future.cancel()
                    raise Stopped() from None

    def log(message):
        LOGGER.warning("%s", redact(message))

    follower = DeploymentFollower(
        connect=lambda: ChainClient(config["node_url"], timeout=config["timeout"], read_at="finalized"),
        provider=config["provider"], position=Position(config["position_file"]), emit=emit, log=log,
        max_replay=config["max_replay"], resync_interval=config["resync_interval"],
        poll_interval=config["poll_interval"], stop=stop,
    )
    LOGGER.info("following the deployments of %s from %s", config["provider"], redact(config["node_url"]))
    worker = loop.run_in_executor(None, follower.run)
    try:
        await asyncio.shield(worker)
    finally:
        stop.set()
        # The follower notices within one poll interval or one RPC timeout.
        await asyncio.wait([worker], timeout=config["timeout"] + config["poll_interval"] + _PUT_WAIT)


if __name__ == "__main__":  # pragma: no cover - a manual check: print the events
    class _PrintQueue:
        async def put(self, event):
            print(event, flush=True)

    asyncio.run(main(_PrintQueue(), {}))
