"""`make demo`'s script on the dev stack: the main job, from a provider's registration to the
teardown when the deposit runs out, with the real playbooks and ansible-runner."""
import subprocess
import sys

from reactor_helpers import ROOT


def test_the_demo_tells_one_deployments_whole_life(node_url):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py")], capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "reactor: 1 deployed, 0 failed, 0 torn down" in out
    assert "CloudStack VM dinfra-demo-" in out and ": Running, Medium Instance, 2 volumes" in out
    assert "on chain: Running, access info {\"ip\":" in out
    assert "Terminating (reason: Exhausted)" in out
    assert "reactor: 0 deployed, 0 failed, 1 torn down" in out
    assert "CloudStack objects left for the deployment: 0" in out
    assert "on chain: Terminated (reason: Exhausted, confirmed: True)" in out
    assert "Bob was paid 0.3000 DIN for 30 blocks" in out
    # It ends by saying where to go next, and every file it names is there.
    assert "Next: run this reactor against your own chain and cloud" in out
    assert "ansible-playbook -i deployments.dinfra.yml dinfra.chain.reconcile -e @provider.yml" in out
    for named in ("docs/providers.md", "docs/reactor.md", "docs/examples/reactor/", "provider.yml", "reactor.env"):
        assert named in out
    for path in ("docs/providers.md", "docs/reactor.md", "docs/examples/reactor/provider.yml",
                 "docs/examples/reactor/reactor.env", "docs/examples/reactor/deployments.dinfra.yml"):
        assert (ROOT / path).is_file(), path
