"""The Chain Reactor API as a provider runs it: `python -m dinfra_api` in a process of its own,
configured from the environment, with its tokens in a file of mode 0600."""
import http.client
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request

from ansible_cli import BIN, ROOT
from simulator_helpers import free_port

START_WITHIN = 60


class ApiService:
    def __init__(self, workdir, node_url, provider, signer_secret=None, ipfs_gateway="http://127.0.0.1:9"):
        self.token = secrets.token_urlsafe(32)
        tokens = workdir / "api-tokens"
        tokens.write_text(f"# reactors of the test\n{self.token}\n")
        tokens.chmod(0o600)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "api.log"
        self.env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
                    "PYTHONPATH": f"{ROOT / 'api'}:{ROOT / '.dev' / 'collections'}", "DINFRA_NODE_URL": node_url,
                    "DINFRA_PROVIDER": provider, "DINFRA_API_TOKENS_FILE": str(tokens), "DINFRA_API_PORT": str(self.port),
                    "DINFRA_API_CHAIN_TIMEOUT": "10", "DINFRA_LOCK_DIR": str(workdir / "locks"),
                    "DINFRA_IPFS_GATEWAY": ipfs_gateway, "DINFRA_API_IPFS_TIMEOUT": "10",
                    "DINFRA_API_SCHEMA_CACHE": str(workdir / "schemas")}
        self.secret = signer_secret
        if signer_secret:
            secret = workdir / "signer-secret"
            secret.write_text(signer_secret + "\n")
            secret.chmod(0o600)
            self.env["DINFRA_SIGNER_SECRET_FILE"] = str(secret)
        self.proc = None

    def start(self):
        with open(self.log_path, "a", encoding="utf-8") as log:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with  # stopped in stop()
                [str(BIN / "python"), "-m", "dinfra_api"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the API exited ({self.proc.returncode}):\n{self.log()}")
            try:
                if self.get("/v1/health/live", token=None)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the API did not answer within {START_WITHIN} s:\n{self.log()}")

    def get(self, path, token=""):
        """(status, JSON body, headers); `token` "" means the service's own, None means none."""
        return self.request("GET", path, token=token)

    def post(self, path, body=None, token="", raw=None, headers=None):
        """POSTs `body` as JSON (or `raw` bytes as they are)."""
        data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        return self.request("POST", path, token=token, data=data,
                            headers={"Content-Type": "application/json", **(headers or {})})

    def request(self, method, path, token="", data=None, headers=None):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token or self.token}"
        request = urllib.request.Request(self.url + path, headers=headers, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read()), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


class EventStream:
    """A client of the service's Server-Sent Events, reading one event at a time."""

    def __init__(self, service, last_event_id=None, timeout=30):
        self.conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {service.token}", "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", "/v1/events", headers=headers)
        self.response = self.conn.getresponse()

    def next(self):
        """The next event as {"id", "event", "data"}; keep-alive comments are skipped."""
        found = {}
        while True:
            line = self.response.fp.readline()
            if not line:
                raise AssertionError(f"the stream ended: {found}")
            line = line.decode().rstrip("\n")
            if not line:
                if "data" in found:
                    return found
                continue
            if line.startswith(":"):
                continue
            field, _sep, value = line.partition(": ")
            found[field] = json.loads(value) if field == "data" else value

    def until(self, check, most=50):
        """Events up to and including the first that `check` accepts."""
        seen = []
        for _n in range(most):
            seen.append(self.next())
            if check(seen[-1]):
                return seen
        raise AssertionError(f"no such event in {most}: {seen}")

    def close(self):
        self.conn.close()
