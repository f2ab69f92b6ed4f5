"""README's "Running the reactor yourself", as a user types it: the collection built with
`make build`, installed from its tarball into a fresh virtualenv (only `ansible` and
requirements.txt, no checkout on any Ansible path), then register_provider and reconcile from the
example project against the dev stack.

The README's shell blocks are read from README.md and run with bash, so an instruction that
stops working fails here. Two lines are changed, and the test checks that they are there as
written: the dev stack is already up (make test started it), so `make dev-up && . .dev/env`
only sources .dev/env, and the closing `make dev-down` is left out, because it would stop the
stack under the tests that follow; and `//Bob` becomes a provider account of this test's own,
so that no other test's provider changes.

Slow: the virtualenv installs the ansible package (about 40,000 files, 3-4 min), which is what
proves that requirements.txt and the tarball are all a provider needs. So the user's home, and
with it `~/dinfra-reactor`, lives in DINFRA_CACHE, keyed by the install commands and
requirements.txt: the first run on a machine creates the venv as a new user would, and later
runs type the same commands into a venv that has everything (pip then installs nothing). The
collection is removed from that home before every run, so the tarball installed is always
this checkout's."""
import fcntl
import hashlib
import os
import pathlib
import re
import shutil
import subprocess

from reactor_helpers import ROOT, awarded_id, deployment, fresh_account, publish, state_name, submit, vm_descriptor

SECTION = "## Running the reactor yourself"


def readme_blocks():
    """The sh blocks of the README's section, each as a list of lines."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ", len(SECTION))]
    return [block.strip().splitlines() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S)]


def dinfra_cache():
    """Where the project's scripts keep their caches (scripts/lib.sh)."""
    return os.environ.get("DINFRA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "dinfra")


def user_env(home):
    """A user's shell: no project virtualenv on PATH, no Ansible settings, no dev-stack endpoints
    (the README's own `. .dev/env` sets those), and the real caches: the project's (else `make
    build` would set up venvs and Kubo afresh under the new home, and relink the checkout's
    .venv there) and pip's."""
    venv_bin = str(ROOT / ".venv" / "bin")
    path = ":".join(p for p in os.environ["PATH"].split(":") if p and not p.startswith((venv_bin, os.path.realpath(venv_bin))))
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("ANSIBLE_", "DINFRA_", "CLOUDSTACK_", "VIRTUAL_ENV", "PYTHON", "IPFS_"))}
    return {**keep, "HOME": str(home), "PATH": path, "DINFRA_CACHE": dinfra_cache(),
            "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", os.path.expanduser("~/.cache/pip")),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def user_home(install):
    """The walking user's home in DINFRA_CACHE (see the module's docstring), locked for the test."""
    cache = dinfra_cache()
    key = hashlib.sha256("\n".join(install).encode() + (ROOT / "requirements.txt").read_bytes()).hexdigest()[:16]
    home = f"{cache}/readme-walk-home-{key}"
    os.makedirs(home, exist_ok=True)
    return home


def bash(lines, env, timeout=900):
    script = "set -euo pipefail\ncd " + str(ROOT) + "\n" + "\n".join(lines) + "\n"
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_readme_installs_the_tarball_and_runs_the_reactor_on_the_dev_stack(chain, ipfs_api, cs_api):
    install, dev_stack, _real = readme_blocks()
    secret, provider = fresh_account(chain, "ReadmeWalk")
    home = user_home(install)
    with open(f"{home}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one walk per home at a time (another checkout's CI)
        walk_the_readme(chain, ipfs_api, cs_api, pathlib.Path(home), install, dev_stack, secret, provider)


def walk_the_readme(chain, ipfs_api, cs_api, home, install, dev_stack, secret, provider):
    env = user_env(home)
    shutil.rmtree(home / ".ansible", ignore_errors=True)

    # Install: make build, the venv, pip, the tarball.
    done = bash(install, env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    installed = home / ".ansible" / "collections" / "ansible_collections" / "dinfra" / "chain"
    # (The home's ~/.cache/dinfra itself is the reactor's: its schema cache and lock files.)
    again = sorted(path.name for pattern in ("venv-*", "kubo-*", "devchain-*")
                   for path in (home / ".cache" / "dinfra").glob(pattern))
    assert not again, f"make build set up the project again under the user's home: {again}"
    assert os.path.realpath(ROOT / ".venv").startswith(dinfra_cache() + "/venv-")
    assert (installed / "MANIFEST.json").is_file() and (installed / "playbooks" / "reconcile.yml").is_file()
    assert not (installed / "chain").exists() and not (installed / "devtools").exists()

    # The dev-stack walk, with the two changes the docstring gives.
    assert dev_stack[0].startswith("make dev-up && . .dev/env"), dev_stack[0]
    assert dev_stack[-1] == "cd - && make dev-down", dev_stack[-1]
    assert "export DINFRA_SIGNER_SECRET=//Bob" in dev_stack
    walk = [". .dev/env"] + [line.replace("//Bob", secret) for line in dev_stack[1:-1]]
    # The installed collection, not the checkout, is what runs.
    walk.insert(1, ". ~/dinfra-reactor/bin/activate")
    walk.insert(2, 'test "$(command -v ansible-playbook)" = ~/dinfra-reactor/bin/ansible-playbook')
    done = bash(walk, env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert secret not in output
    # provider.yml's registration: offers for both reference types.
    assert chain.query("DinfraProviders", "Providers", [provider.ss58_address]).value["status"] == "Active"
    assert chain.query("DinfraProviders", "Offers", [provider.ss58_address, 0]).value == {
        "capacity": 20, "in_use": 0, "price_per_block": 1000000}
    assert chain.query("DinfraProviders", "Offers", [provider.ss58_address, 1]).value == {
        "capacity": 5, "in_use": 0, "price_per_block": 5000000}

    # A consumer subscribes to the provider; the README's reconcile command deploys it and reports it.
    _secret, consumer = fresh_account(chain, "ReadmeConsumer")
    cid = publish(ipfs_api, vm_descriptor(template="debian-12"))
    dep = awarded_id(submit(chain, consumer, "DinfraSubscriptions", "subscribe",
                            {"type_id": 0, "descriptor_cid": cid, "deposit": 10**10, "strategy": "RoundRobin",
                             "provider": provider.ss58_address}))
    reconcile = [line for line in walk if "dinfra.chain.register_provider" not in line]
    tag = [{"key": "dinfra-deployment", "value": f"dev-stack:{dep}"}]
    try:
        done = bash(reconcile, env)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        record = deployment(chain, dep)
        assert state_name(record) == "Running" and '"ip"' in record["access_info"], record
        assert len(cs_api.listVirtualMachines(tags=tag, listall=True).get("virtualmachine", [])) == 1
    finally:
        # The consumer cancels and the same command tears it down: nothing is left for the next run.
        submit(chain, consumer, "DinfraSubscriptions", "cancel", {"id": dep})
        done = bash(reconcile, env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert state_name(deployment(chain, dep)) == "Terminated"
    assert cs_api.listVirtualMachines(tags=tag, listall=True).get("virtualmachine", []) == []
