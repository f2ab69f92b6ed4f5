"""The dinfra.chain.deployments inventory on the real dev chain, through ansible-inventory
and ansible-playbook: hosts, groups, variables, unsafe chain text, and a node that is down."""
import hashlib
import json
import os
import textwrap

import pytest

from ansible_cli import CONTROLLERS, ansible_env, run
from chain_fixtures import PRICE

from ansible_collections.dinfra.chain.plugins.module_utils.run_lock import acquire, lock_path, release


def unsafe(value):
    """The text of a value ansible-inventory printed as unsafe (ansible-core 2.19 writes
    `{"__ansible_unsafe": text}`); fails if the value was not marked unsafe."""
    assert isinstance(value, dict) and set(value) == {"__ansible_unsafe"}, f"not marked unsafe: {value!r}"
    return value["__ansible_unsafe"]


def write_inventory(tmp_path, provider, extra=""):
    path = tmp_path / "deployments.dinfra.yml"
    path.write_text(
        textwrap.dedent(
            f"""\
            plugin: dinfra.chain.deployments
            provider: {provider}
            keyed_groups:
              - key: dinfra_consumer
                prefix: consumer
            """
        )
        + extra
    )
    return path


def test_lists_hosts_groups_and_variables(node_url, tmp_path, provider_with_deployments, inventory_list):
    d = provider_with_deployments
    inventory = inventory_list(write_inventory(tmp_path, d["provider"]), ansible_env(DINFRA_NODE_URL=node_url))
    awarded, running = f"deployment-{d['awarded']}", f"deployment-{d['running']}"
    hostvars = inventory["_meta"]["hostvars"]
    assert {awarded, running} <= set(hostvars)
    assert awarded in inventory["dinfra_state_awarded"]["hosts"]
    assert running not in inventory["dinfra_state_awarded"]["hosts"]
    assert running in inventory["dinfra_state_running"]["hosts"]
    assert {awarded, running} <= set(inventory["dinfra_type_cloudstack_vm"]["hosts"])
    consumer_group = "consumer_" + d["consumer"]
    assert {awarded, running} <= set(inventory[consumer_group]["hosts"])
    assert all(unsafe(v["dinfra_provider"]) == d["provider"] for v in hostvars.values())

    v = hostvars[running]
    assert v["dinfra_deployment_id"] == d["running"]
    assert (unsafe(v["dinfra_provider"]), unsafe(v["dinfra_consumer"])) == (d["provider"], d["consumer"])
    assert (v["dinfra_type_id"], unsafe(v["dinfra_type_name"])) == (0, "cloudstack-vm")
    assert unsafe(v["dinfra_state"]) == "running" and v["dinfra_state_reason"] is None
    assert unsafe(v["dinfra_descriptor_cid"]).startswith("bafkrei")
    assert v["dinfra_price_per_block"] == PRICE
    assert v["dinfra_deposit_remaining"] <= 1000 * PRICE
    assert v["dinfra_runs_out_at"] > v["dinfra_read_at_block"]
    assert unsafe(v["dinfra_access_info"]) == d["access_info"]
    assert v["dinfra_inventory_read_at_block"] == v["dinfra_read_at_block"]
    assert hostvars[awarded]["dinfra_runs_out_at"] is None


