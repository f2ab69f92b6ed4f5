"""DeploymentFollower's guarantees, against a fake chain (pure logic: the real dev chain and the
real ansible-rulebook are in tests/integration/reactor/test_eda_source.py)."""
import json
import threading

import pytest

from ansible_collections.dinfra.chain.plugins.module_utils.chain import ChainUnavailable
from ansible_collections.dinfra.chain.plugins.module_utils.chain_follower import (
    Backoff,
    DeploymentFollower,
    Position,
    PositionError,
    block_changes,
)

ME, OTHER = "5Provider", "5Other"
GENESIS = "0x" + "00" * 32


def block_hash(number, fork=0):
    return "0x" + f"{fork:02x}" * 31 + f"{number % 256:02x}"


class FakeChain:
    """Blocks with events and the Deployments records at each block; can fail on demand."""

    def __init__(self):
        self.head = 0
        self.fork = 0
        self.events = {}  # number -> [(pallet, event, attributes)]
        self.deployments = {}  # id -> (provider, state); same at every block, enough here
        self.fail_after = None  # calls left before every call fails
        self.calls = 0

    def add_block(self, *events):
        self.head += 1
        self.events[self.head] = list(events)
        return self.head


class FakeClient:
    def __init__(self, chain):
        self.chain = chain
        self.closed = False

    def _tick(self):
        self.chain.calls += 1
        if self.chain.fail_after is not None:
            if self.chain.fail_after <= 0:
                raise ChainUnavailable("node away")
            self.chain.fail_after -= 1

    def block_hash(self, number):
        self._tick()
        if number > self.chain.head:
            raise ChainUnavailable("no such block")
        return GENESIS if number == 0 else block_hash(number, self.chain.fork)

    def head(self):
        self._tick()
        return block_hash(self.chain.head, self.chain.fork), self.chain.head

    def events(self, hash_):
        self._tick()
        number = next(n for n in self.chain.events if block_hash(n, self.chain.fork) == hash_)
        return self.chain.events[number]

    def query_many(self, pallet, item, keys, hash_):
        self._tick()
        if item == "DeploymentTypes":
            return {k: {"name": "t"} for k in keys}
        found = {}
        for k in keys:
            entry = self.chain.deployments.get(k)
            found[k] = None if entry is None else {
                "consumer": "5C", "provider": entry[0], "type_id": 0, "descriptor_cid": "b", "price_per_block": 1,
                "deposit": 10, "paid": 0, "deadline": 9, "state": entry[1], "access_info": "x", "awarded_at": 1,
            }
        return found

    def close(self):
        self.closed = True


def awarded(i):
    return ("DinfraSubscriptions", "DeploymentAwarded", {"id": i, "provider": ME})


def follower(chain, tmp_path, events, stop_when=None, **kwargs):
    """A follower that stops when ``stop_when(events)`` holds (checked on every emit and log)."""
    stop = threading.Event()
    logs = []

    def check():
        if stop_when is None or stop_when(events):
            stop.set()

    def emit(event):
        events.append(event)
        check()

    def log(message):
        logs.append(message)
        check()

    kwargs.setdefault("poll_interval", 0.001)
    found = DeploymentFollower(
        connect=lambda: FakeClient(chain), provider=ME, position=Position(str(tmp_path / "pos.json")),
        emit=emit, log=log, compare=lambda a, b: a == b, stop=stop,
        backoff=Backoff(first=0.001, cap=0.002), **kwargs)
    found.logs = logs
    return found


def kinds(events):
    return [(e["kind"], e.get("deployment_id"), e.get("reason")) for e in events]


def test_block_changes_keeps_the_subscription_events_in_order_and_refuses_one_without_an_id():
    events = [("System", "ExtrinsicSuccess", {}), awarded(3),
              ("DinfraSubscriptions", "DeploymentPurged", {"id": 1}),
              ("DinfraSubscriptions", "DeploymentToppedUp", {"id": 3, "amount": 1, "deposit": 2})]
    assert block_changes(events) == [("awarded", 3), ("deposit", 3)]
    with pytest.raises(ChainUnavailable, match="no deployment id"):
        block_changes([("DinfraSubscriptions", "DeploymentFailed", {"reason": "x"})])


def test_first_start_resyncs_at_the_head_and_follows_only_the_providers_deployments(tmp_path):
    chain = FakeChain()
    chain.deployments = {1: (ME, "Awarded"), 2: (OTHER, "Awarded")}
    chain.add_block(awarded(1))  # before the first start: covered by the resync, not replayed
    events = []

    def new_block_after_start(ev):
        if len(ev) == 1:
            chain.add_block(awarded(1), ("DinfraSubscriptions", "DeploymentAwarded", {"id": 2, "provider": OTHER}))
        return len(ev) >= 2

    follower(chain, tmp_path, events, stop_when=new_block_after_start).run()
    assert kinds(events) == [("resync", None, "start"), ("awarded", 1, None)]
    assert events[0]["block"] == 1 and events[1]["block"] == 2
    # Only ids, states, blocks and the configured provider: never chain text.
    assert events[1] == {"kind": "awarded", "deployment_id": 1, "state": "awarded", "block": 2,
                         "block_hash": block_hash(2), "provider": ME}


