"""Every make target sets up what it uses, before it uses it.

`make demo` once failed on every fresh clone: only the test targets linked the checkout as the
dinfra.chain collection, so the demo's first playbook was "not found", and no test saw it
because `make test` had made the link first. These tests read each target's commands from a
dry run (`make -n`), which lists the whole chain of prerequisites in order, as a fresh clone
would run them."""
import re
import subprocess

import pytest

from conftest import ROOT

# Targets whose commands run Ansible (playbooks, plugins or the collection's Python) from the
# checkout: they need .dev/collections/ansible_collections/dinfra/chain.
ANSIBLE_TARGETS = ["demo", "bench", "test-unit", "lint", "test-integration", "molecule"]
# Targets that only stop or look at the dev stack, or print help: they install nothing.
NO_SETUP = {"help", "dev-down", "dev-status", "clean"}


def dry_run(target):
    proc = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def first(lines, pattern):
    """Index of the first line matching pattern, or None."""
    return next((i for i, line in enumerate(lines) if re.search(pattern, line)), None)


def targets():
    """The targets `make help` lists, from the Makefile's '## ' comments."""
    text = (ROOT / "Makefile").read_text()
    return re.findall(r"^([a-z][a-z0-9-]*):[^\n]*## ", text, flags=re.M)


def test_help_lists_every_target_with_a_description():
    proc = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=60)
    listed = re.findall(r"^\s+make (\S+)\s+\S", proc.stdout, flags=re.M)
    assert listed == targets()
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), flags=re.M).group(1).split()
    assert sorted(phony) == sorted(targets())


@pytest.mark.parametrize("target", ANSIBLE_TARGETS)
def test_a_target_that_runs_ansible_links_the_collection_first(target):
    lines = dry_run(target)
    link = first(lines, r"scripts/setup-collection\.sh")
    assert link is not None, f"make {target} never runs scripts/setup-collection.sh:\n" + "\n".join(lines)
    uses = first(lines, r"\.venv/bin/|with-dev-stack\.sh|ANSIBLE_COLLECTIONS_PATH")
    assert uses is not None and link < uses, "\n".join(lines)


@pytest.mark.parametrize("target", sorted(set(targets()) - NO_SETUP))
def test_a_target_installs_the_toolchains_it_uses_first(target):
    lines = dry_run(target)
    for use, installer in ((r"\.venv/|PYTEST|pytest", r"scripts/setup-python\.sh"),
                           (r"\$CARGO|cargo ", r"scripts/setup-system\.sh"),
                           (r"scripts/(with-)?dev-stack\.sh", r"scripts/setup-kubo\.sh")):
        used = first(lines, use)
        if used is not None:
            installed = first(lines, installer)
            assert installed is not None and installed < used, (
                f"make {target} uses {use!r} (line {used}) before {installer!r}:\n" + "\n".join(lines))
