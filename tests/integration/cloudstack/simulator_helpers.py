"""Helpers for the CloudStack simulator's tests: a cs client, the admin API, private simulator
processes, and ansible-playbook runs of ngine_io.cloudstack tasks."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import requests
from cs import CloudStack

from ansible_cli import ROOT, ansible_env, run

ADMIN_HEADER = "X-Simulator-Secret"
ZONE = "Sandbox-simulator"
TEMPLATE = "CentOS 5.6 (64-bit) no GUI (Simulator)"
ISOLATED_OFFERING = "DefaultIsolatedNetworkOfferingWithSourceNatService"


def client(env, **kwargs):
    """A cs client for the simulator in ``env`` (CLOUDSTACK_ENDPOINT, _KEY, _SECRET)."""
    kwargs.setdefault("timeout", 10)
    kwargs.setdefault("poll_interval", 0.1)
    return CloudStack(endpoint=env["CLOUDSTACK_ENDPOINT"], key=env["CLOUDSTACK_KEY"], secret=env["CLOUDSTACK_SECRET"], **kwargs)


class Admin:
    """The simulator's admin API (/_simulator/...), authenticated with the API secret."""

    def __init__(self, endpoint, secret):
        self.base = endpoint.rsplit("/client/api", 1)[0] + "/_simulator"
        self.headers = {ADMIN_HEADER: secret}

    def _call(self, method, what, body=None):
        response = requests.request(method, f"{self.base}/{what}", json=body, headers=self.headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def faults(self, **faults):
        return self._call("POST", "faults", faults)

    def clear_faults(self):
        return self._call("DELETE", "faults")

    def held(self):
        """{command: count} of the delayed requests not answered (applied) yet."""
        return self._call("GET", "faults")["held"]

    def reset(self):
        return self._call("POST", "reset")

    def calls(self, restart=False):
        """{command: requests} since the last restart of the count; ``restart`` restarts it."""
        return self._call("DELETE" if restart else "GET", "calls")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateSimulator:
    """A simulator process of a test's own, on a free port."""

    def __init__(self, db, credentials, log_dir, *args):
        self.db, self.credentials, self.port = db, credentials, free_port()
        self.log_path = log_dir / f"simulator-{self.port}.log"
        self.log = open(self.log_path, "wb")  # pylint: disable=consider-using-with  # closed in stop()
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with  # stopped in stop()
            [sys.executable, "-m", "cloudstack_simulator", "--db", str(db), "--credentials-file", str(credentials),
             "--port", str(self.port), *args],
            env=dict(os.environ, PYTHONPATH=str(ROOT / "devtools")), stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, f"the simulator exited: {self.log_path.read_text()}"
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/_simulator/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the simulator did not answer within 30 s"
            time.sleep(0.1)
        creds = json.loads(credentials.read_text())
        self.env = {"CLOUDSTACK_ENDPOINT": f"http://127.0.0.1:{self.port}/client/api", "CLOUDSTACK_KEY": creds["apikey"],
                    "CLOUDSTACK_SECRET": creds["secretkey"]}
        self.api = client(self.env)
        self.admin = Admin(self.env["CLOUDSTACK_ENDPOINT"], creds["secretkey"])

    def stop(self, crash=False):
        """SIGTERM (or, for a crash, SIGKILL) and wait."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


def playbook(tmp_path, tasks, env, *flags):
    """Runs ``tasks`` (each with a ``register``) on localhost with the CloudStack settings in
    ``env``; returns what they registered and the finished ansible-playbook."""
    name = uuid.uuid4().hex[:8]
    out, book = tmp_path / f"{name}.json", tmp_path / f"{name}.yml"
    names = [task["register"] for task in tasks]
    keep = {
        "name": "Keep the results",
        "check_mode": False,
        "ansible.builtin.copy": {"content": "{{ {" + ", ".join(f"'{n}': {n}" for n in names) + "} | to_json }}", "dest": str(out)},
    }
    plays = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
              "tasks": [dict(task, ignore_errors=True) for task in tasks] + [keep]}]
    book.write_text(json.dumps(plays))
    overrides = {k: v for k, v in env.items() if k.startswith("CLOUDSTACK_")}
    result = run(["ansible-playbook", "-i", "localhost,", str(book), *flags], ansible_env(**overrides))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text()), result


def task(module, register, **args):
    return {"name": register, f"ngine_io.cloudstack.{module}": args, "register": register}