def test_start_takes_the_head_so_events_before_it_are_not_replayed_but_later_ones_are(tmp_path):
    chain = FakeChain()
    chain.deployments = {1: (ME, "Awarded")}
    chain.add_block(awarded(1))
    events = []
    f = follower(chain, tmp_path, events, stop_when=lambda ev: len(ev) >= 1)
    f.run()
    assert kinds(events) == [("resync", None, "start")]
    assert json.loads((tmp_path / "pos.json").read_text())["block"] == 1

    chain.add_block(awarded(1))
    events2 = []
    f2 = follower(chain, tmp_path, events2, stop_when=lambda ev: len(ev) >= 2)
    f2.run()
    assert kinds(events2) == [("resync", None, "start"), ("awarded", 1, None)]
    assert events2[1]["block"] == 2 and events2[1]["state"] == "awarded"


def awards_after_a_first_start(tmp_path, count, state):
    """A chain the follower started on once, then ``count`` blocks of one award each."""
    chain = FakeChain()
    chain.deployments = {i: (ME, state) for i in range(count)}
    follower(chain, tmp_path, [], stop_when=lambda ev: len(ev) >= 1).run()
    for i in range(count):
        chain.add_block(awarded(i))
    return chain


def test_a_restart_replays_every_block_missed_in_order(tmp_path):
    chain = awards_after_a_first_start(tmp_path, 5, "Running")
    events = []
    follower(chain, tmp_path, events, stop_when=lambda ev: len(ev) >= 6).run()
    assert kinds(events) == [("resync", None, "start")] + [("awarded", i, None) for i in range(5)]
    assert [e["block"] for e in events[1:]] == [1, 2, 3, 4, 5]


def test_the_node_going_away_mid_replay_loses_nothing(tmp_path):
    chain = awards_after_a_first_start(tmp_path, 6, "Awarded")
    events = []
    failures = []

    def flaky(ev):
        # Fail the node after the second award, once; come back after the first reconnect log.
        if len(ev) == 3 and not failures:
            failures.append(1)
            chain.fail_after = 0
        return len(ev) >= 7

    f = follower(chain, tmp_path, events, stop_when=flaky)
    original_log = f.log

    def log(message):
        chain.fail_after = None  # the node is back for the reconnect
        original_log(message)

    f.log = log
    f.run()
    awards = [e["deployment_id"] for e in events if e["kind"] == "awarded"]
    # At least once, in order, none missing; a block may be seen twice if it was not saved.
    assert sorted(set(awards)) == list(range(6))
    assert awards == sorted(awards)
    assert any("reconnecting" in m for m in f.logs)


def test_a_gap_longer_than_max_replay_gives_a_resync_instead(tmp_path):
    chain = FakeChain()
    chain.deployments = {0: (ME, "Awarded")}
    follower(chain, tmp_path, [], stop_when=lambda ev: True).run()
    for _block in range(10):
        chain.add_block(awarded(0))
    events = []
    follower(chain, tmp_path, events, stop_when=lambda ev: len(ev) >= 2, max_replay=5).run()
    assert kinds(events) == [("resync", None, "start"), ("resync", None, "gap")]
    assert json.loads((tmp_path / "pos.json").read_text())["block"] == 10


def test_another_chain_at_the_position_gives_a_resync(tmp_path):
    chain = FakeChain()
    chain.add_block()
    chain.add_block()
    follower(chain, tmp_path, [], stop_when=lambda ev: True).run()
    chain.fork = 1  # the same numbers, other blocks: a dev chain started again, or a wrong node
    events = []
    follower(chain, tmp_path, events, stop_when=lambda ev: len(ev) >= 2).run()
    assert kinds(events) == [("resync", None, "start"), ("resync", None, "chain_changed")]


def test_a_broken_position_file_is_reported_and_resynced_from(tmp_path):
    (tmp_path / "pos.json").write_text('{"block": "x"}')
    chain = FakeChain()
    events = []
    f = follower(chain, tmp_path, events, stop_when=lambda ev: len(ev) >= 1)
    f.run()
    assert kinds(events) == [("resync", None, "start")]
    assert any("not a position" in m for m in f.logs)
    assert json.loads((tmp_path / "pos.json").read_text())["block"] == 0
    with pytest.raises(PositionError, match="cannot write"):
        Position(str(tmp_path / "pos.json" / "p.json")).save(GENESIS, 1, GENESIS)


def test_resync_comes_again_after_its_interval(tmp_path):
    chain = FakeChain()
    now = [0.0]

    def clock():
        now[0] += 10
        return now[0]

    events = []
    follower(chain, tmp_path, events, stop_when=lambda ev: len(ev) >= 3, resync_interval=25, clock=clock).run()
    assert kinds(events) == [("resync", None, "start"), ("resync", None, "interval"), ("resync", None, "interval")]


def test_backoff_doubles_up_to_its_cap_and_starts_again_after_reset():
    b = Backoff(first=1, cap=8, rand=lambda: 1.0)
    assert [b.next() for _step in range(5)] == [1, 2, 4, 8, 8]
    b.reset()
    assert b.next() == 1
