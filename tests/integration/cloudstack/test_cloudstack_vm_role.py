"""The dinfra.chain.cloudstack_vm role through the real ansible-playbook against the dev stack's
CloudStack simulator: build, build again without a change, crash mid-way and complete, async job
failures, descriptors the provider cannot serve, and teardown of whole and half-built deployments."""
import base64
import json
import re
import uuid

import pytest
from simulator_helpers import TEMPLATE, ZONE

from ansible_cli import ROOT, ansible_env, run, run_module
from ansible_collections.dinfra.chain.plugins.module_utils.ssh_keys import ssh_public_key

ALICE_ED25519 = "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"
OFFERINGS = [{"name": "Small Instance", "cpu": 1, "memory_mb": 512}, {"name": "Medium Instance", "cpu": 1, "memory_mb": 1024}]
TEMPLATES = {"centos-5": TEMPLATE, "Debian 12 (64-bit)": TEMPLATE}


def vm_descriptor(**extra):
    descriptor = {
        "type": "cloudstack-vm", "version": 1, "name": "web-1", "size": {"cpu": 1, "memory_mb": 1000}, "template": "centos-5",
        "ports": [{"port": 22}, {"port": 80}, {"port": 5353, "protocol": "udp"}],
        "ssh": {"user": "shop", "authorized_keys": [ALICE_ED25519]},
    }
    descriptor.update(extra)
    return descriptor


def substrate_descriptor():
    descriptor = json.loads((ROOT / "descriptors/substrate-node/examples/valid/westend-rpc.json").read_text())
    descriptor["size"] = {"offering": "Medium Instance"}
    return descriptor


def role(tmp_path, env, role_vars, *flags):
    """Runs the role for one deployment; returns its result and failure facts, the play's
    recap counts for localhost, and the finished ansible-playbook."""
    out, book = tmp_path / f"{uuid.uuid4().hex[:8]}.json", tmp_path / "play.yml"
    keep = "{{ {'result': cloudstack_vm_result | default(None), 'failure': cloudstack_vm_failure | default(None)} | to_json }}"
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [{
        "name": "The deployment", "block": [{"ansible.builtin.include_role": {"name": "dinfra.chain.cloudstack_vm"}}],
        "always": [{"name": "Keep the outcome", "check_mode": False, "changed_when": False, "ansible.builtin.copy": {"content": keep, "dest": str(out)}}],
    }]}]
    book.write_text(json.dumps(play))
    defaults = {"cloudstack_vm_zone": ZONE, "cloudstack_vm_service_offerings": OFFERINGS, "cloudstack_vm_templates": TEMPLATES}
    extra = tmp_path / "vars.json"
    extra.write_text(json.dumps({**defaults, **role_vars}))
    overrides = {k: v for k, v in env.items() if k.startswith("CLOUDSTACK_")}
    proc = run(["ansible-playbook", "-i", "localhost,", str(book), "-e", f"@{extra}", *flags], ansible_env(**overrides))
    recap = re.search(r"localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout)
    assert recap, proc.stdout + proc.stderr
    outcome = json.loads(out.read_text())
    outcome["changed"], outcome["failed"] = int(recap.group(2)), int(recap.group(4))
    return outcome, proc


def tagged(cs_api, chain, deployment_id):
    tag = [{"key": "dinfra-deployment", "value": f"{chain}:{deployment_id}"}]
    return {
        "vms": cs_api.listVirtualMachines(tags=tag, listall=True).get("virtualmachine", []),
        "networks": cs_api.listNetworks(tags=tag, listall=True).get("network", []),
        "ips": cs_api.listPublicIpAddresses(tags=tag, listall=True).get("publicipaddress", []),
    }


def deployment(prefix, descriptor, state="present", deployment_id=7):
    return {"cloudstack_vm_chain": prefix, "cloudstack_vm_deployment_id": deployment_id,
            "cloudstack_vm_descriptor": descriptor, "cloudstack_vm_state": state}


def test_builds_a_vm_deployment_that_a_second_run_leaves_alone_and_teardown_removes(tmp_path, cloudstack_env, cs_api, prefix):
    first, proc = role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor()))
    assert first["failed"] == 0, proc.stdout
    result = first["result"]
    found = tagged(cs_api, prefix, 7)
    [vm], [network], [ip] = found["vms"], found["networks"], found["ips"]
    assert vm["name"] == f"dinfra-{prefix}-7" and vm["displayname"] == "web-1" and vm["state"] == "Running"
    assert vm["serviceofferingname"] == "Medium Instance", "the first offering with 1 CPU and 1000 MB"
    assert vm["templatename"] == TEMPLATE and vm["nic"][0]["networkid"] == network["id"]
    assert {t["key"]: t["value"] for t in vm["tags"]} == {"dinfra-chain": prefix, "dinfra-deployment": f"{prefix}:7"}
    assert [(t["key"], t["value"]) for t in ip["tags"]] == [("dinfra-deployment", f"{prefix}:7")]
    assert ip["associatednetworkid"] == network["id"] and not ip["issourcenat"]
    assert result["address"] == ip["ipaddress"] and result["vm_id"] == vm["id"] and result["ssh_user"] == "shop"

    # The consumer's key, from the descriptor, is in cloud-init's ssh_authorized_keys.
    user_data = base64.b64decode(cs_api.getVirtualMachineUserData(virtualmachineid=vm["id"])["virtualmachineuserdata"]["userdata"]).decode()
    key = ssh_public_key(ALICE_ED25519, comment="dinfra-deployment-7")
    assert user_data.startswith("#cloud-config\n") and "ssh_authorized_keys:\n  - " + key in user_data

    rules = cs_api.listFirewallRules(ipaddressid=ip["id"]).get("firewallrule", [])
    assert sorted((r["protocol"], r["startport"], r["cidrlist"]) for r in rules) == [
        ("tcp", 22, "0.0.0.0/0"), ("tcp", 80, "0.0.0.0/0"), ("udp", 5353, "0.0.0.0/0")]
    forwards = cs_api.listPortForwardingRules(ipaddressid=ip["id"]).get("portforwardingrule", [])
    assert sorted((r["protocol"], int(r["publicport"]), int(r["privateport"]), r["virtualmachineid"]) for r in forwards) == [
        ("tcp", 22, 22, vm["id"]), ("tcp", 80, 80, vm["id"]), ("udp", 5353, 5353, vm["id"])]
    assert json.loads(result["access_info"]) == {"ip": ip["ipaddress"], "user": "shop", "tcp": [22, 80], "udp": [5353]}

    second, proc = role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor()))
    assert second["failed"] == 0 and second["changed"] == 0, proc.stdout
    assert second["result"] == result
    assert [v["id"] for v in tagged(cs_api, prefix, 7)["vms"]] == [vm["id"]]

    gone, proc = role(tmp_path, cloudstack_env, deployment(prefix, None, state="absent"))
    assert gone["failed"] == 0 and gone["changed"] > 0, proc.stdout
    assert gone["result"]["removed"] == {"public_ips": [ip["ipaddress"]], "virtual_machines": [vm["name"]], "networks": [network["name"]]}
    assert tagged(cs_api, prefix, 7) == {"vms": [], "networks": [], "ips": []}
    assert not [r for r in cs_api.listFirewallRules(listall=True).get("firewallrule", []) if r["ipaddress"] == ip["ipaddress"]]
    again, proc = role(tmp_path, cloudstack_env, deployment(prefix, None, state="absent"))
    assert again["failed"] == 0 and again["changed"] == 0, proc.stdout


