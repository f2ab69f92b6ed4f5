"""The explicit mapping of a descriptor to a provider's CloudStack (module_utils.cloudstack_plan)
and the filter that exposes it to the role: pure logic, no cloud."""
import json
import pathlib

import pytest

from ansible_collections.dinfra.chain.plugins.filter.cloudstack_vm_plan import cloudstack_vm_plan, plain
from ansible_collections.dinfra.chain.plugins.module_utils.cloudstack_plan import PlanError, choose_offering, choose_template, plan
from ansible.errors import AnsibleFilterError

ROOT = pathlib.Path(__file__).resolve().parents[2]
OFFERINGS = [{"name": "s", "cpu": 1, "memory_mb": 1024}, {"name": "m", "cpu": 2, "memory_mb": 4096}, {"name": "l", "cpu": 8, "memory_mb": 32768}]
SETTINGS = {"service_offerings": OFFERINGS, "templates": {"Debian 12 (64-bit)": "debian-12-cloud", "centos": "CentOS"}}


def example(name):
    return json.loads((ROOT / "descriptors" / name).read_text())


@pytest.mark.parametrize("size, chosen", [
    ({"cpu": 1, "memory_mb": 512}, "s"),
    ({"cpu": 1, "memory_mb": 1025}, "m"),
    ({"cpu": 3, "memory_mb": 128}, "l"),
    ({"offering": "m"}, "m"),
])
def test_the_first_offering_that_fits_or_the_one_named(size, chosen):
    assert choose_offering(size, OFFERINGS)["name"] == chosen


def test_an_offering_that_is_not_served_names_what_is():
    with pytest.raises(PlanError, match=r"service offering 'xl' is not offered here; offered: l, m, s"):
        choose_offering({"offering": "xl"}, OFFERINGS)
    with pytest.raises(PlanError, match=r"no service offering here has 16 CPU\(s\) and 1024 MB; offered: .*l \(8 CPU, 32768 MB\)"):
        choose_offering({"cpu": 16, "memory_mb": 1024}, OFFERINGS)
    with pytest.raises(PlanError, match="offered: nothing"):
        choose_offering({"offering": "s"}, [])
    with pytest.raises(PlanError, match="malformed"):
        choose_offering({"offering": "s"}, [{"cpu": 1}])


def test_templates_are_mapped_by_name_only():
    assert choose_template("centos", SETTINGS["templates"]) == "CentOS"
    with pytest.raises(PlanError, match=r"template 'CentOS' is not offered here; offered: Debian 12 \(64-bit\), centos"):
        choose_template("CentOS", SETTINGS["templates"])


def test_a_substrate_node_plan():
    result = plan(example("substrate-node/examples/valid/westend-rpc.json"), 9, SETTINGS)
    assert (result["service_offering"], result["template"]) == ("l", "debian-12-cloud")
    assert (result["root_disk_gb"], result["data_disk_gb"], result["data_disk_offering"]) == (20, 200, "Custom")
    assert result["authorized_keys"] == ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjcNBfVBY7EtFA+DBLqGgqJviAP6YkiQj1DNAFPprDu dinfra-deployment-9"]
    assert result["authorized_keys"][0] in result["user_data"]
    assert "access_info" not in result
    with_address = plan(example("substrate-node/examples/valid/westend-rpc.json"), 9, SETTINGS, address="203.0.113.9")
    assert json.loads(with_address["access_info"]) == {"ip": "203.0.113.9", "user": "dinfra", "tcp": [22, 9944, 30333]}


def test_a_cloudstack_vm_without_disk_or_data_disk():
    descriptor = dict(example("cloudstack-vm/examples/valid/small-by-offering.json"), size={"offering": "s"}, template="centos")
    result = plan(descriptor, 1, SETTINGS)
    assert (result["root_disk_gb"], result["data_disk_gb"], result["ports"]) == (None, None, [])


def test_unserved_types_bad_keys_and_large_user_data_are_refused():
    descriptor = dict(example("cloudstack-vm/examples/valid/small-by-offering.json"), size={"offering": "s"}, template="centos")
    with pytest.raises(PlanError, match="deployment type 'kubernetes' is not served by the cloudstack_vm role"):
        plan(dict(descriptor, type="kubernetes"), 1, SETTINGS)
    with pytest.raises(PlanError, match="ssh.authorized_keys: "):
        plan(dict(descriptor, ssh={"authorized_keys": ["5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpX"]}), 1, SETTINGS)
    with pytest.raises(PlanError, match="over this cloud's limit of 100"):
        plan(descriptor, 1, dict(SETTINGS, user_data_max=100))


def test_the_filter_turns_plan_errors_and_malformed_input_into_filter_errors():
    descriptor = example("cloudstack-vm/examples/valid/small-by-offering.json")
    with pytest.raises(AnsibleFilterError, match="dinfra.chain.cloudstack_vm_plan: service offering 'Small Instance' is not offered"):
        cloudstack_vm_plan(descriptor, 1, SETTINGS)
    with pytest.raises(AnsibleFilterError, match="not a valid cloudstack-vm or substrate-node descriptor"):
        cloudstack_vm_plan({"type": "cloudstack-vm"}, 1, SETTINGS)
    with pytest.raises(AnsibleFilterError, match="must be mappings"):
        cloudstack_vm_plan("descriptor", 1, SETTINGS)


def test_plain_strips_ansible_types_and_refuses_objects():
    class TaggedStr(str):
        """Stands for Ansible's tagged and unsafe str subclasses."""

    converted = plain({TaggedStr("k"): [TaggedStr("v"), 1, True, None, 1.5, (2,)]})
    assert converted == {"k": ["v", 1, True, None, 1.5, [2]]}
    assert next(iter(converted)).__class__ is str and converted["k"][0].__class__ is str
    with pytest.raises(AnsibleFilterError, match="unexpected object"):
        plain({"k": object()})
