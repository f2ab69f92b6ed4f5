"""dinfra.chain.deployment_info through ansible-playbook on the real dev chain, and the
inventory plus the module through ansible-runner (as AWX runs jobs) with credentials that
only come from environment variables."""
import json
import os
import textwrap

import ansible_runner

from ansible_cli import BIN, COLLECTIONS, ansible_env, run
from chain_fixtures import PRICE


PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Read
      dinfra.chain.deployment_info: {args}
      register: found
      ignore_errors: true
    - name: Keep the result
      check_mode: false
      ansible.builtin.copy:
        content: "{{{{ found | to_json }}}}"
        dest: "{out}"
"""


def deployment_info(node_url, tmp_path, args, *flags):
    out = tmp_path / "result.json"
    playbook = tmp_path / "read.yml"
    playbook.write_text(PLAY.format(args=json.dumps(args), out=out))
    result = run(["ansible-playbook", "-i", "localhost,", str(playbook), *flags], ansible_env(DINFRA_NODE_URL=node_url))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text())


def test_reads_one_deployment_by_id(node_url, tmp_path, provider_with_deployments):
    d = provider_with_deployments
    found = deployment_info(node_url, tmp_path, {"id": d["running"]})
    assert not found.get("failed") and found["changed"] is False
    (deployment,) = found["deployments"]
    assert deployment["id"] == d["running"]
    assert (deployment["provider"], deployment["consumer"]) == (d["provider"], d["consumer"])
    assert (deployment["state"], deployment["type_name"], deployment["price_per_block"]) == ("running", "cloudstack-vm", PRICE)
    assert deployment["access_info"] == d["access_info"]
    assert deployment["runs_out_at"] > found["block_number"]


def test_lists_a_providers_deployments_by_state_in_check_mode(node_url, tmp_path, provider_with_deployments):
    d = provider_with_deployments
    found = deployment_info(node_url, tmp_path, {"provider": d["provider"], "states": ["awarded"]}, "--check")
    ids = [x["id"] for x in found["deployments"]]
    assert d["awarded"] in ids and d["running"] not in ids
    assert ids == sorted(ids)
    assert {x["state"] for x in found["deployments"]} == {"awarded"}


def test_an_unknown_id_is_an_empty_list(node_url, tmp_path):
    found = deployment_info(node_url, tmp_path, {"id": 999_999})
    assert not found.get("failed") and found["deployments"] == []


def test_a_node_that_is_down_is_a_failure_not_an_empty_list(tmp_path):
    found = deployment_info("ws://127.0.0.1:9", tmp_path, {"id": 1})
    assert found["failed"] is True
    assert found["failure"] == "unavailable"
    assert "deployments" not in found


def test_ansible_runner_with_credentials_from_the_environment_only(
    node_url, tmp_path, provider_with_deployments, monkeypatch
):
    """The inventory derives the provider from DINFRA_SIGNER_SECRET and the module reads
    DINFRA_NODE_URL: nothing about the chain is in the playbook or inventory file."""
    d = provider_with_deployments
    private = tmp_path / "runner"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "inventory" / "deployments.dinfra.yml").write_text("plugin: dinfra.chain.deployments\n")
    (private / "project" / "check.yml").write_text(
        textwrap.dedent(
            """\
            - hosts: dinfra_state_running
              connection: local
              gather_facts: false
              tasks:
                - name: Each running deployment, as the chain has it
                  dinfra.chain.deployment_info:
                    id: "{{ dinfra_deployment_id }}"
                  register: found
                - name: The inventory and the module agree
                  ansible.builtin.assert:
                    that:
                      - found.deployments[0].state == 'running'
                      - found.deployments[0].provider == dinfra_provider
            """
        )
    )
    monkeypatch.setenv("PATH", f"{BIN}:{os.environ.get('PATH', '')}")
    secret = "//Alice//stash"
    env = {
        "DINFRA_NODE_URL": node_url,
        "DINFRA_SIGNER_SECRET": secret,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true",
        "ANSIBLE_PYTHON_INTERPRETER": ansible_env()["ANSIBLE_PYTHON_INTERPRETER"],
    }
    result = ansible_runner.run(private_data_dir=str(private), playbook="check.yml", envvars=env, quiet=True, timeout=300)
    stdout = result.stdout.read()
    assert result.status == "successful", stdout
    hosts = {e["event_data"]["host"] for e in result.events if e["event"] == "runner_on_ok"}
    assert f"deployment-{d['running']}" in hosts
    # What the plugins and modules produced (output and job events) never holds the secret.
    # ansible-runner's own `command` artifact records the environment it was given, as it
    # does for any credential; that is the runner's bookkeeping, not ours.
    assert secret not in stdout
    assert secret not in json.dumps([e.get("event_data", {}) for e in result.events])