def test_a_substrate_node_gets_its_data_disk_ports_and_service(tmp_path, cloudstack_env, cs_api, prefix):
    outcome, proc = role(tmp_path, cloudstack_env, deployment(prefix, substrate_descriptor(), deployment_id=3))
    assert outcome["failed"] == 0, proc.stdout
    [vm] = tagged(cs_api, prefix, 3)["vms"]
    volumes = {v["type"]: v["size"] // 1024 ** 3 for v in cs_api.listVolumes(virtualmachineid=vm["id"])["volume"]}
    assert volumes == {"ROOT": 20, "DATADISK": 200}
    assert [(p["port"], p["protocol"]) for p in outcome["result"]["ports"]] == [(22, "tcp"), (30333, "tcp"), (9944, "tcp")]
    user_data = base64.b64decode(cs_api.getVirtualMachineUserData(virtualmachineid=vm["id"])["virtualmachineuserdata"]["userdata"]).decode()
    assert "dinfra-substrate-node.service" in user_data and "polkadot-stable2509-2" in user_data
    assert json.loads(outcome["result"]["access_info"])["tcp"] == [22, 9944, 30333]
    role(tmp_path, cloudstack_env, deployment(prefix, None, state="absent", deployment_id=3))
    assert tagged(cs_api, prefix, 3) == {"vms": [], "networks": [], "ips": []}


def test_a_run_that_stopped_after_the_vm_completes_without_a_second_vm(tmp_path, cloudstack_env, cs_api, simulator, prefix):
    # The first run stops where a crash would: the VM exists, the public IP does not.
    simulator.faults(fail_api=[{"command": "associateIpAddress", "count": 1, "errorcode": 530, "errortext": "management server restarting"}])
    broken, proc = role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor()))
    assert broken["failed"] == 1 and broken["failure"]["kind"] == "cloud", proc.stdout
    assert "management server restarting" in broken["failure"]["reason"]
    half = tagged(cs_api, prefix, 7)
    assert len(half["vms"]) == 1 and half["ips"] == []

    done, proc = role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor()))
    assert done["failed"] == 0, proc.stdout
    whole = tagged(cs_api, prefix, 7)
    assert [v["id"] for v in whole["vms"]] == [half["vms"][0]["id"]] and len(whole["ips"]) == 1
    role(tmp_path, cloudstack_env, deployment(prefix, None, state="absent"))


