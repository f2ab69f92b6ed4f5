"""Event mode end to end: the real `ansible-rulebook` running rulebook dinfra.chain.reactor,
whose source dinfra.chain.deployments follows the dev chain, and whose actions run the real
`ansible-playbook dinfra.chain.reconcile` against Kubo and the CloudStack simulator.

Slow (each test starts a JVM for Drools, about 3 s, and waits for real reconcile runs, 10 to
20 s a test): the tests share the dev stack and keep one rulebook process each. The node
"goes away" through a proxy the test cuts (NodeLink): the shared dev chain cannot restart
under the other tests' connections, and to the source a restarted node and a cut link look
the same."""
import json
import pathlib
import shutil
import tempfile

import pytest

from eda_helpers import RUNNING_WITHIN, NodeLink, running
from reactor_helpers import deployment, publish, state_name, submit, vm_descriptor


def test_an_award_becomes_running_with_no_timer(reactor, rulebook, chain, ipfs_api):
    rulebook.start()
    rulebook.wait_for("the source's first position", rulebook.position.exists, 60)
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    rulebook.wait_for(f"deployment {dep} Running", running(chain, dep), RUNNING_WITHIN)
    assert rulebook.changes("awarded", dep), rulebook.log()[-5000:]


def test_an_award_made_while_the_source_is_down_is_replayed_after_its_restart(reactor, rulebook, chain, ipfs_api):
    rulebook.start()
    rulebook.wait_for("the source's first position", rulebook.position.exists, 60)
    rulebook.stop()
    stopped_at = json.loads(rulebook.position.read_text())["block"]
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    rulebook.start()
    rulebook.wait_for(f"deployment {dep} Running", running(chain, dep), RUNNING_WITHIN)
    # Replayed from the position, as its own event, not only covered by the start's resync.
    awarded = rulebook.changes("awarded", dep)
    assert awarded and min(awarded) > stopped_at, rulebook.log()[-5000:]


def test_an_award_made_while_the_node_is_unreachable_is_replayed_when_it_is_back(
        reactor, rulebook, chain, ipfs_api, node_url):
    link = NodeLink(node_url)
    try:
        rulebook.start(node_url=link.url)
        rulebook.wait_for("the start's reconcile run", lambda: "PLAY RECAP" in rulebook.log(), RUNNING_WITHIN)
        link.cut()
        rulebook.wait_for("the source to see the node gone", lambda: "the chain is unavailable" in rulebook.log(), 60)
        cut_at = json.loads(rulebook.position.read_text())["block"]
        # Awarded on the node itself, past the cut: the source never saw this block.
        dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
        assert chain.get_block_number(chain.get_chain_finalised_head()) > cut_at
        link.mend()
        rulebook.wait_for(f"deployment {dep} Running", running(chain, dep), RUNNING_WITHIN)
    finally:
        link.close()
    awarded = rulebook.changes("awarded", dep)
    assert awarded and min(awarded) > cut_at, rulebook.log()[-5000:]
    # The same chain, picked up where it was left: no resync other than the start's.
    resyncs = [e["dinfra"]["reason"] for e in rulebook.events() if e["dinfra"]["kind"] == "resync"]
    assert resyncs == ["start"], rulebook.log()[-5000:]


@pytest.fixture
def short_dir():
    path = tempfile.mkdtemp(prefix="j", dir="/tmp")
    yield pathlib.Path(path)
    shutil.rmtree(path)


def test_event_mode_evaluates_no_jinja_in_any_chain_text(reactor, rulebook, chain, ipfs_api, short_dir):
    """Jinja that would create a marker file sits in every text the chain holds for the
    provider's deployments (its name, access info, a failure reason, a reason the reactor
    writes from a descriptor) and in a descriptor's free text. Events carry none of it, and
    the reconciles they start evaluate none of it."""
    markers = short_dir  # a provider's name is at most 64 bytes, the Jinja included

    def jinja(field):
        return f"{{{{ lookup('pipe','touch {markers}/{field}') }}}}"

    submit(chain, reactor.keypair, "DinfraProviders", "set_provider_name", {"name": jinja("name")})
    # Reported by the provider before the source starts: Jinja in access info, then in a reason.
    reported = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    submit(chain, reactor.keypair, "DinfraSubscriptions", "report_deployed", {"id": reported, "access_info": jinja("info")})
    submit(chain, reactor.keypair, "DinfraSubscriptions", "report_failed", {"id": reported, "reason": jinja("why")})
    rulebook.start()
    rulebook.wait_for("the source's first position", rulebook.position.exists, 60)
    # Served: its cloud-init user data holds Jinja. Refused: its template is Jinja, which the
    # failure reason the reactor writes then names.
    served = reactor.subscribe(publish(ipfs_api, vm_descriptor(user_data=f"#cloud-config\n# {jinja('data')}\n")))
    refused = reactor.subscribe(publish(ipfs_api, vm_descriptor(template=jinja("tpl"))))
    rulebook.wait_for(f"deployment {served} Running", running(chain, served), RUNNING_WITHIN)
    rulebook.wait_for(f"deployment {refused} Failed",
                      lambda: state_name(deployment(chain, refused)) == "Failed", RUNNING_WITHIN)
    reason = deployment(chain, refused)["state"]["Failed"]["reason"]["Provider"]
    assert jinja("tpl") in reason, f"the refusal does not name the template, so this test shows nothing: {reason}"
    # The failure's own event comes a poll after the block that holds it.
    rulebook.wait_for(f"deployment {refused}'s failed event", lambda: rulebook.changes("failed", refused), 30)
    assert rulebook.changes("awarded", refused), rulebook.log()[-5000:]
    events = rulebook.events()
    assert not [e for e in events if "lookup" in repr(e)], events
    # The failed event's run reads the refusal's reason from the inventory: let it end first.
    rulebook.wait_for("every run the events started to end", rulebook.idle, RUNNING_WITHIN)
    assert sorted(p.name for p in markers.iterdir()) == [], "chain text was evaluated as a template"
