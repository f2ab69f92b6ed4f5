"""The Chain Reactor as a provider runs it: a fresh provider account on the dev chain with offers
for both reference types, an inventory and variables in a workspace of its own, and the real
`ansible-playbook dinfra.chain.reconcile`. Chain state is set up and read with
substrate-interface directly, not with the code under test."""
import http.server
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid

from substrateinterface import Keypair

# tests/integration/{collection,cloudstack}'s helpers.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "collection"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "cloudstack"))

from ansible_cli import BIN, ROOT, ansible_env, run  # noqa: E402  pylint: disable=wrong-import-position
from chain_fixtures import PRICE, awarded_id, submit  # noqa: E402  pylint: disable=wrong-import-position
from simulator_helpers import TEMPLATE, ZONE  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.dinfra.chain.plugins.module_utils.run_lock import RUN_ENV, process_start  # noqa: E402  pylint: disable=wrong-import-position

TYPE_IDS = {"cloudstack-vm": 0, "substrate-node": 1}
OFFERINGS = [{"name": "Small Instance", "cpu": 1, "memory_mb": 512}, {"name": "Medium Instance", "cpu": 8, "memory_mb": 16384}]
TEMPLATES = {"centos-5": TEMPLATE, "Debian 12 (64-bit)": TEMPLATE}
ALICE_ED25519 = "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"
INVENTORY = """\
plugin: dinfra.chain.deployments
reactor_lock: true
states: [awarded, running, terminating, failed, terminated]
"""


def vm_descriptor(name="web-1", **extra):
    descriptor = {"type": "cloudstack-vm", "version": 1, "name": name, "size": {"offering": "Small Instance"},
                  "template": "centos-5", "ports": [{"port": 22}, {"port": 80}],
                  "ssh": {"user": "web", "authorized_keys": [ALICE_ED25519]}}
    descriptor.update(extra)
    return descriptor


def node_descriptor():
    descriptor = json.loads((ROOT / "descriptors/substrate-node/examples/valid/westend-rpc.json").read_text())
    descriptor["size"] = {"offering": "Medium Instance"}
    return descriptor


