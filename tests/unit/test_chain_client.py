"""ChainClient's failure semantics and dispatch-error mapping, with a fake node (pure logic:
the real node is exercised in tests/integration)."""
import pathlib
import tempfile
import time

import pytest

from ansible_collections.dinfra.chain.plugins.module_utils.chain import (
    NONCE_MEMORY,
    ChainClient,
    ChainError,
    ChainUnavailable,
    ExtrinsicUncertain,
    SignerLock,
    dispatch_error,
)

real_time = time.time


class BrokenNode:
    """Every call fails like a dropped websocket."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionResetError("connection reset by peer")

        return fail


def client_with(node):
    client = ChainClient("ws://127.0.0.1:9944")
    client._substrate = node
    return client


@pytest.mark.parametrize(
    "read",
    [
        lambda c: c.head(),
        lambda c: c.query("DinfraSubscriptions", "Deployments", [1], "0x00"),
        lambda c: c.query_keys("DinfraSubscriptions", "ProviderDeployments", ["5P"], "0x00", 10),
        lambda c: c.query_many("DinfraSubscriptions", "Deployments", [1, 2], "0x00"),
    ],
)
def test_a_failing_node_is_an_error_never_an_empty_answer(read):
    with pytest.raises(ChainUnavailable, match="connection reset"):
        read(client_with(BrokenNode()))


class KeysNode:
    """Serves ``count`` keys under a prefix through state_getKeysPaged, in pages of at most
    the size asked for, and records each page's size."""

    def __init__(self, count, prefix="0xaa"):
        self.keys = [f"{prefix}{i:016x}" for i in range(count)]
        self.pages = []

    def rpc_request(self, method, params):
        assert method == "state_getKeysPaged"
        prefix, size, start, _at = params
        after = self.keys.index(start) + 1 if start else 0
        page = self.keys[after:after + size]
        self.pages.append(size)
        return {"result": [k for k in page if k.startswith(prefix)]}


class Item:
    """A map whose storage key is the prefix 0xaa and the id's 8 bytes."""

    def key(self, params):
        return bytes.fromhex("aa")

    def last_key(self, suffix):
        return int.from_bytes(suffix, "big")


def lister(node):
    client = client_with(node)
    client.storage_item = lambda *args: Item()
    return client


def test_a_listing_over_the_limit_is_refused_not_truncated():
    with pytest.raises(ChainUnavailable, match="more than 3"):
        lister(KeysNode(4)).query_keys("P", "I", [], "0x00", 3)


def test_a_listing_reads_every_page_and_never_asks_for_more_than_a_node_serves():
    node = KeysNode(2500)
    assert lister(node).query_keys("P", "I", [], "0x00", 100000) == list(range(2500))
    assert node.pages == [1000, 1000, 1000]


def test_a_listing_of_exactly_the_limit_is_complete():
    node = KeysNode(1000)
    assert lister(node).query_keys("P", "I", [], "0x00", 1000) == list(range(1000))
    # One key more than the limit was asked for, to tell "exactly 1,000" from "more".
    assert node.pages == [1000, 1]


def test_keys_outside_the_prefix_are_an_error():
    class Lying(KeysNode):
        def rpc_request(self, method, params):
            return {"result": ["0xbb00"]}

    with pytest.raises(ChainUnavailable, match="outside the prefix"):
        lister(Lying(0)).query_keys("P", "I", [], "0x00", 10)


def test_unreachable_node_is_unavailable():
    with pytest.raises(ChainUnavailable, match="cannot connect"):
        ChainClient("ws://127.0.0.1:1", timeout=2).substrate  # pylint: disable=expression-not-assigned


@pytest.mark.parametrize("url", ["http://x", "", None, "127.0.0.1:9944"])
def test_urls_must_be_websockets(url):
    with pytest.raises(ChainError, match="ws://"):
        ChainClient(url)


def test_module_errors_name_the_pallet_from_the_event_index():
    events = [{"event": "ExtrinsicFailed", "attributes": {"dispatch_error": {"Module": {"index": 21, "error": "0x08"}}}}]
    error = {"type": "Module", "name": "NotTheProvider", "docs": ["Only the provider", "may report."]}
    names = {21: "DinfraSubscriptions"}
    assert dispatch_error(error, events, names.get) == (
        "DinfraSubscriptions",
        "NotTheProvider",
        "Only the provider may report.",
    )


def test_other_dispatch_errors_come_from_the_event():
    events = [{"event": "ExtrinsicFailed", "attributes": {"dispatch_error": {"Token": "FundsUnavailable"}}}]
    assert dispatch_error(None, events, {}.get) == ("System", "Token", "FundsUnavailable")


class Watched:
    """A node that answers author_submitAndWatchExtrinsic with the given status messages."""

    def __init__(self, *statuses):
        self.statuses, self.unwatched = statuses, []

    def rpc_request(self, method, params, result_handler=None):
        if method == "author_unwatchExtrinsic":
            self.unwatched.append(params[0])
            return {"result": True}
        for number, status in enumerate(self.statuses):
            answer = result_handler({"params": {"result": status}}, number, "sub-1")
            if answer is not None:
                return answer
        raise AssertionError("the watch ended without an answer")