def test_teardown_of_a_half_built_deployment(tmp_path, cloudstack_env, cs_api, simulator, prefix):
    simulator.faults(fail_api=[{"command": "associateIpAddress", "count": 1}])
    role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor()))
    assert len(tagged(cs_api, prefix, 7)["vms"]) == 1

    gone, proc = role(tmp_path, cloudstack_env, deployment(prefix, None, state="absent"))
    assert gone["failed"] == 0, proc.stdout
    assert gone["result"]["removed"]["public_ips"] == [] and len(gone["result"]["removed"]["virtual_machines"]) == 1
    assert tagged(cs_api, prefix, 7) == {"vms": [], "networks": [], "ips": []}


def test_a_failed_deploy_job_is_a_clear_cloud_error_and_the_next_run_deploys_afresh(tmp_path, cloudstack_env, cs_api, simulator, prefix):
    simulator.faults(fail_jobs=[{"command": "deployVirtualMachine", "count": 1, "errorcode": 533,
                                 "errortext": "Insufficient capacity to deploy"}])
    failed, proc = role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor()))
    assert failed["failed"] == 1 and failed["failure"]["kind"] == "cloud", proc.stdout
    assert "Insufficient capacity to deploy" in failed["failure"]["reason"]
    assert "CloudStack failed: " in proc.stdout
    # CloudStack tags after creating: the VM left in Error has its name but no tags.
    [error_vm] = cs_api.listVirtualMachines(name=f"dinfra-{prefix}-7", listall=True)["virtualmachine"]
    assert error_vm["state"] == "Error" and not error_vm.get("tags")

    retried, proc = role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor()))
    assert retried["failed"] == 0, proc.stdout
    [vm] = tagged(cs_api, prefix, 7)["vms"]
    assert vm["state"] == "Running" and vm["id"] != error_vm["id"]
    role(tmp_path, cloudstack_env, deployment(prefix, None, state="absent"))


@pytest.mark.parametrize("change, says", [
    ({"size": {"offering": "Huge Instance"}}, "service offering 'Huge Instance' is not offered here; offered: Medium Instance, Small Instance"),
    ({"size": {"cpu": 64, "memory_mb": 1024}}, "no service offering here has 64 CPU(s) and 1024 MB"),
    ({"template": "windows-2022"}, "template 'windows-2022' is not offered here; offered: Debian 12 (64-bit), centos-5"),
    ({"user_data": "#cloud-config\n" + "# padding\n" * 3000}, "over this cloud's limit of 32768"),
])
def test_a_descriptor_this_cloud_cannot_serve_is_refused_before_anything_is_built(tmp_path, cloudstack_env, cs_api, prefix, change, says):
    refused, proc = role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor(**change)))
    assert refused["failed"] == 1 and refused["failure"]["kind"] == "refused", proc.stdout
    assert says in refused["failure"]["reason"]
    assert tagged(cs_api, prefix, 7) == {"vms": [], "networks": [], "ips": []}


def test_check_mode_builds_nothing(tmp_path, cloudstack_env, cs_api, prefix):
    checked, proc = role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor()), "--check")
    assert checked["failed"] == 0 and checked["changed"] > 0, proc.stdout
    assert tagged(cs_api, prefix, 7) == {"vms": [], "networks": [], "ips": []}


def test_deployment_info_lists_a_chains_deployments_and_never_mistakes_an_error_for_none(tmp_path, cloudstack_env, simulator, prefix):
    for deployment_id in (4, 5):
        outcome, proc = role(tmp_path, cloudstack_env, deployment(prefix, vm_descriptor(ports=[]), deployment_id=deployment_id))
        assert outcome["failed"] == 0, proc.stdout
    env = {k: v for k, v in cloudstack_env.items() if k.startswith("CLOUDSTACK_")}
    listed = run_module(tmp_path, "dinfra.chain.cloudstack_deployment_info", {"chain": prefix}, **env)
    assert listed["deployment_ids"] == [4, 5] and len(listed["virtual_machines"]) == 2 and "tags" not in listed
    one = run_module(tmp_path, "dinfra.chain.cloudstack_deployment_info", {"chain": prefix, "deployment_id": 5, "zone": ZONE}, **env)
    assert [vm["name"] for vm in one["virtual_machines"]] == [f"dinfra-{prefix}-5"] and one["deployment_ids"] == [5]
    assert one["tags"] == [{"key": "dinfra-chain", "value": prefix}, {"key": "dinfra-deployment", "value": f"{prefix}:5"}]

    simulator.faults(down="503")
    down = run_module(tmp_path, "dinfra.chain.cloudstack_deployment_info", {"chain": prefix}, **env)
    assert down.get("failed") and "virtual_machines" not in down
    simulator.clear_faults()
    for deployment_id in (4, 5):
        role(tmp_path, cloudstack_env, deployment(prefix, None, state="absent", deployment_id=deployment_id))
