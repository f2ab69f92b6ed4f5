"""The reactor's plan (which deployments get per-host work) and the cloudstack_vm role's
presence check: pure logic, so tested with plain data."""
import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.dinfra.chain.plugins.filter.cloudstack_vm_presence import cloudstack_vm_presence
from ansible_collections.dinfra.chain.plugins.filter.reactor_plan import reactor_plan

VM = {"role": "dinfra.chain.cloudstack_vm", "tasks_from": "reactor"}
OTHER = {"role": "example.own.role"}
TYPES = {"cloudstack-vm": VM, "substrate-node": VM, "own": OTHER}
VM_KEY = "dinfra.chain.cloudstack_vm:reactor"


def hosts(*deployments):
    """hostvars for deployments given as (id, state, type)."""
    return {
        f"deployment-{i}": {"dinfra_deployment_id": i, "dinfra_state": state, "dinfra_type_name": kind}
        for i, state, kind in deployments
    }


def plan(hostvars, surveys, sweep=True, types=None):
    return reactor_plan(list(hostvars), hostvars, TYPES if types is None else types, surveys, sweep)


def survey(**deployments):
    return {VM_KEY: {"ok": True, "deployments": {k.lstrip("d"): v for k, v in deployments.items()}}}


WHOLE = {"present": True, "detail": "", "resources": True}
VANISHED = {"present": False, "detail": "no a running VM", "resources": True}
GONE = {"present": False, "detail": "no a running VM, no its network, no its public IP", "resources": False}


def test_a_run_with_nothing_to_do_has_no_per_host_work():
    hv = hosts(*[(i, "running", "cloudstack-vm") for i in range(50)], (50, "terminated", "cloudstack-vm"))
    result = plan(hv, survey(**{f"d{i}": WHOLE for i in range(50)}))
    assert result["work"] == []
    assert {r["outcome"] for r in result["records"].values()} == {"unchanged"}
    assert result["records"]["deployment-7"] == {
        "id": 7, "state": "running", "type": "cloudstack-vm", "outcome": "unchanged", "detail": ""}
    assert len(result["records"]) == 51


def test_only_deployments_that_need_work_get_it():
    hv = hosts((1, "awarded", "cloudstack-vm"), (2, "terminating", "substrate-node"), (3, "running", "cloudstack-vm"),
               (4, "running", "cloudstack-vm"), (5, "failed", "cloudstack-vm"), (6, "terminated", "cloudstack-vm"),
               (7, "running", "cloudstack-vm"))
    result = plan(hv, survey(d3=WHOLE, d4=VANISHED, d5={"present": False, "detail": "", "resources": True}))
    # 7 is running and the survey found nothing of it: vanished, so it gets per-host work too.
    assert result["work"] == ["deployment-1", "deployment-2", "deployment-4", "deployment-5", "deployment-7"]
    assert sorted(result["records"]) == ["deployment-3", "deployment-6"]


def test_a_failed_survey_never_makes_a_deployment_look_vanished_or_clean():
    hv = hosts((1, "running", "cloudstack-vm"), (2, "failed", "cloudstack-vm"))
    for surveys in ({VM_KEY: {"ok": False, "reason": "CloudStack answered 530", "deployments": {}}}, {}):
        # Per-host work asks the cloud again, and a cloud error there is retried, never acted on.
        assert plan(hv, surveys)["work"] == ["deployment-1", "deployment-2"]


def test_a_role_without_a_survey_gets_per_host_work_as_before():
    hv = hosts((1, "running", "own"), (2, "running", "cloudstack-vm"))
    assert plan(hv, survey(d2=WHOLE))["work"] == ["deployment-1"]


def test_deployments_without_a_role():
    hv = hosts((1, "awarded", "unknown"), (2, "running", "unknown"), (3, "terminating", None), (4, "failed", "unknown"))
    result = plan(hv, {})
    # Awarded: per-host work reports it failed (no automation for the type).
    assert result["work"] == ["deployment-1"]
    assert result["records"]["deployment-2"]["outcome"] == "retrying"
    assert "not checked" in result["records"]["deployment-2"]["detail"]
    assert result["records"]["deployment-3"]["outcome"] == "retrying"
    assert "nothing torn down" in result["records"]["deployment-3"]["detail"]
    assert result["records"]["deployment-4"]["outcome"] == "unchanged"


def test_finished_deployments_are_left_alone_without_the_sweep():
    hv = hosts((1, "failed", "cloudstack-vm"), (2, "terminated", "cloudstack-vm"))
    result = plan(hv, survey(d1=VANISHED, d2=VANISHED), sweep=False)
    assert result["work"] == [] and len(result["records"]) == 2


def test_a_type_mapped_to_something_that_is_not_a_role_is_an_error():
    with pytest.raises(AnsibleFilterError, match="must be a mapping"):
        plan(hosts((1, "running", "x")), {}, types={"x": "dinfra.chain.cloudstack_vm"})


def test_presence_needs_a_running_vm_its_network_and_its_address():
    whole = {"virtual_machines": [{"state": "Running"}], "networks": [{"id": "n"}], "public_ips": [{"id": "a"}]}
    assert cloudstack_vm_presence(whole) == {"present": True, "detail": "", "resources": True}
    stopped = dict(whole, virtual_machines=[{"state": "Stopped"}])
    assert cloudstack_vm_presence(stopped) == {"present": False, "detail": "no a running VM", "resources": True}
    assert cloudstack_vm_presence({}) == {
        "present": False, "detail": "no a running VM, no its network, no its public IP", "resources": False}
    only_address = {"public_ips": [{"id": "a"}]}
    assert cloudstack_vm_presence(only_address)["resources"] is True


def test_presence_takes_one_deployment():
    with pytest.raises(AnsibleFilterError, match="one deployment"):
        cloudstack_vm_presence([])
