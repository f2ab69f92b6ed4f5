"""docs/examples/reactor: the files a provider copies must work as they are, with the real
ansible-playbook and ansible-inventory."""
import configparser
import subprocess

from reactor_helpers import BIN, ROOT, ansible_env, publish, run, vm_descriptor

EXAMPLES = ROOT / "docs" / "examples" / "reactor"


def test_the_example_playbooks_parse(tmp_path):
    env = ansible_env(ANSIBLE_CONFIG=str(EXAMPLES / "ansible.cfg"))
    for playbook in ("reconcile.yml", "awx.yml"):
        result = run(["ansible-playbook", "--syntax-check", "-i", "localhost,", str(EXAMPLES / playbook)], env, cwd=tmp_path)
        assert result.returncode == 0, f"{playbook}: {result.stdout}{result.stderr}"


def test_the_example_inventory_and_config_read_the_providers_deployments(reactor, ipfs_api):
    dep = reactor.subscribe(publish(ipfs_api, vm_descriptor()))
    env = ansible_env(ANSIBLE_CONFIG=str(EXAMPLES / "ansible.cfg"), **reactor.env)
    result = run(["ansible-inventory", "--list"], env, cwd=EXAMPLES)
    assert result.returncode == 0, result.stderr
    assert f'"deployment-{dep}"' in result.stdout and "dinfra_state_awarded" in result.stdout

    # The same configuration makes an unreadable chain fatal, never an empty inventory.
    result = run(["ansible-inventory", "--list"], dict(env, DINFRA_NODE_URL="ws://127.0.0.1:9"), cwd=EXAMPLES)
    assert result.returncode != 0 and "dinfra.chain.deployments" in result.stderr


def test_the_systemd_units_run_the_reconcile_playbook_with_the_environment_file():
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.optionxform = str
    service.read(EXAMPLES / "dinfra-reactor.service")
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["ExecStart"].split()[1:] == ["dinfra.chain.reconcile", "-e", "@provider.yml"]
    assert service["Service"]["EnvironmentFile"] == "/etc/dinfra-reactor/reactor.env"
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(EXAMPLES / "dinfra-reactor.timer")
    assert timer["Install"]["WantedBy"] == "timers.target" and "OnUnitInactiveSec" in timer["Timer"]
    names = {line.split("=", 1)[0] for line in (EXAMPLES / "reactor.env").read_text().splitlines()
             if line and not line.startswith("#")}
    assert {"DINFRA_NODE_URL", "DINFRA_SIGNER_SECRET", "DINFRA_IPFS_GATEWAY", "CLOUDSTACK_ENDPOINT", "CLOUDSTACK_KEY",
            "CLOUDSTACK_SECRET"} <= names


def unit(name):
    parsed = configparser.ConfigParser(strict=False, interpolation=None)
    parsed.optionxform = str
    parsed.read(EXAMPLES / name)
    return parsed


def test_the_event_mode_unit_runs_the_rulebook_for_ever_from_a_kept_position(tmp_path):
    service = unit("dinfra-reactor-events.service")["Service"]
    assert service["Type"] == "simple" and service["Restart"] == "always"
    assert unit("dinfra-reactor-events.service")["Unit"]["StartLimitIntervalSec"] == "0", "systemd must never give up"
    command = service["ExecStart"].split()
    assert command[0].endswith("/ansible-rulebook") and command[1:3] == ["-r", "dinfra.chain.reactor"]
    assert command[command.index("--env-vars") + 1] == "DINFRA_NODE_URL,DINFRA_PROVIDER"
    assert service["EnvironmentFile"] == unit("dinfra-reactor.service")["Service"]["EnvironmentFile"]
    # configparser keeps only the last of several Environment= lines: read those from the text.
    text = (EXAMPLES / "dinfra-reactor-events.service").read_text()
    assert "Environment=DINFRA_EDA_POSITION_FILE=/var/lib/dinfra-reactor/" in text and "StateDirectory=dinfra-reactor" in text
    names = {line.split("=", 1)[0] for line in (EXAMPLES / "reactor.env").read_text().splitlines()
             if line and not line.startswith("#")}
    assert {"DINFRA_NODE_URL", "DINFRA_PROVIDER"} <= names
    # systemd's own check of both units, with the venv's commands where /srv's would be.
    for name in ("dinfra-reactor.service", "dinfra-reactor-events.service"):
        copy = tmp_path / name
        copy.write_text((EXAMPLES / name).read_text().replace("/srv/dinfra-reactor/venv/bin/", f"{BIN}/"))
        result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0 and result.stderr.strip() == "", f"{name}: {result.stderr}"
