"""The molecule scenarios in extensions/molecule, run by the real molecule against the dev
stack's CloudStack simulator: converge, idempotence, verify and destroy must all pass."""
import os
import re
import uuid

import pytest

from ansible_cli import BIN, COLLECTIONS, ROOT, run

SCENARIOS = sorted(path.parent.name for path in (ROOT / "extensions" / "molecule").glob("*/molecule.yml"))


def test_there_are_scenarios():
    assert "cloudstack_vm" in SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario_passes(scenario, cloudstack_env, cs_api):
    label = f"m{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, **{k: v for k, v in cloudstack_env.items() if k.startswith("CLOUDSTACK_")},
               ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), MOLECULE_CHAIN_LABEL=label, NO_COLOR="1",
               PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    result = run(["molecule", "test", "-s", scenario], env, cwd=ROOT / "extensions", timeout=900)
    output = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert result.returncode == 0, output[-6000:]
    for step in ("converge", "idempotence", "verify", "destroy"):
        assert re.search(rf"{step}: Executed: Successful", output), f"{step} did not run: {output[-3000:]}"
    # The scenario built machines under its label, and destroy left none of them.
    assert "changed=" in output and re.search(r"dinfra-" + label, output)
    leftovers = [vm["name"] for vm in cs_api.listVirtualMachines(listall=True).get("virtualmachine", []) if label in vm["name"]]
    assert leftovers == []
