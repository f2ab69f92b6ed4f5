"""A reconcile run killed whole (a power cut: ansible-playbook, its workers and its modules at
once) at each write step, on the dev stack. The kill is chosen by the step, not by a timer:
the simulator holds that step's API call (a delay fault) and reports it in flight, the test
kills the run, and the call lands after its client is gone, as CloudStack finishes a call whose
client went away. A report is killed while its module runs. After each kill the next run is the
one that continues, so the test checks after each that nothing is there twice, counting what
carries no tag yet as well; the last run must leave exactly one set of resources and one report.

Slow (about 2 min each): one partial run per write step, about 15 s each."""
import json
import threading
import time

import pytest

from ansible_collections.dinfra.chain.plugins.module_utils.cloud_init import exposed_ports
from reactor_helpers import (
    deployment,
    kill_whole_run,
    node_descriptor,
    outcomes,
    publish,
    state_name,
)

HOLD_SECONDS = 3
# The ports the substrate-node descriptor exposes: one firewall rule and one forward each.
PORTS = len(exposed_ports(node_descriptor()))
DEPLOY_WRITES = [
    ("createNetwork", "the isolated network"),
    ("deployVirtualMachine", "the VM with its data disk"),
    ("associateIpAddress", "the public IP address (killed before its tag)"),
    ("createFirewallRule", "a firewall rule"),
    ("createPortForwardingRule", "a port forward"),
]
TEARDOWN_WRITES = [
    ("disassociateIpAddress", "the public IP address's release"),
    ("destroyVirtualMachine", "the VM's expunge"),
    ("deleteNetwork", "the network's deletion"),
]


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.05)


def everything(cs_api, label, dep):
    """The deployment's resources by name and by network, tagged or not."""
    name = f"dinfra-{label}-{dep}"
    networks = [n for n in cs_api.listNetworks(keyword=name, listall=True).get("network", []) if n["name"] == name]
    vms = [v for v in cs_api.listVirtualMachines(name=name, listall=True).get("virtualmachine", []) if v["name"] == name]
    ips = [ip for n in networks for ip in cs_api.listPublicIpAddresses(associatednetworkid=n["id"], listall=True).get(
        "publicipaddress", []) if not ip["issourcenat"]]
    return {
        "networks": networks, "vms": vms, "ips": ips,
        "volumes": [v for vm in vms for v in cs_api.listVolumes(virtualmachineid=vm["id"], listall=True).get("volume", [])],
        "firewall": [r for ip in ips for r in cs_api.listFirewallRules(ipaddressid=ip["id"], listall=True).get("firewallrule", [])],
        "forwards": [r for ip in ips for r in cs_api.listPortForwardingRules(ipaddressid=ip["id"], listall=True).get(
            "portforwardingrule", [])],
    }


def counts(found):
    return {kind: len(resources) for kind, resources in found.items()}


def kill_in_flight(reactor, simulator, tmp_path, command):
    """A run killed whole while CloudStack works on its ``command``; returns once the call has landed."""
    simulator.faults(delay_seconds=HOLD_SECONDS, delay_commands=[command])
    run = reactor.start(tmp_path / f"{command}.json")
    try:
        wait_for(lambda: command in simulator.held() or run.poll() is not None, 300, f"{command} call")
        assert run.poll() is None, f"the run ended before {command}:\n{run.communicate()[0]}"
    finally:
        kill_whole_run(run)
        simulator.clear_faults()
    wait_for(lambda: command not in simulator.held(), HOLD_SECONDS + 30, f"{command} landed")


def kill_during_report(reactor, tmp_path):
    """A run killed whole while it reports. dinfra.chain.deployment_status runs in the worker that
    ansible-playbook forks for the task (its action plugin), so there is no module process to
    wait for: the run is killed as soon as the report task has started, when its worker is being
    forked or is signing (a report takes about 0.1-0.3 s there). Whether the report landed or not,
    the next run must converge and report once."""
    run = reactor.start(tmp_path / "report.json")
    watchdog = threading.Timer(300, run.kill)  # the run's output ends when it does, at the latest here
    watchdog.start()
    seen = []
    try:
        for line in run.stdout:
            seen.append(line)
            if line.startswith("TASK [dinfra.chain.reactor : Report the deployment"):
                break
        assert seen and seen[-1].startswith("TASK [dinfra.chain.reactor : Report"), \
            "the run ended before its report was seen:\n" + "".join(seen)
        assert run.poll() is None, "the run ended before its report was seen:\n" + "".join(seen)
    finally:
        watchdog.cancel()
        kill_whole_run(run)


@pytest.fixture
def node_deployment(reactor, ipfs_api):
    """A substrate-node deployment: the VM gets a data disk, so that the disk is a write too."""
    return reactor.subscribe(publish(ipfs_api, node_descriptor()), "substrate-node")


def test_a_run_killed_at_each_deploy_write_converges_to_one_of_everything(
        reactor, chain, cs_api, simulator, tmp_path, node_deployment):
    dep = node_deployment
    for command, what in DEPLOY_WRITES:
        kill_in_flight(reactor, simulator, tmp_path, command)
        found = counts(everything(cs_api, reactor.label, dep))
        assert all(found[k] <= 1 for k in ("networks", "vms", "ips")) and found["volumes"] <= 2, (what, found)
        assert found["firewall"] <= PORTS and found["forwards"] <= PORTS, (what, found)
        assert state_name(deployment(chain, dep)) == "Awarded", f"killed at {what}: nothing reported"

    kill_during_report(reactor, tmp_path)

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] in ("deployed", "unchanged"), "deployed now, or reported by the killed run"
    found = everything(cs_api, reactor.label, dep)
    assert counts(found) == {"networks": 1, "vms": 1, "ips": 1, "volumes": 2, "firewall": PORTS, "forwards": PORTS}, counts(found)
    assert {v["type"] for v in found["volumes"]} == {"ROOT", "DATADISK"}
    assert {tag["key"] for tag in found["ips"][0]["tags"]} == {"dinfra-deployment"}, "the address was tagged after all"
    record = deployment(chain, dep)
    assert state_name(record) == "Running" and json.loads(record["access_info"])["ip"] == found["ips"][0]["ipaddress"]

    proc, summary = reactor.run()
    assert proc.returncode == 0 and outcomes(summary)[dep] == "unchanged", "one report, and nothing more to do"


def test_a_run_killed_at_each_teardown_write_leaves_nothing_and_reports_once(
        reactor, chain, cs_api, simulator, tmp_path, node_deployment):
    dep = node_deployment
    proc, summary = reactor.run()
    assert proc.returncode == 0 and outcomes(summary)[dep] == "deployed", proc.stdout + proc.stderr
    reactor.consumer_call("cancel", {"id": dep})

    for command, what in TEARDOWN_WRITES:
        kill_in_flight(reactor, simulator, tmp_path, command)
        assert state_name(deployment(chain, dep)) == "Terminating", f"killed at {what}: not reported yet"

    kill_during_report(reactor, tmp_path)

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] in ("torn_down", "unchanged"), "reported now, or by the killed run"
    assert state_name(deployment(chain, dep)) == "Terminated"
    assert counts(everything(cs_api, reactor.label, dep)) == {
        "networks": 0, "vms": 0, "ips": 0, "volumes": 0, "firewall": 0, "forwards": 0}
