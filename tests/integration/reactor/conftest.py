"""Fixtures of the Chain Reactor's end-to-end tests: the dev chain, Kubo and the CloudStack
simulator of the dev stack, and a provider of the test's own."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from eda_helpers import Rulebook  # noqa: E402  pylint: disable=wrong-import-position
from reactor_helpers import Reactor, sudo  # noqa: E402  pylint: disable=wrong-import-position
from simulator_fixtures import cs_api, no_faults, simulator  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from substrateinterface.utils.hasher import xxh128  # noqa: E402  pylint: disable=wrong-import-position

AWARD_TIMEOUT_BLOCKS = 5


@pytest.fixture
def reactor(chain, tmp_path, node_url, ipfs_gateway, cloudstack_env):
    """A provider of this test's own, with a reactor workspace."""
    return Reactor(chain, tmp_path, {"node_url": node_url, "ipfs_gateway": ipfs_gateway}, cloudstack_env)


@pytest.fixture
def rulebook(reactor, tmp_path):
    """ansible-rulebook in event mode for the test's provider, stopped afterwards; its output
    must not hold the signer's secret."""
    found = Rulebook(reactor, tmp_path)
    yield found
    found.stop()
    assert reactor.secret not in found.log(), "the signer's secret is in the rulebook's output"


@pytest.fixture
def short_award_timeout(chain):
    """AwardTimeout set to a few blocks (root's `System.set_storage`, as docs/chain.md says), and
    put back afterwards so that no other test's deployment times out."""
    key = "0x" + bytes(xxh128(b":AwardTimeout:")).hex()
    old = chain.rpc_request("state_getStorage", [key])["result"]

    def set_timeout(value):
        encoded = None if value is None else "0x" + int(value).to_bytes(4, "little").hex()
        sudo(chain, chain.compose_call("System", "set_storage", {"items": [(key, encoded)]}) if encoded else
             chain.compose_call("System", "kill_storage", {"keys": [key]}))

    set_timeout(AWARD_TIMEOUT_BLOCKS)
    yield AWARD_TIMEOUT_BLOCKS
    set_timeout(None if old is None else int.from_bytes(bytes.fromhex(old[2:]), "little"))
