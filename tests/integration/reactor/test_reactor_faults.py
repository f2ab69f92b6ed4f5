"""The Chain Reactor under faults, on the dev stack: killed mid-deployment, the chain's RPC gone,
IPFS gone, CloudStack failing, two runs at once. In every case nothing is torn down that the
chain did not end, nothing is built twice, and the next healthy run converges."""
import json
import os
import signal
import time

from ansible_collections.dinfra.chain.plugins.module_utils.run_lock import lock_path, process_start, read_owner
from reactor_helpers import ChainProxy, command_line, deployment, outcomes, publish, run_modules, state_name, vm_descriptor
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
    # One connection: the inventory's read, made under the lock (reactor_lock: true). Every
    # later connection (the descriptor's type lookup, the reports) is refused.
    proxy = ChainProxy(node_url, allowed=1)
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


def test_a_killed_runs_leftover_module_keeps_the_next_run_waiting(reactor, chain, ipfs_api, cs_api, simulator, tmp_path):
    """A run killed by its process group while cs_instance creates the VM: ansible-core's
    workers are in sessions of their own, so the worker and its module live on and finish the
    write. The next run must not act until they are gone. Slow (about 70 s): the module is
    held in deployVirtualMachine for 20 s so that the test can watch the lock while it runs."""
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    simulator.faults(delay_seconds=20, delay_commands=["deployVirtualMachine"])
    reactor.env["CLOUDSTACK_TIMEOUT"] = "60"  # the delayed call must not time out
    first = reactor.start(tmp_path / "killed.json")
    try:
        wait_for(lambda: any("AnsiballZ_cs_instance" in command_line(p) for p in run_modules(first.pid)), 180,
                 "the module that creates the VM")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    leftovers = {pid: process_start(pid) for pid in run_modules(first.pid)}
    assert leftovers, "the kill reached the module: nothing to test"

    def alive():
        return any(process_start(pid) == start for pid, start in leftovers.items())

    # A run that cannot wait long is told that the killed run is still at work, and does nothing.
    proc, summary = reactor.run(reactor_lock_wait=1)
    assert alive(), "the leftovers ended before the check: make the delay longer"
    assert proc.returncode == 2 and summary is None, proc.stdout
    assert f"ansible-playbook pid {first.pid}" in proc.stdout and "which has ended, but" in proc.stdout
    assert "AnsiballZ_cs_instance" in proc.stdout, proc.stdout

    # A run that waits takes the lock only once the leftovers are gone.
    path = lock_path(reactor.env["DINFRA_LOCK_DIR"], f"reactor {reactor.address}")
    second = reactor.start(tmp_path / "second.json", reactor_lock_wait=120)
    checks = 0
    while True:
        holder = read_owner(path)  # read first: if they are alive after it, they were alive at it
        if not alive():
            break
        assert holder and holder["pid"] == first.pid, f"the lock passed on while leftovers ran: {holder}"
        checks += 1
        time.sleep(0.2)
    assert checks > 0
    output = second.communicate(timeout=600)[0]
    assert second.returncode == 0, output
    assert outcomes(json.loads((tmp_path / "second.json").read_text()))[dep] == "deployed"
    simulator.clear_faults()
    found = tagged(cs_api, reactor.label, dep)
    assert len(found["vms"]) == 1 and len(found["networks"]) == 1 and len(found["ips"]) == 1
    assert state_name(deployment(chain, dep)) == "Running"
