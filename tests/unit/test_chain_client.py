"""ChainClient's failure semantics and dispatch-error mapping, with a fake node (pure logic:
the real node is exercised in tests/integration)."""
import pytest

from ansible_collections.dinfra.chain.plugins.module_utils.chain import (
    ChainClient,
    ChainError,
    ChainUnavailable,
    dispatch_error,
)


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


def test_a_listing_over_the_limit_is_refused_not_truncated():
    class Value:
        def __init__(self, v):
            self.value = v

    class Node:
        def query_map(self, *args, **kwargs):
            return [(Value(i), Value(None)) for i in range(kwargs["max_results"])]

    with pytest.raises(ChainUnavailable, match="more than 3"):
        client_with(Node()).query_keys("P", "I", [], "0x00", 3)


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