def publish(ipfs_api, document):
    """Adds a descriptor to Kubo as a consumer's tools do (raw CIDv1 of the exact bytes); its CID."""
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d\"\r\n\r\n" + data + b"\r\n--b--\r\n"
    request = urllib.request.Request(f"{ipfs_api}/api/v0/add?cid-version=1&raw-leaves=true&pin=true", data=body,
                                     headers={"Content-Type": "multipart/form-data; boundary=b"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["Hash"]


def fund(chain, address, amount=10**15):
    submit(chain, Keypair.create_from_uri("//Alice"), "Balances", "transfer_keep_alive", {"dest": address, "value": amount})


def fresh_account(chain, name):
    secret = f"//{name}{uuid.uuid4().hex[:8]}"
    keypair = Keypair.create_from_uri(secret)
    fund(chain, keypair.ss58_address)
    return secret, keypair


def deployment(chain, deployment_id):
    return chain.query("DinfraSubscriptions", "Deployments", [deployment_id]).value


def state_name(record):
    state = record["state"]
    return state if isinstance(state, str) else next(iter(state))


def sudo(chain, call):
    """Dispatches ``call`` as root through //Alice, the dev chain's sudo key."""
    receipt = submit(chain, Keypair.create_from_uri("//Alice"), "Sudo", "sudo", {"call": call})
    for event in receipt.triggered_events:
        if event.value["event"]["event_id"] == "Sudid":
            result = event.value["event"]["attributes"]
            assert "Ok" in str(result), f"sudo failed: {result}"
            return receipt
    raise AssertionError("no Sudid event")


def advance(chain, blocks):
    chain.rpc_request("dev_newBlock", [{"count": blocks}])


class Reactor:
    """One provider and its reactor workspace."""

    def __init__(self, chain, workdir, endpoints, cloudstack_env):
        self.chain, self.workdir = chain, workdir
        self.secret, self.keypair = fresh_account(chain, "Reactor")
        self.address = self.keypair.ss58_address
        # A label of its own: the simulator's state outlives dev-chain restarts, deployment ids do not.
        self.label = f"r{uuid.uuid4().hex[:8]}"
        submit(chain, self.keypair, "DinfraProviders", "register_provider", {"name": f"Reactor test {self.label}"})
        for type_id in TYPE_IDS.values():
            submit(chain, self.keypair, "DinfraProviders", "set_offer", {"type_id": type_id, "capacity": 200, "price_per_block": PRICE})
        self.consumer_secret, self.consumer = fresh_account(chain, "Consumer")
        (workdir / "deployments.dinfra.yml").write_text(INVENTORY)
        self.summary_path = workdir / "summary.json"
        self.variables = {
            "cloudstack_vm_chain": self.label, "cloudstack_vm_zone": ZONE,
            "cloudstack_vm_service_offerings": OFFERINGS, "cloudstack_vm_templates": TEMPLATES,
            "reactor_summary_file": str(self.summary_path),
        }
        self.env = {"DINFRA_NODE_URL": endpoints["node_url"], "DINFRA_SIGNER_SECRET": self.secret,
                    "DINFRA_IPFS_GATEWAY": endpoints["ipfs_gateway"], "DINFRA_LOCK_DIR": str(workdir / "locks"),
                    **{k: v for k, v in cloudstack_env.items() if k.startswith("CLOUDSTACK_")}}

    def subscribe(self, cid, type_name="cloudstack-vm", deposit=1000 * PRICE, type_id=None):
        receipt = submit(self.chain, self.consumer, "DinfraSubscriptions", "subscribe",
                         {"type_id": TYPE_IDS[type_name] if type_id is None else type_id, "descriptor_cid": cid, "deposit": deposit,
                          "strategy": "RoundRobin", "provider": self.address})
        return awarded_id(receipt)

    def consumer_call(self, call, params):
        return submit(self.chain, self.consumer, "DinfraSubscriptions", call, params)

    def command(self, *flags, **variables):
        extra = self.workdir / f"vars-{uuid.uuid4().hex[:8]}.json"
        extra.write_text(json.dumps({**self.variables, **variables}))
        return ["ansible-playbook", "-i", str(self.workdir / "deployments.dinfra.yml"), "dinfra.chain.reconcile",
                "-e", f"@{extra}", *flags]

    def run(self, *flags, env=None, timeout=600, **variables):
        """One reconcile run; (the finished ansible-playbook, its summary or None)."""
        if self.summary_path.exists():
            self.summary_path.unlink()
        proc = run(self.command(*flags, **variables), ansible_env(**{**self.env, **(env or {})}), timeout=timeout)
        assert self.secret not in proc.stdout + proc.stderr, "the signer's secret is in the output"
        summary = json.loads(self.summary_path.read_text()) if self.summary_path.exists() else None
        return proc, summary

    def start(self, summary_path, **variables):
        """A reconcile run in the background, in a process group of its own (to kill it whole)."""
        args = self.command(reactor_summary_file=str(summary_path), **variables)
        return subprocess.Popen(  # pylint: disable=consider-using-with  # the caller waits or kills
            [str(BIN / args[0]), *args[1:]], env=ansible_env(**self.env), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def outcomes(summary):
    """{deployment id: outcome} of a run's summary."""
    return {d["id"]: d["outcome"] for d in summary["deployments"]}


class LyingGateway:
    """A gateway that answers every block with bytes that are not the CID's."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802  (the standard library's name)
                body = b'{"type": "cloudstack-vm", "name": "not what the consumer published"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.ipld.raw")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                del args

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def pipe(source, sink):
    """Copies bytes from one socket to the other until either end closes, then shuts both."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    for end in (source, sink):
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            continue


def stop_process_group(proc, grace=30):
    """SIGTERM to the process group a Popen(start_new_session=True) leads, SIGKILL after `grace`."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


class ChainProxy:
    """A TCP proxy to the node that forwards its first ``allowed`` connections and closes every
    later one at once: the chain "goes down" after the reactor's inventory has read it."""

    def __init__(self, node_url, allowed):
        host_port = node_url.split("://", 1)[1].rstrip("/")
        host, port = host_port.rsplit(":", 1)
        self.target, self.allowed, self.accepted = (host, int(port)), allowed, 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client_socket, _address = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            if self.accepted > self.allowed:
                client_socket.close()
                continue
            upstream = socket.create_connection(self.target, timeout=30)
            for source, sink in ((client_socket, upstream), (upstream, client_socket)):
                threading.Thread(target=pipe, args=(source, sink), daemon=True).start()

    def close(self):
        self.server.close()


def run_modules(owner_pid):
    """[pid] of the live processes that a run (its ansible-playbook pid) marked: its modules
    and what they started (the deployments inventory's mark, DINFRA_REACTOR_RUN)."""
    prefix = f"{RUN_ENV}={owner_pid}-".encode()
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                if any(var.startswith(prefix) for var in environ.read().split(b"\0")) and process_start(int(entry)):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().decode("utf-8", "replace")
    except OSError:
        return ""


def children(pid):
    """[pid] of the live children of ``pid`` (the workers of an ansible-playbook process)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                text = stat.read().decode("ascii", "replace")
        except OSError:
            continue
        if int(text[text.rfind(")") + 2:].split()[1]) == pid:
            found.append(int(entry))
    return found


def kill_whole_run(proc):
    """Kills a reconcile run as a power cut would: ansible-playbook, its workers (in sessions of
    their own) and every module, all at once. Stopped first, so that it forks nothing more."""
    os.kill(proc.pid, signal.SIGSTOP)
    for pid in set(children(proc.pid)) | set(run_modules(proc.pid)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