@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
def test_chain_text_is_never_templated(node_url, tmp_path, provider_with_deployments, controller):
    """ansible-core 2.19 trusts no inventory string by default, and the plugin marks chain
    text unsafe as well (older cores templated inventory strings): chain text is left alone."""
    d = provider_with_deployments
    bin_dir = CONTROLLERS[controller]
    inventory = write_inventory(tmp_path, d["provider"])
    playbook = tmp_path / "show.yml"
    playbook.write_text(
        textwrap.dedent(
            """\
            - hosts: dinfra_state_running
              connection: local
              gather_facts: false
              tasks:
                - name: The access info is the chain's text, verbatim
                  ansible.builtin.assert:
                    that: (dinfra_access_info | hash('sha256')) == expected_sha256
                - name: Using it in a template does not evaluate it either
                  ansible.builtin.copy:
                    content: "{{ dinfra_access_info }}"
                    dest: "{{ out }}"
            """
        )
    )
    out = tmp_path / "rendered.txt"
    # Only a digest of the expected text goes on the command line: extra vars are trusted
    # input that Ansible would template.
    extra = json.dumps({"expected_sha256": hashlib.sha256(d["access_info"].encode()).hexdigest(), "out": str(out)})
    result = run(
        ["ansible-playbook", "-i", str(inventory), str(playbook), "-e", extra, "--limit", f"deployment-{d['running']}"],
        ansible_env(bin_dir, DINFRA_NODE_URL=node_url),
        bin_dir=bin_dir,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_text() == d["access_info"]
    assert not d["marker"].exists(), "chain text was evaluated as a template"


def test_filters_by_state_and_type(node_url, tmp_path, provider_with_deployments, inventory_list):
    d = provider_with_deployments
    env = ansible_env(DINFRA_NODE_URL=node_url)
    running_only = inventory_list(write_inventory(tmp_path, d["provider"], "states: [running]\n"), env)
    assert f"deployment-{d['running']}" in running_only["_meta"]["hostvars"]
    assert f"deployment-{d['awarded']}" not in running_only["_meta"]["hostvars"]
    assert {unsafe(v["dinfra_state"]) for v in running_only["_meta"]["hostvars"].values()} == {"running"}
    (tmp_path / "other").mkdir()
    no_such_type = inventory_list(write_inventory(tmp_path / "other", d["provider"], "types: [substrate-node]\n"), env)
    assert no_such_type["_meta"]["hostvars"] == {}


def test_provider_derived_from_the_signer(node_url, tmp_path, provider_with_deployments, inventory_list):
    path = tmp_path / "deployments.dinfra.yml"
    path.write_text("plugin: dinfra.chain.deployments\n")
    env = ansible_env(DINFRA_NODE_URL=node_url, DINFRA_SIGNER_SECRET="//Alice//stash")
    inventory = inventory_list(path, env)
    assert f"deployment-{provider_with_deployments['running']}" in inventory["_meta"]["hostvars"]


def test_a_node_that_is_down_fails_the_inventory(tmp_path, provider_with_deployments):
    path = write_inventory(tmp_path, provider_with_deployments["provider"])
    result = run(["ansible-inventory", "-i", str(path), "--list"], ansible_env(DINFRA_NODE_URL="ws://127.0.0.1:9"))
    assert result.returncode != 0
    assert "cannot connect to ws://127.0.0.1:9" in result.stderr
    assert "deployment-" not in result.stdout


def test_cache_is_used_and_flush_cache_reads_the_chain_again(node_url, tmp_path, provider_with_deployments):
    """With the cache on, a second run is served from it (here, even with the node gone);
    --flush-cache goes back to the chain, and fails loudly when it cannot be read."""
    cache_dir = tmp_path / "cache"
    path = write_inventory(
        tmp_path,
        provider_with_deployments["provider"],
        f"cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: {cache_dir}\ncache_timeout: 3600\n",
    )
    running = f"deployment-{provider_with_deployments['running']}"
    filled = run(["ansible-inventory", "-i", str(path), "--list"], ansible_env(DINFRA_NODE_URL=node_url))
    assert filled.returncode == 0 and running in filled.stdout, filled.stderr
    assert any(cache_dir.iterdir()), "the cache was not written"

    node_gone = ansible_env(DINFRA_NODE_URL="ws://127.0.0.1:9")
    cached = run(["ansible-inventory", "-i", str(path), "--list"], node_gone)
    assert cached.returncode == 0 and running in cached.stdout, cached.stderr

    flushed = run(["ansible-inventory", "-i", str(path), "--list", "--flush-cache"], node_gone)
    assert flushed.returncode != 0
    assert "cannot connect to ws://127.0.0.1:9" in flushed.stderr


def test_reactor_lock_reads_under_the_lock_when_free_and_without_it_when_busy(
        node_url, tmp_path, provider_with_deployments, inventory_list):
    """reactor_lock: the inventory takes the reconcile playbook's lock before it reads, so that
    the playbook needs no second read; a lock another run holds never blocks or fails the read,
    it only says that the read was made without it."""
    provider = provider_with_deployments["provider"]
    running = f"deployment-{provider_with_deployments['running']}"
    lock_dir = tmp_path / "locks"
    env = ansible_env(DINFRA_NODE_URL=node_url, DINFRA_LOCK_DIR=str(lock_dir))

    plain = inventory_list(write_inventory(tmp_path, provider), env)
    assert plain["_meta"]["hostvars"][running]["dinfra_inventory_locked"] is False
    assert not lock_dir.exists(), "an inventory without reactor_lock took a lock"

    locked = inventory_list(write_inventory(tmp_path, provider, "reactor_lock: true\n"), env)
    assert locked["_meta"]["hostvars"][running]["dinfra_inventory_locked"] is True
    assert (lock_dir / os.path.basename(lock_path(str(lock_dir), f"reactor {provider}"))).exists()

    # Another run (this test's process) holds the provider's lock.
    report = acquire(str(lock_dir), f"reactor {provider}", os.getpid(), 5)
    assert report["status"] == "acquired"
    try:
        busy = inventory_list(write_inventory(tmp_path, provider, "reactor_lock: true\n"), env)
    finally:
        release(str(lock_dir), f"reactor {provider}", os.getpid())
    assert running in busy["_meta"]["hostvars"]
    assert busy["_meta"]["hostvars"][running]["dinfra_inventory_locked"] is False
