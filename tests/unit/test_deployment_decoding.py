"""How decoded chain records become inventory variables, and inventory group names."""
import pytest

from ansible_collections.dinfra.chain.plugins.inventory.deployments import group_name
from ansible_collections.dinfra.chain.plugins.module_utils.chain import ChainUnavailable
from ansible_collections.dinfra.chain.plugins.module_utils.deployments import deployment_record, inventory_vars, state_of

RECORD = {
    "consumer": "5C",
    "provider": "5P",
    "type_id": 0,
    "descriptor_cid": "bafkrei",
    "price_per_block": 10,
    "deposit": 90,
    "paid": 10,
    "state": "Running",
    "awarded_at": 3,
    "settled_until": 4,
    "deadline": 13,
    "access_info": "203.0.113.7 ssh:22",
}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Awarded", ("awarded", None)),
        ("Running", ("running", None)),
        ({"Terminating": {"reason": "Cancelled"}}, ("terminating", "Cancelled")),
        ({"Terminated": {"reason": "Exhausted", "confirmed": False}}, ("terminated", "Exhausted")),
        ({"Failed": {"reason": "Timeout"}}, ("failed", "Timeout")),
        ({"Failed": {"reason": {"Provider": "no such template"}}}, ("failed", "no such template")),
    ],
)
def test_states(raw, expected):
    assert state_of(raw) == expected


@pytest.mark.parametrize("raw", ["Exploded", {"A": 1, "B": 2}, 7])
def test_unknown_states_are_errors_not_guesses(raw):
    with pytest.raises(ChainUnavailable):
        state_of(raw)


def test_running_deployment_vars():
    v = inventory_vars(deployment_record(7, RECORD, {0: "cloudstack-vm"}), 20, "0xabc")
    assert v["dinfra_deployment_id"] == 7
    assert v["dinfra_type_name"] == "cloudstack-vm"
    assert (v["dinfra_state"], v["dinfra_state_reason"]) == ("running", None)
    assert v["dinfra_runs_out_at"] == 13
    assert (v["dinfra_read_at_block"], v["dinfra_read_at_block_hash"]) == (20, "0xabc")


def test_runs_out_at_is_only_known_while_running():
    r = deployment_record(7, dict(RECORD, state="Awarded"), {})
    assert r["runs_out_at"] is None
    assert r["type_name"] is None
    assert (r["id"], r["deposit_remaining"], r["paid"]) == (7, 90, 10)


@pytest.mark.parametrize(
    "value, expected",
    [("cloudstack-vm", "dinfra_type_cloudstack_vm"), ("{{ evil }}", "dinfra_type____evil___"), ("Ünï", "dinfra_type__n_")],
)
def test_group_names_keep_only_safe_characters(value, expected):
    assert group_name("dinfra_type", value) == expected
