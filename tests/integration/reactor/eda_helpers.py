"""The real `ansible-rulebook` running rulebook dinfra.chain.reactor for a test's provider, as
docs/eda.md says a provider runs it."""
import ast
import contextlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest

from reactor_helpers import BIN, ansible_env, deployment, pipe, state_name, stop_process_group

# Bounds of every wait here: a reconcile of one deployment takes about 12 s on the dev stack.
RUNNING_WITHIN = 180


def java_home():
    java = shutil.which("java")
    if java is None:
        pytest.fail("java is not installed: make setup installs a JDK 17 for ansible-rulebook")
    return str(pathlib.Path(os.path.realpath(java)).parent.parent)


class Rulebook:
    """One `ansible-rulebook -r dinfra.chain.reactor` for the test's provider, printing events."""

    def __init__(self, reactor, workdir):
        self.reactor, self.workdir = reactor, workdir
        self.position = workdir / "eda-position.json"
        # run_playbook passes the playbook no -e, only the inventory, which it copies whole: the
        # provider's settings go in the inventory directory's group_vars/all. Links to the
        # project's files, as docs/eda.md lays it out.
        self.inventory = workdir / "events-inventory"
        (self.inventory / "group_vars" / "all").mkdir(parents=True)
        (workdir / "provider.json").write_text(json.dumps(reactor.variables))
        (self.inventory / "deployments.dinfra.yml").symlink_to("../deployments.dinfra.yml")
        (self.inventory / "group_vars" / "all" / "provider.json").symlink_to("../../../provider.json")
        self.log_path = workdir / "rulebook.log"
        self.proc = None

    def start(self, node_url=None):
        """Starts ansible-rulebook; `node_url` replaces the node (for the source and the runs)."""
        node = {"DINFRA_NODE_URL": node_url} if node_url else {}
        env = ansible_env(**{**self.reactor.env, **node}, DINFRA_PROVIDER=self.reactor.address,
                          DINFRA_EDA_POSITION_FILE=str(self.position), JAVA_HOME=java_home())
        log = open(self.log_path, "a", encoding="utf-8")  # pylint: disable=consider-using-with  # closed in stop
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with  # stopped in stop()
            [str(BIN / "ansible-rulebook"), "-r", "dinfra.chain.reactor", "-i", str(self.inventory),
             "--env-vars", "DINFRA_NODE_URL,DINFRA_PROVIDER", "--print-events", "-v"],
            env=env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def stop(self):
        stop_process_group(self.proc)
        self.proc = None

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def events(self):
        """The events --print-events wrote, whole (pprint spreads one over several lines)."""
        found, pending = [], None
        for line in self.log().splitlines():
            if pending is None and not line.startswith("{'dinfra':"):
                continue
            pending = line if pending is None else pending + "\n" + line
            try:
                found.append(ast.literal_eval(pending))
            except (SyntaxError, ValueError):
                continue
            pending = None
        return found

    def changes(self, kind, deployment_id):
        """The blocks of the printed events of one kind for one deployment."""
        return [e["dinfra"]["block"] for e in self.events()
                if e["dinfra"].get("kind") == kind and e["dinfra"].get("deployment_id") == deployment_id]

    def idle(self):
        """Every run a rule firing started has ended (Drools logs each firing; each run ends
        with a PLAY RECAP)."""
        log = self.log()
        return log.count("Writing payload on the async channel") == log.count("PLAY RECAP")

    def wait_for(self, what, check, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            assert self.proc.poll() is None, f"ansible-rulebook exited ({self.proc.returncode}):\n{self.log()[-5000:]}"
            time.sleep(0.5)
        pytest.fail(f"{what} did not happen within {timeout} s:\n{self.log()[-5000:]}")


def running(chain, deployment_id):
    return lambda: state_name(deployment(chain, deployment_id)) == "Running"


class NodeLink:
    """A TCP proxy to the node that a test can cut: `cut()` closes every open connection and
    refuses new ones, as a node that went away or a network that dropped; `mend()` lets
    connections through again, to the same chain, which went on making blocks meanwhile."""

    def __init__(self, node_url):
        parsed = urllib.parse.urlparse(node_url)
        self.target = (parsed.hostname, parsed.port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self.server.getsockname()[1]}"
        self.up = threading.Event()
        self.up.set()
        self.lock = threading.Lock()
        self.open = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _address = self.server.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=30)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(source, sink), daemon=True).start()

    def cut(self):
        self.up.clear()
        with self.lock:
            for end in self.open:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.open = []

    def mend(self):
        self.up.set()

    def close(self):
        self.server.close()
        self.cut()
