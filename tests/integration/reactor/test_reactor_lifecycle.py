"""The Chain Reactor end to end on the dev stack: the real `ansible-playbook dinfra.chain.reconcile`
against the dev chain (our runtime), Kubo and the CloudStack simulator. Each test has a provider
of its own, so deployments never mix; chain and cloud state are checked directly."""
import json
import os
import re
import uuid

from reactor_helpers import PRICE, LyingGateway, advance, submit, deployment, node_descriptor, outcomes, publish, state_name, vm_descriptor

from ansible_collections.dinfra.chain.plugins.module_utils.cid import raw_cid


def tagged(cs_api, label, deployment_id):
    tag = [{"key": "dinfra-deployment", "value": f"{label}:{deployment_id}"}]
    return {
        "vms": cs_api.listVirtualMachines(tags=tag, listall=True).get("virtualmachine", []),
        "networks": cs_api.listNetworks(tags=tag, listall=True).get("network", []),
        "ips": cs_api.listPublicIpAddresses(tags=tag, listall=True).get("publicipaddress", []),
    }


def nothing_left(cs_api, label, deployment_id):
    return all(not found for found in tagged(cs_api, label, deployment_id).values())


def test_substrate_node_from_award_to_teardown_when_the_deposit_runs_out(reactor, chain, ipfs_api, cs_api):
    deposit = 30 * PRICE
    dep = reactor.subscribe(publish(ipfs_api, node_descriptor()), "substrate-node", deposit=deposit)

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "deployed" and summary["counts"]["deployed"] == 1
    record = deployment(chain, dep)
    assert state_name(record) == "Running"
    [vm], [ip] = tagged(cs_api, reactor.label, dep)["vms"], tagged(cs_api, reactor.label, dep)["ips"]
    assert vm["state"] == "Running" and vm["serviceofferingname"] == "Medium Instance"
    access = json.loads(record["access_info"])
    assert access["ip"] == ip["ipaddress"] and 30333 in access["tcp"] and 9944 in access["tcp"]
    assert f"deployment {dep} (substrate-node, awarded): deployed" in proc.stdout

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "unchanged"
    assert len(tagged(cs_api, reactor.label, dep)["vms"]) == 1

    head = chain.get_block_number(chain.get_chain_head())
    advance(chain, record["deadline"] - head)
    assert state_name(deployment(chain, dep)) == "Terminating"

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "torn_down"
    ended = deployment(chain, dep)
    assert ended["state"] == {"Terminated": {"reason": "Exhausted", "confirmed": True}}
    assert ended["paid"] == deposit - deposit % PRICE, "the provider is paid the whole deposit, block by block"
    assert nothing_left(cs_api, reactor.label, dep)

    proc, summary = reactor.run()
    assert proc.returncode == 0 and outcomes(summary)[dep] == "unchanged", "a finished deployment is only looked at"


def test_cancel_before_deploy_builds_nothing_and_reports_terminated(reactor, chain, ipfs_api, cs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    reactor.consumer_call("cancel", {"id": dep})
    assert state_name(deployment(chain, dep)) == "Terminating"

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "torn_down"
    assert deployment(chain, dep)["state"] == {"Terminated": {"reason": "Cancelled", "confirmed": True}}
    assert nothing_left(cs_api, reactor.label, dep)


def test_a_descriptor_that_never_arrives_stays_awarded_until_the_award_timeout(reactor, chain, short_award_timeout, cs_api):
    # A CID whose bytes no node has: the gateway cannot answer, so the deployment waits.
    unpublished = publish_nothing_cid()
    dep = reactor.subscribe(unpublished)

    proc, summary = reactor.run(reactor_ipfs_timeout=2)
    assert proc.returncode == 2, "a deployment that could not be handled needs a look"
    assert outcomes(summary)[dep] == "retrying"
    assert f"descriptor {unpublished} not fetched" in proc.stdout
    assert state_name(deployment(chain, dep)) == "Awarded"

    advance(chain, short_award_timeout + 1)
    assert deployment(chain, dep)["state"] == {"Failed": {"reason": "Timeout"}}
    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "unchanged"
    assert nothing_left(cs_api, reactor.label, dep)


def publish_nothing_cid():
    """The raw CIDv1 of bytes that are published nowhere."""
    return str(raw_cid(os.urandom(64)))


def test_invalid_descriptor_is_reported_failed_with_the_reason(reactor, chain, ipfs_api, cs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor(ports=[{"port": 70000}])))

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "failed"
    reason = deployment(chain, dep)["state"]["Failed"]["reason"]["Provider"]
    assert "$.ports[0].port: 70000 is greater than the maximum of 65535" in reason
    assert nothing_left(cs_api, reactor.label, dep)