class Extrinsic:
    extrinsic_hash = bytes.fromhex("ab" * 32)
    data = "0x00"


def watch(node, wait_for="finalization"):
    client = ChainClient("ws://127.0.0.1:9944", wait_for=wait_for)
    client._substrate = node
    pooled = []
    receipt = client._submit_and_watch(Extrinsic(), on_pooled=lambda: pooled.append(True))
    return receipt, pooled


def test_the_signer_is_let_go_at_the_first_status_and_the_watch_waits_for_finality():
    node = Watched("ready", {"inBlock": "0x01"}, {"finalized": "0x01"})
    receipt, pooled = watch(node)
    assert receipt.block_hash == "0x01" and receipt.finalized is True
    assert pooled and node.unwatched == ["sub-1"]


def test_inclusion_is_enough_when_asked_for():
    receipt, _pooled = watch(Watched({"ready": None}, {"inBlock": "0x02"}), wait_for="inclusion")
    assert receipt.block_hash == "0x02" and receipt.finalized is False


@pytest.mark.parametrize("status", ["dropped", "invalid", "usurped", {"usurped": "0x03"}, {"finalityTimeout": "0x04"}])
def test_a_watch_that_ends_without_a_block_is_uncertain_never_a_success(status):
    with pytest.raises(ExtrinsicUncertain, match="read the chain before retrying"):
        watch(Watched("ready", status))


def test_the_next_nonce_is_never_one_the_controller_just_used(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    lock = SignerLock("5Alice")
    lock.acquire()
    assert lock.next_nonce(7) == 7
    lock.used(7)
    lock.release()
    # Written rounded to the millisecond, possibly upwards: the age read back can be just below 0.
    text = pathlib.Path(lock.path).read_text()
    pathlib.Path(lock.path).write_text(f"7 {float(text.split()[1]) + 0.0009:.3f}")
    # A node that has not counted nonce 7 yet still answers 7.
    lock.acquire()
    assert lock.next_nonce(7) == 8
    assert lock.next_nonce(9) == 9, "the node's answer wins when it is ahead"
    lock.release()


def test_the_last_nonce_is_forgotten_after_a_while(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    lock = SignerLock("5Bob")
    lock.acquire()
    lock.used(3)
    monkeypatch.setattr(time, "time", lambda: real_time() + NONCE_MEMORY + 1)
    # A dropped extrinsic must not leave a gap for ever.
    assert lock.next_nonce(3) == 3
    lock.release()


def test_a_lock_file_of_another_shape_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    lock = SignerLock("5Carol")
    pathlib.Path(lock.path).write_text("not a nonce")
    lock.acquire()
    assert lock.next_nonce(5) == 5
    with pytest.raises(ChainUnavailable, match="next nonce"):
        lock.next_nonce(None)
    lock.release()


class ClosedRuntime:
    """A node connection with a decoded runtime, which records reconnects."""

    def __init__(self, reconnect_fails=False):
        self.metadata = object()
        self.reconnects = 0
        self.reconnect_fails = reconnect_fails

    def close(self):
        pass

    def connect_websocket(self):
        self.reconnects += 1
        if self.reconnect_fails:
            raise ConnectionRefusedError("refused")


def closed_client(runtime, url="ws://127.0.0.1:1"):
    client = ChainClient(url)
    client._substrate = runtime
    client.close()


def test_a_closed_clients_runtime_serves_the_next_client_of_the_same_node(monkeypatch):
    idle = {}
    monkeypatch.setattr("ansible_collections.dinfra.chain.plugins.module_utils.chain._IDLE_RUNTIMES", idle)
    runtime = ClosedRuntime()
    closed_client(runtime)
    # Another timeout is another connection's options: not reused (and nothing listens on port 1).
    with pytest.raises(ChainUnavailable, match="cannot connect"):
        ChainClient("ws://127.0.0.1:1", timeout=5).substrate  # pylint: disable=expression-not-assigned
    assert runtime.reconnects == 0 and idle
    again = ChainClient("ws://127.0.0.1:1")
    assert again.substrate is runtime and runtime.reconnects == 1
    # Taken: a client at the same time gets a connection of its own.
    assert not idle
    again.close()
    assert idle == {("ws://127.0.0.1:1", 30): runtime}


def test_a_runtime_that_cannot_reconnect_is_dropped_and_the_client_connects_anew(monkeypatch):
    idle = {}
    monkeypatch.setattr("ansible_collections.dinfra.chain.plugins.module_utils.chain._IDLE_RUNTIMES", idle)
    closed_client(ClosedRuntime(reconnect_fails=True))
    # Nothing listens at this URL, so connecting anew fails as a clear error, not a stale runtime.
    with pytest.raises(ChainUnavailable, match="cannot connect"):
        ChainClient("ws://127.0.0.1:1").substrate  # pylint: disable=expression-not-assigned
    assert not idle
