"""Every plugin of the collection renders with ansible-doc (its DOCUMENTATION, doc
fragments, EXAMPLES and RETURN parse), on both supported controller lines."""

import pytest
import yaml

from ansible_cli import CONTROLLERS, ROOT, ansible_env, run

PLUGINS = [
    (kind, f"dinfra.chain.{path.stem}")
    for kind, folder in (("module", "modules"), ("inventory", "inventory"), ("lookup", "lookup"), ("filter", "filter"))
    for path in sorted((ROOT / "plugins" / folder).glob("*.py"))
    if path.stem != "__init__"
]


def test_the_collection_has_plugins():
    assert ("inventory", "dinfra.chain.deployments") in PLUGINS
    assert ("module", "dinfra.chain.deployment_status") in PLUGINS


@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
@pytest.mark.parametrize("kind, name", PLUGINS)
def test_ansible_doc_renders(kind, name, controller):
    bin_dir = CONTROLLERS[controller]
    result = run(["ansible-doc", "-t", kind, name], ansible_env(bin_dir), bin_dir=bin_dir)
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    assert name in result.stdout
    assert "EXAMPLES" in result.stdout
    if kind == "module":
        assert "RETURN VALUES" in result.stdout


ROLES = [f"dinfra.chain.{path.name}" for path in sorted((ROOT / "roles").iterdir()) if (path / "meta" / "argument_specs.yml").is_file()]


def test_every_role_has_an_argument_spec():
    assert sorted(ROLES) == sorted(f"dinfra.chain.{path.name}" for path in (ROOT / "roles").iterdir() if path.is_dir())
    assert "dinfra.chain.cloudstack_vm" in ROLES


@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
@pytest.mark.parametrize("name", ROLES)
def test_role_docs_render(name, controller):
    bin_dir = CONTROLLERS[controller]
    result = run(["ansible-doc", "-t", "role", name], ansible_env(bin_dir), bin_dir=bin_dir)
    assert result.returncode == 0, result.stderr
    assert "ERROR" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    role_dir = ROOT / "roles" / name.rsplit(".", 1)[1]
    entry_points = yaml.safe_load((role_dir / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for entry_point, spec in entry_points.items():
        assert f"ENTRY POINT: *{entry_point}*" in result.stdout
        # Every variable a role documents is shown.
        for option in spec["options"]:
            assert option in result.stdout