def test_a_plan_the_cloud_cannot_serve_is_reported_failed(reactor, chain, ipfs_api, cs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor(template="windows-11")))

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reason = deployment(chain, dep)["state"]["Failed"]["reason"]["Provider"]
    assert "windows-11" in reason and "centos-5" in reason, "the reason names what is offered"
    assert outcomes(summary)[dep] == "failed" and nothing_left(cs_api, reactor.label, dep)


def test_a_type_with_no_role_is_reported_failed(reactor, chain, ipfs_api):
    # The provider offers substrate-node on chain but maps only cloudstack-vm to a role.
    dep = reactor.subscribe(publish(ipfs_api, node_descriptor()), "substrate-node")

    proc, summary = reactor.run(reactor_types={"cloudstack-vm": {"role": "dinfra.chain.cloudstack_vm", "tasks_from": "reactor"}})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "failed"
    assert deployment(chain, dep)["state"] == {
        "Failed": {"reason": {"Provider": "this provider has no automation for deployment type substrate-node"}}}


def test_top_up_extends_the_deployment_past_its_first_deadline(reactor, chain, ipfs_api, cs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()), deposit=10 * PRICE)
    proc, _summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first_deadline = deployment(chain, dep)["deadline"]

    reactor.consumer_call("top_up", {"id": dep, "amount": 50 * PRICE})
    assert deployment(chain, dep)["deadline"] == first_deadline + 50
    advance(chain, first_deadline - chain.get_block_number(chain.get_chain_head()) + 1)

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "unchanged"
    assert state_name(deployment(chain, dep)) == "Running"
    assert len(tagged(cs_api, reactor.label, dep)["vms"]) == 1


def test_a_run_with_nothing_to_do_lists_each_kind_of_resource_once_and_works_on_no_host(reactor, ipfs_api, simulator):
    """Two deployments deployed, then a run with nothing to do: the type role's survey lists each
    kind of resource a fixed number of times for all deployments at once, and no deployment gets
    a host of its own in the run. Two deployments, not one, so that per-deployment lookups would
    show in the counts."""
    first, second = (reactor.subscribe(publish(ipfs_api, vm_descriptor(f"web-{i}"))) for i in (1, 2))
    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary) == {first: "deployed", second: "deployed"}

    simulator.calls(restart=True)
    proc, summary = reactor.run()
    calls = simulator.calls()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary) == {first: "unchanged", second: "unchanged"}
    recap = proc.stdout.split("PLAY RECAP", 1)[1]
    assert "deployment-" not in recap, "a deployment that needs no work got per-host tasks"
    # One chain read: the inventory took the lock before it read (reactor_lock: true), so the
    # play's lock task finds it held, unchanged, and the play does not read again.
    assert re.search(r"TASK \[Take the lock, so that no other run[^\n]*\nok: \[localhost\]", proc.stdout), proc.stdout
    assert re.search(r"TASK \[Read the deployments again, under the lock, unless[^\n]*\nskipping: \[localhost\]",
                     proc.stdout), proc.stdout
    # The survey: VMs and networks by chain tag and by name, every address; listZones for the zone id.
    assert calls == {"listZones": 1, "listVirtualMachines": 2, "listNetworks": 2, "listPublicIpAddresses": 1}, calls


