"""The EDA extension's own files: the source's DOCUMENTATION says what settings() does, and both
rulebooks pass ansible-rulebook's own schema and parser (the real ansible-rulebook, no service)."""
import json
import pathlib
import shutil
import sys

import pytest
import yaml
from ansible_rulebook.conf import settings as rulebook_settings
from ansible_rulebook.rules_parser import parse_rule_sets
from ansible_rulebook.validators import Validate

from ansible_collections.dinfra.chain.extensions.eda.plugins.event_source import deployments as source
from ansible_collections.dinfra.chain.plugins.module_utils.chain_follower import EVENT_KINDS

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULEBOOKS = ROOT / "extensions" / "eda" / "rulebooks"
ACTED_ON_ORDER = ["awarded", "terminating", "failed", "terminated", "resync"]
ADDRESS = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"


@pytest.fixture(name="no_dinfra_env")
def fixture_no_dinfra_env(monkeypatch, tmp_path):
    for name in ("DINFRA_NODE_URL", "DINFRA_PROVIDER", "DINFRA_EDA_POSITION_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(name="rulebook_finds_the_collection")
def fixture_rulebook_finds_the_collection(monkeypatch):
    """The parser looks sources up with ansible-galaxy, as ansible-rulebook does: the venv's,
    over this checkout as dinfra.chain (scripts/setup-collection.sh)."""
    galaxy = shutil.which("ansible-galaxy", path=str(pathlib.Path(sys.executable).parent))
    assert galaxy, "ansible-galaxy is not beside this Python"
    monkeypatch.setattr(rulebook_settings, "ansible_galaxy_path", galaxy)
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".dev" / "collections"))


def documented_options():
    return yaml.safe_load(source.DOCUMENTATION)["options"]


def test_the_documentation_names_every_setting_with_its_default(no_dinfra_env):
    found = source.settings({"node_url": "ws://node:9944", "provider": ADDRESS})
    options = documented_options()
    assert set(options) == set(found)
    for name, option in options.items():
        if "default" in option:
            assert found[name] == option["default"], name
    assert found["position_file"] == str(no_dinfra_env / "dinfra" / f"eda-{ADDRESS}.json")


def test_required_settings_come_from_the_arguments_or_the_environment(no_dinfra_env, monkeypatch):
    required = [name for name, option in documented_options().items() if option.get("required")]
    assert required == ["node_url", "provider"]
    with pytest.raises(ValueError, match="needs node_url"):
        source.settings({"provider": ADDRESS})
    monkeypatch.setenv("DINFRA_NODE_URL", "wss://node.example")
    monkeypatch.setenv("DINFRA_PROVIDER", ADDRESS)
    monkeypatch.setenv("DINFRA_EDA_POSITION_FILE", str(no_dinfra_env / "p.json"))
    found = source.settings({})
    assert (found["node_url"], found["provider"], found["position_file"]) == ("wss://node.example", ADDRESS,
                                                                              str(no_dinfra_env / "p.json"))
    with pytest.raises(ValueError, match="must be numbers"):
        source.settings({"max_replay": "many"})
    with pytest.raises(ValueError, match="timeout must be at least 1"):
        source.settings({"timeout": 0})


def test_credentials_in_the_node_url_are_redacted():
    redact = source._redactor("wss://user:s3cret@node.example/rpc")  # pylint: disable=protected-access
    assert redact("cannot reach wss://user:s3cret@node.example/rpc") == "cannot reach wss://***@node.example/rpc"
    assert source._redactor("ws://node:9944")("ws://node:9944") == "ws://node:9944"  # pylint: disable=protected-access


@pytest.mark.parametrize("name", ["reactor.yml", "reactor_controller.yml"])
def test_the_rulebooks_pass_ansible_rulebooks_schema_and_parser(name, rulebook_finds_the_collection):  # pylint: disable=unused-argument
    document = yaml.safe_load((RULEBOOKS / name).read_text())
    Validate.rulebook(document)
    (ruleset,) = parse_rule_sets(document)
    # run_playbook and run_job_template limit the run to these hosts: reconcile needs both.
    assert set(",".join(ruleset.hosts).split(",")) == {"all", "localhost"}
    (play,) = document
    (entry,) = play["sources"]
    args = entry["dinfra.chain.deployments"]
    assert set(args) <= set(documented_options()) and {"node_url", "provider"} <= set(args)
    (rule,) = play["rules"]
    assert rule["throttle"] == {"once_after": "1 second", "group_by_attributes": ["event.dinfra.provider"]}
    # Every kind the source emits is either acted on or left out on purpose (docs/eda.md).
    acted_on = {"awarded", "terminating", "failed", "terminated", "resync"}
    assert rule["condition"] == f"event.dinfra.kind in {json.dumps(sorted(acted_on, key=ACTED_ON_ORDER.index))}"
    assert set(EVENT_KINDS.values()) | {"resync"} == acted_on | {"running", "deposit"}


def test_the_rulebooks_run_the_reconcile_playbook_or_its_job_template_without_event_data():
    (local,) = yaml.safe_load((RULEBOOKS / "reactor.yml").read_text())
    assert local["rules"][0]["action"] == {"run_playbook": {"name": "dinfra.chain.reconcile"}}
    (controller,) = yaml.safe_load((RULEBOOKS / "reactor_controller.yml").read_text())
    action = controller["rules"][0]["action"]["run_job_template"]
    assert action["include_events"] is False and set(action) == {"name", "organization", "include_events"}
