"""A dev chain of one test's own: chopsticks running our runtime from the dev stack's chain spec,
with its blocks in SQLite, so that it can be stopped and started again on the same chain
(`resume: true`). The shared dev chain is never restarted: the other tests hold connections to
it, and a plain restart of chopsticks starts a new chain."""
import contextlib
import json
import subprocess
import time
import urllib.request

from substrateinterface import SubstrateInterface

from ansible_cli import ROOT
from reactor_helpers import stop_process_group
from simulator_helpers import free_port

CHOPSTICKS = ROOT / "chain/devchain/node_modules/@acala-network/chopsticks/chopsticks.cjs"
CHAIN_SPEC = ROOT / ".dev/chain-spec.json"
START_WITHIN = 120


class PrivateChain:
    """Start, stop and resume one chopsticks; `url` stays the same across restarts."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.db = workdir / "chain.sqlite"
        self.log_path = workdir / "chopsticks.log"
        self.proc = None

    def start_primed(self):
        """Starts a new chain and restarts it once. Chopsticks answers a placeholder for block 0's
        hash until it first resumes from its db, and another hash from then on, while the
        runtime's `System.BlockHash(0)`, which signatures commit to, keeps the placeholder. A
        real node does neither. So the chain is restarted once here, and the runtime is told
        the genesis hash that the RPC now answers; from then on restarts keep both, and the
        test's own restart looks to the source, and to signers, like a real node's."""
        self.start()
        self.rpc("dev_newBlock", [{"count": 1}])
        self.stop()
        self.start(resume=True)
        genesis = self.rpc("chain_getBlockHash", [0])
        with SubstrateInterface(url=self.url, ws_options={"timeout": 30}) as chain:
            key = chain.create_storage_key("System", "BlockHash", [0]).to_hex()
        self.rpc("dev_setStorage", [[[key, genesis]]])
        self.rpc("dev_newBlock", [{"count": 1}])

    def start(self, resume=False):
        if not CHAIN_SPEC.exists():
            raise AssertionError(f"{CHAIN_SPEC} is missing: the dev stack writes it ('make dev-up')")
        config = self.workdir / "chopsticks.json"
        # JSON is YAML: chopsticks reads its config with a YAML parser.
        config.write_text(json.dumps({"host": "127.0.0.1", "port": self.port, "genesis": str(CHAIN_SPEC),
                                      "build-block-mode": "Instant", "runtime-log-level": 0, "db": str(self.db),
                                      **({"resume": True} if resume else {})}))
        with open(self.log_path, "a", encoding="utf-8") as log:
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with  # stopped in stop()
                ["node", str(CHOPSTICKS), "--config", str(config)], stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chopsticks exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.rpc("chain_getHeader", [])
                return
            time.sleep(0.5)
        raise AssertionError(f"chopsticks did not answer within {START_WITHIN} s:\n{self.log()[-3000:]}")

    def rpc(self, method, params):
        body = json.dumps({"id": 1, "jsonrpc": "2.0", "method": method, "params": params}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["result"]

    def finalised(self):
        """(number, hash) of the finalised head."""
        head = self.rpc("chain_getFinalizedHead", [])
        return int(self.rpc("chain_getHeader", [head])["number"], 16), head

    def stop(self):
        stop_process_group(self.proc)
        self.proc = None

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
