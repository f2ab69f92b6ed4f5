"""dinfra.chain.deployment_status on the real dev chain: every report, idempotence, check
mode, refusals with the pallet's error, and parallel reports from one signer."""
import textwrap

import pytest
from substrateinterface import Keypair

from ansible_cli import ansible_env, run, run_module
from chain_fixtures import offering_provider, submit, subscribe

PROVIDER, CONSUMER = "//Charlie//stash", "//Dave//stash"


@pytest.fixture(scope="module")
def chain(chain):  # pylint: disable=redefined-outer-name  # tests/conftest.py's, with the provider set up
    offering_provider(chain, PROVIDER, "status tests")
    return chain


@pytest.fixture
def new_deployment(chain):
    return lambda: subscribe(chain, CONSUMER, Keypair.create_from_uri(PROVIDER).ss58_address)


def state(chain, deployment_id):
    return chain.query("DinfraSubscriptions", "Deployments", [deployment_id]).value


def status(node_url, tmp_path, *flags, signer=PROVIDER, **args):
    return run_module(
        tmp_path, "dinfra.chain.deployment_status", args, *flags, DINFRA_NODE_URL=node_url, DINFRA_SIGNER_SECRET=signer
    )


def test_deployed_is_idempotent_and_check_mode_changes_nothing(node_url, tmp_path, chain, new_deployment):
    d = new_deployment()
    checked = status(node_url, tmp_path, "--check", "--diff", id=d, state="deployed", access_info="198.51.100.4 ssh:22")
    assert checked["changed"] is True and "block_hash" not in checked
    assert checked["diff"]["after"] == {"state": "running", "access_info": "198.51.100.4 ssh:22"}
    assert state(chain, d)["state"] == "Awarded"

    first = status(node_url, tmp_path, id=d, state="deployed", access_info="198.51.100.4 ssh:22")
    assert first["changed"] is True, first
    assert any(e["event"] == "DeploymentRunning" for e in first["events"])
    assert state(chain, d)["state"] == "Running"
    assert first["deployment"]["state"] == "running"

    again = status(node_url, tmp_path, id=d, state="deployed", access_info="198.51.100.4 ssh:22")
    assert again["changed"] is False

    moved = status(node_url, tmp_path, id=d, state="deployed", access_info="198.51.100.5 ssh:22")
    assert moved["changed"] is True
    assert state(chain, d)["access_info"] == "198.51.100.5 ssh:22"


def test_failed_with_reason(node_url, tmp_path, chain, new_deployment):
    d = new_deployment()
    first = status(node_url, tmp_path, id=d, state="failed", reason="no template 'Debian 13' in this cloud")
    assert first["changed"] is True
    assert state(chain, d)["state"] == {"Failed": {"reason": {"Provider": "no template 'Debian 13' in this cloud"}}}
    assert status(node_url, tmp_path, id=d, state="failed", reason="again")["changed"] is False


def test_terminated_after_cancel(node_url, tmp_path, chain, new_deployment):
    d = new_deployment()
    submit(chain, Keypair.create_from_uri(CONSUMER), "DinfraSubscriptions", "cancel", {"id": d})
    first = status(node_url, tmp_path, id=d, state="terminated")
    assert first["changed"] is True
    assert state(chain, d)["state"] == {"Terminated": {"reason": "Cancelled", "confirmed": True}}
    assert status(node_url, tmp_path, id=d, state="terminated")["changed"] is False


def test_the_chain_refusing_names_the_pallet_error(node_url, tmp_path, chain, new_deployment):
    d = new_deployment()
    refused = status(node_url, tmp_path, id=d, state="terminated")
    assert refused["failed"] is True
    assert refused["failure"] == "dispatch_error"
    assert (refused["pallet"], refused["error"]) == ("DinfraSubscriptions", "DeploymentNotTerminating")
    assert "Terminating" in refused["error_docs"]
    assert state(chain, d)["state"] == "Awarded"


def test_only_the_assigned_provider_reports(node_url, tmp_path, chain, new_deployment):
    d = new_deployment()
    refused = status(node_url, tmp_path, id=d, state="deployed", signer="//Eve//stash")
    assert refused["failed"] is True and refused["failure"] == "not_the_provider"
    assert "//Eve//stash" not in str(refused)


def test_an_unknown_deployment_is_a_clear_failure(node_url, tmp_path):
    refused = status(node_url, tmp_path, id=987_654, state="deployed")
    assert refused["failed"] is True and refused["failure"] == "not_found"


def test_parallel_reports_from_one_signer_all_land(node_url, tmp_path, chain, new_deployment):
    """Five forks sign with the same account at once: the per-signer lock gives each its
    own nonce."""
    ids = [new_deployment() for _n in range(5)]
    playbook = tmp_path / "parallel.yml"
    playbook.write_text(
        textwrap.dedent(
            """\
            - hosts: all
              connection: local
              gather_facts: false
              tasks:
                - name: Report every deployment at once
                  dinfra.chain.deployment_status:
                    id: "{{ inventory_hostname | int }}"
                    state: deployed
                    access_info: "10.0.0.{{ inventory_hostname }}"
            """
        )
    )
    inventory = ",".join(str(i) for i in ids) + ","
    env = ansible_env(DINFRA_NODE_URL=node_url, DINFRA_SIGNER_SECRET=PROVIDER)
    result = run(["ansible-playbook", "-i", inventory, "--forks", "5", str(playbook)], env)
    assert result.returncode == 0, result.stdout + result.stderr
    for i in ids:
        assert state(chain, i)["state"] == "Running"
        assert state(chain, i)["access_info"] == f"10.0.0.{i}"


def test_a_signer_given_as_a_task_argument_never_appears_in_output(node_url, tmp_path, chain, new_deployment):
    """The module runs in the controller (its action plugin), so Ansible's own censoring of a
    module process's arguments does not apply: the action plugin must strip no_log values
    itself, from results and failures alike, even at -vvv."""
    d = new_deployment()
    playbook = tmp_path / "secret.yml"
    playbook.write_text(
        textwrap.dedent(
            f"""\
            - hosts: localhost
              connection: local
              gather_facts: false
              tasks:
                - name: Report with the signer as an argument
                  dinfra.chain.deployment_status:
                    id: {d}
                    state: deployed
                    access_info: "10.0.0.9 {PROVIDER}"
                    signer_secret: "{{{{ lookup('ansible.builtin.env', 'TEST_SIGNER') }}}}"
                  register: reported
                - name: Fail with a signer that is not a secret uri
                  dinfra.chain.deployment_status:
                    id: {d}
                    state: deployed
                    signer_secret: "{{{{ lookup('ansible.builtin.env', 'TEST_SIGNER') }}}}x-not-a-path"
                  register: broken
                  ignore_errors: true
                - name: Show both results
                  ansible.builtin.debug:
                    msg: "{{{{ [reported, broken] }}}}"
            """
        )
    )
    # As a vault variable or an AWX credential would give it: never in the playbook's text,
    # which Ansible shows around a failed task.
    env = ansible_env(DINFRA_NODE_URL=node_url, TEST_SIGNER=PROVIDER)
    env.pop("DINFRA_SIGNER_SECRET", None)
    result = run(["ansible-playbook", "-i", "localhost,", "-vvv", str(playbook)], env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert state(chain, d)["state"] == "Running"
    # A value that holds the secret is masked wherever it appears, as a module's would be.
    assert "10.0.0.9 ********" in output
    assert PROVIDER not in output