def test_vanished_resources_are_built_again_and_the_new_address_reported(reactor, chain, ipfs_api, cs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    proc, _summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [ip] = tagged(cs_api, reactor.label, dep)["ips"]
    # Someone releases the address by hand in the cloud.
    cs_api.disassociateIpAddress(id=ip["id"], fetch_result=True)

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "deployed" and "redeployed" in proc.stdout
    found = tagged(cs_api, reactor.label, dep)
    assert len(found["vms"]) == 1 and len(found["ips"]) == 1
    assert found["ips"][0]["id"] != ip["id"], "a new address, which the simulator may give the same number"
    assert json.loads(deployment(chain, dep)["access_info"])["ip"] == found["ips"][0]["ipaddress"]


def test_vanished_resources_are_reported_failed_when_the_provider_says_so(reactor, chain, ipfs_api, cs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    proc, _summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [vm] = tagged(cs_api, reactor.label, dep)["vms"]
    cs_api.destroyVirtualMachine(id=vm["id"], expunge=True, fetch_result=True)

    proc, summary = reactor.run(reactor_on_vanished="fail")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "failed"
    assert "disappeared" in deployment(chain, dep)["state"]["Failed"]["reason"]["Provider"]
    # What was left (its network, its address) goes with the next run's sweep.
    proc, summary = reactor.run()
    assert proc.returncode == 0 and outcomes(summary)[dep] == "torn_down"
    assert nothing_left(cs_api, reactor.label, dep)


def test_check_mode_changes_nothing(reactor, chain, ipfs_api, cs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))

    proc, summary = reactor.run("--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert summary["check_mode"] is True and outcomes(summary)[dep] == "deployed"
    assert state_name(deployment(chain, dep)) == "Awarded"
    assert nothing_left(cs_api, reactor.label, dep)


# A provider's own type and role: the reactor knows nothing of CloudStack. The role keeps each
# deployment as a file, and honours the reactor's interface (docs/reactor.md).
FILE_BOX_ROLE = """\
- name: Keep the deployment as a file
  ansible.builtin.copy:
    content: "{{ reactor_deployment.descriptor | to_json }}"
    dest: "{{ file_box_dir }}/{{ reactor_deployment.id }}.json"
    mode: "0600"
  when: reactor_action == 'deploy'
- name: Look for it
  ansible.builtin.stat:
    path: "{{ file_box_dir }}/{{ reactor_deployment.id }}.json"
  register: file_box_file
- name: Remove it
  ansible.builtin.file:
    path: "{{ file_box_dir }}/{{ reactor_deployment.id }}.json"
    state: absent
  when: reactor_action == 'teardown'
- name: Answer the reactor
  ansible.builtin.set_fact:
    reactor_type_result:
      access_info: "file://{{ file_box_dir }}/{{ reactor_deployment.id }}.json"
      present: "{{ file_box_file.stat.exists }}"
      removed: "{{ reactor_action == 'teardown' and file_box_file.stat.exists }}"
"""


def test_a_provider_maps_its_own_type_to_its_own_role(reactor, chain, ipfs_api, tmp_path):
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "required": ["greeting"], "properties": {"greeting": {"type": "string"}}, "additionalProperties": False}
    type_name = f"file-box-{uuid.uuid4().hex[:6]}"
    receipt = submit(chain, reactor.keypair, "DinfraProviders", "register_deployment_type",
                     {"name": type_name, "schema_cid": publish(ipfs_api, schema)})
    type_id = next(e.value["event"]["attributes"]["type_id"] for e in receipt.triggered_events
                   if e.value["event"]["event_id"] == "DeploymentTypeRegistered")
    submit(chain, reactor.keypair, "DinfraProviders", "set_offer", {"type_id": type_id, "capacity": 5, "price_per_block": PRICE})
    (tmp_path / "roles" / "file_box" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "file_box" / "tasks" / "main.yml").write_text(FILE_BOX_ROLE)
    boxes = tmp_path / "boxes"
    boxes.mkdir()
    mapping = {"reactor_types": {type_name: {"role": "file_box"}}, "file_box_dir": str(boxes)}
    env = {"ANSIBLE_ROLES_PATH": str(tmp_path / "roles")}

    dep = reactor.subscribe(publish(ipfs_api, {"greeting": "hello"}), type_id=type_id)
    wrong = reactor.subscribe(publish(ipfs_api, {"greeting": 42}), type_id=type_id)
    proc, summary = reactor.run(env=env, **mapping)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary) == {dep: "deployed", wrong: "failed"}, "its schema is enforced as the reference types' are"
    assert json.loads((boxes / f"{dep}.json").read_text()) == {"greeting": "hello"}
    assert deployment(chain, dep)["access_info"] == f"file://{boxes}/{dep}.json"
    assert not (boxes / f"{wrong}.json").exists()

    (boxes / f"{dep}.json").unlink()  # vanished: the default is to build it again
    proc, summary = reactor.run(env=env, **mapping)
    assert proc.returncode == 0 and outcomes(summary)[dep] == "deployed", proc.stdout + proc.stderr
    assert (boxes / f"{dep}.json").exists()

    reactor.consumer_call("cancel", {"id": dep})
    proc, summary = reactor.run(env=env, **mapping)
    assert proc.returncode == 0 and outcomes(summary)[dep] == "torn_down", proc.stdout + proc.stderr
    assert not (boxes / f"{dep}.json").exists()
    assert deployment(chain, dep)["state"] == {"Terminated": {"reason": "Cancelled", "confirmed": True}}


