"""Event mode across a restart of the chain: the node stops, ansible-rulebook's source backs off,
the node starts again on the same chain (its blocks kept), and an award made before the source
is back is replayed from the position file.

Slow (about half a minute: a chopsticks of the test's own is started three times, and a real
reconcile runs): the shared dev chain cannot be restarted under the other tests' connections,
so this module runs on a private chain (private_chain.py), with the shared Kubo and CloudStack
simulator."""
import json

import pytest
from substrateinterface import SubstrateInterface

from eda_helpers import RUNNING_WITHIN, running
from private_chain import PrivateChain
from reactor_helpers import publish, vm_descriptor


@pytest.fixture(scope="module")
def private_chain(tmp_path_factory):
    node = PrivateChain(tmp_path_factory.mktemp("private-chain"))
    node.start_primed()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def node_url(private_chain):
    """Every fixture of this module (chain, reactor, rulebook) talks to the private chain."""
    return private_chain.url


def test_an_award_made_before_the_source_is_back_from_a_chain_restart_is_replayed(
        private_chain, reactor, rulebook, ipfs_api):
    rulebook.start()
    rulebook.wait_for("the start's reconcile run", lambda: "PLAY RECAP" in rulebook.log(), RUNNING_WITHIN)
    stopped_at = private_chain.finalised()
    private_chain.stop()
    rulebook.wait_for("the source to see the node gone", lambda: "the chain is unavailable" in rulebook.log(), 60)
    private_chain.start(resume=True)
    assert private_chain.finalised() == stopped_at, "the node did not resume its chain"
    # The source is in its backoff (at least a second) when the award is final.
    with SubstrateInterface(url=private_chain.url, ws_options={"timeout": 30}) as again:
        reactor.chain = again  # the reactor's own connection died with the node
        dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
        rulebook.wait_for(f"deployment {dep} Running", running(again, dep), RUNNING_WITHIN)
    position = json.loads(rulebook.position.read_text())
    awarded = rulebook.changes("awarded", dep)
    assert awarded and min(awarded) > stopped_at[0], rulebook.log()[-5000:]
    assert position["block"] >= min(awarded)
    # The same chain, picked up where it was left: no resync other than the start's.
    resyncs = [e["dinfra"]["reason"] for e in rulebook.events() if e["dinfra"]["kind"] == "resync"]
    assert resyncs == ["start"], rulebook.log()[-5000:]
