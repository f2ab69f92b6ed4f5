"""The Chain Reactor under faults, on the dev stack: killed mid-deployment, the chain's RPC gone,
IPFS gone, CloudStack failing, two runs at once. In every case nothing is torn down that the
chain did not end, nothing is built twice, and the next healthy run converges."""
import json
import os
import signal
import time

from reactor_helpers import ChainProxy, deployment, outcomes, publish, state_name, vm_descriptor
from test_reactor_lifecycle import tagged


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.2)


def running_deployment(reactor, ipfs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    proc, summary = reactor.run()
    assert proc.returncode == 0 and outcomes(summary)[dep] == "deployed", proc.stdout + proc.stderr
    return dep


def test_killed_after_the_vm_and_before_the_report_converges_to_one_vm(reactor, chain, ipfs_api, cs_api, simulator, tmp_path):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    # The address comes after the VM; holding its call open gives the kill a window.
    simulator.faults(delay_seconds=8, delay_commands=["associateIpAddress"])
    run = reactor.start(tmp_path / "killed.json")
    try:
        wait_for(lambda: tagged(cs_api, reactor.label, dep)["vms"], 120, "VM")
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
    simulator.clear_faults()
    assert state_name(deployment(chain, dep)) == "Awarded", "killed before its report"

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "deployed"
    found = tagged(cs_api, reactor.label, dep)
    assert len(found["vms"]) == 1 and len(found["networks"]) == 1 and len(found["ips"]) == 1
    record = deployment(chain, dep)
    assert state_name(record) == "Running" and json.loads(record["access_info"])["ip"] == found["ips"][0]["ipaddress"]

    proc, summary = reactor.run()
    assert proc.returncode == 0 and outcomes(summary)[dep] == "unchanged", "reported once"


def test_chain_unreachable_at_the_start_touches_nothing(reactor, chain, ipfs_api, cs_api):
    dep = running_deployment(reactor, ipfs_api)
    reactor.consumer_call("cancel", {"id": dep})  # even a deployment the chain ended must wait for a read

    proc, summary = reactor.run(env={"DINFRA_NODE_URL": "ws://127.0.0.1:9"})
    assert proc.returncode not in (0, 2), "Ansible could not read the chain: not a normal run"
    assert summary is None
    assert "dinfra.chain.deployments" in proc.stdout + proc.stderr and "127.0.0.1:9" in proc.stdout + proc.stderr
    assert len(tagged(cs_api, reactor.label, dep)["vms"]) == 1, "nothing is torn down without a chain read"
    assert state_name(deployment(chain, dep)) == "Terminating"


def test_chain_lost_during_a_run_leaves_deployments_as_they_are(reactor, chain, ipfs_api, cs_api, node_url):
    running = running_deployment(reactor, ipfs_api)
    awarded = reactor.subscribe(publish(ipfs_api, vm_descriptor(name="second")))
    # Two connections: the inventory's read and its read again under the lock. Every later
    # connection (the descriptor's type lookup, the reports) is refused.
    proxy = ChainProxy(node_url, allowed=2)
    try:
        proc, summary = reactor.run(env={"DINFRA_NODE_URL": proxy.url})
    finally:
        proxy.close()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert outcomes(summary) == {running: "unchanged", awarded: "retrying"}
    assert "need attention" in proc.stdout and f"deployment {awarded}" in proc.stdout
    assert len(tagged(cs_api, reactor.label, running)["vms"]) == 1
    assert state_name(deployment(chain, running)) == "Running"
    assert state_name(deployment(chain, awarded)) == "Awarded" and not tagged(cs_api, reactor.label, awarded)["vms"]

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary) == {running: "unchanged", awarded: "deployed"}


def test_ipfs_down_leaves_the_deployment_awarded_for_the_next_run(reactor, chain, ipfs_api, cs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))

    proc, summary = reactor.run(env={"DINFRA_IPFS_GATEWAY": "http://127.0.0.1:9"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "retrying"
    assert "not fetched" in proc.stdout and "127.0.0.1:9" in proc.stdout
    assert state_name(deployment(chain, dep)) == "Awarded" and not tagged(cs_api, reactor.label, dep)["vms"]

    proc, summary = reactor.run()
    assert proc.returncode == 0 and outcomes(summary)[dep] == "deployed", proc.stdout + proc.stderr


def test_cloudstack_job_failure_is_retried_and_builds_one_vm(reactor, chain, ipfs_api, cs_api, simulator):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    simulator.faults(fail_jobs=[{"command": "deployVirtualMachine", "count": 1, "errorcode": 533,
                                 "errortext": "Insufficient capacity"}])

    proc, summary = reactor.run()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "retrying" and "Insufficient capacity" in proc.stdout
    assert state_name(deployment(chain, dep)) == "Awarded"

    proc, summary = reactor.run()
    assert proc.returncode == 0 and outcomes(summary)[dep] == "deployed", proc.stdout + proc.stderr
    [vm] = tagged(cs_api, reactor.label, dep)["vms"]
    assert vm["state"] == "Running"


def test_cloudstack_down_never_fails_or_rebuilds_a_running_deployment(reactor, chain, ipfs_api, cs_api, simulator):
    dep = running_deployment(reactor, ipfs_api)
    access_info = deployment(chain, dep)["access_info"]
    simulator.faults(down="503")

    proc, summary = reactor.run()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "retrying"
    simulator.clear_faults()
    assert deployment(chain, dep)["access_info"] == access_info and state_name(deployment(chain, dep)) == "Running"
    assert len(tagged(cs_api, reactor.label, dep)["vms"]) == 1


def test_two_runs_at_once_build_one_vm(reactor, chain, ipfs_api, cs_api, tmp_path):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    runs = [reactor.start(tmp_path / f"summary-{n}.json", reactor_lock_wait=300) for n in range(2)]
    for run in runs:
        output = run.communicate(timeout=600)[0]
        assert run.returncode == 0, output
    done = sorted(outcomes(json.loads((tmp_path / f"summary-{n}.json").read_text()))[dep] for n in range(2))
    assert done == ["deployed", "unchanged"], "the second run waited, then read the chain again"
    assert len(tagged(cs_api, reactor.label, dep)["vms"]) == 1
    assert state_name(deployment(chain, dep)) == "Running"


def test_a_run_that_cannot_take_the_lock_does_nothing(reactor, chain, ipfs_api, cs_api, simulator, tmp_path):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    simulator.faults(delay_seconds=5, delay_commands=["deployVirtualMachine"])
    holder = reactor.start(tmp_path / "holder.json")
    try:
        wait_for(lambda: tagged(cs_api, reactor.label, dep)["networks"], 120, "network")
        proc, summary = reactor.run(reactor_lock_wait=0)
    finally:
        holder.communicate(timeout=600)
    assert proc.returncode == 2 and summary is None
    assert "another reactor run holds the lock" in proc.stdout
    assert holder.returncode == 0
    assert len(tagged(cs_api, reactor.label, dep)["vms"]) == 1