def test_text_that_is_not_strict_utf8_json_is_reported_failed_with_the_reason(reactor, chain, ipfs_api, cs_api):
    """A lone surrogate escape is valid JSON syntax but no Unicode text: Ansible refuses any
    module result that holds one, so it must be caught before, or the deployment would retry
    until the award timeout and the consumer would never learn why."""
    good = json.dumps(vm_descriptor()).encode()
    surrogate = reactor.subscribe(publish(ipfs_api, good.replace(b'"name": "web-1"', b'"name": "web-\\ud800"')))
    not_utf8 = reactor.subscribe(publish(ipfs_api, good.replace(b'"name": "web-1"', b'"name": "web-\xff"')))

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary) == {surrogate: "failed", not_utf8: "failed"}
    reason = deployment(chain, surrogate)["state"]["Failed"]["reason"]["Provider"]
    assert "is not strict UTF-8 JSON: the string at $.name escapes a lone UTF-16 surrogate" in reason, reason
    reason = deployment(chain, not_utf8)["state"]["Failed"]["reason"]["Provider"]
    assert "the descriptor is not UTF-8 text (byte" in reason, reason
    for dep in (surrogate, not_utf8):
        assert nothing_left(cs_api, reactor.label, dep)


def test_a_gateway_that_serves_wrong_bytes_is_retried_and_never_fails_the_deployment(reactor, chain, ipfs_api, cs_api):
    """The rule of docs/descriptors.md: a CID names its bytes, so wrong bytes are the gateway's
    fault, never the consumer's. The deployment stays Awarded and the run needs a look (exit
    2); a gateway that serves the right bytes later deploys it."""
    cid = publish(ipfs_api, vm_descriptor())
    dep = reactor.subscribe(cid)
    liar = LyingGateway()
    try:
        proc, summary = reactor.run(reactor_ipfs_gateway=liar.url)
    finally:
        liar.close()
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "retrying"
    assert f"descriptor {cid} not fetched" in proc.stdout and "do not match" in proc.stdout
    assert state_name(deployment(chain, dep)) == "Awarded" and nothing_left(cs_api, reactor.label, dep)

    proc, summary = reactor.run()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outcomes(summary)[dep] == "deployed" and state_name(deployment(chain, dep)) == "Running"
