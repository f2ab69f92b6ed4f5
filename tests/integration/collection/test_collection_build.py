"""The collection builds with ansible-galaxy (without the chain, tooling or local state),
installs from the tarball, and its plugins load from the installed copy."""
import subprocess
import sys
import tarfile

from ansible_cli import ROOT, ansible_env, run


def test_build_install_and_load(tmp_path):
    built = run(["ansible-galaxy", "collection", "build", str(ROOT), "--output-path", str(tmp_path)], ansible_env())
    assert built.returncode == 0, built.stdout + built.stderr
    (tarball,) = tmp_path.glob("dinfra-chain-*.tar.gz")

    names = tarfile.open(tarball).getnames()
    assert "plugins/inventory/deployments.py" in names
    assert "plugins/modules/deployment_status.py" in names
    assert "meta/runtime.yml" in names
    assert {"extensions/eda/plugins/event_source/deployments.py", "extensions/eda/rulebooks/reactor.yml",
            "extensions/eda/rulebooks/reactor_controller.yml"} <= set(names)
    leaked = [n for n in names if n.split("/")[0] in ("chain", "scripts", ".dev", ".venv", ".ci", "Makefile", ".gitignore")]
    assert leaked == [], f"non-collection files in the tarball: {leaked[:5]}"

    installed = tmp_path / "installed"
    result = run(
        ["ansible-galaxy", "collection", "install", str(tarball), "-p", str(installed), "--no-deps", "--force"],
        ansible_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (installed / "ansible_collections" / "dinfra" / "chain" / "plugins" / "modules" / "provider.py").exists()

    doc = run(
        ["ansible-doc", "-t", "inventory", "dinfra.chain.deployments"],
        ansible_env(ANSIBLE_COLLECTIONS_PATH=str(installed)),
    )
    assert doc.returncode == 0, doc.stderr
    assert str(installed) in doc.stdout

    # ansible-rulebook loads an event source by its path, with no collections on sys.path: the
    # installed source must find its own collection's module_utils.
    source = installed / "ansible_collections/dinfra/chain/extensions/eda/plugins/event_source/deployments.py"
    loaded = subprocess.run(
        [sys.executable, "-I", "-c", "import runpy, sys; module = runpy.run_path(sys.argv[1]); "
         "print(module['ChainClient'].__module__, sys.modules[module['ChainClient'].__module__].__file__)", str(source)],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["ansible_collections.dinfra.chain.plugins.module_utils.chain",
                                     str(installed / "ansible_collections/dinfra/chain/plugins/module_utils/chain.py")]
