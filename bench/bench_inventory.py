"""Benchmark of the dinfra.chain.deployments inventory for a provider with N deployments.

Creating 10 000 deployments through `subscribe` would take hours of blocks, so their records are
written straight into the dev chain's storage with chopsticks' `dev_setStorage`, in the shape
`subscribe` writes them: `Deployments(id) -> Deployment` and the `ProviderDeployments(provider, id)`
index, which are what the inventory reads. Each size has a provider account of its own and ids
from 10 000 000 up (tests use ids from 0), and everything written is deleted afterwards."""
import collections
import json
import random
import time
import uuid

import yaml

from substrateinterface import Keypair, SubstrateInterface
from substrateinterface.utils.hasher import blake2_128_concat, two_x64_concat, xxh128

from bench_env import BenchError, reactor_helpers, spread
# Importable only once bench_env has put the test helpers and .dev/collections on sys.path.
# pylint: disable=wrong-import-order
from ansible_cli import ansible_env, run
from ansible_collections.dinfra.chain.plugins.module_utils.chain import ChainClient
from ansible_collections.dinfra.chain.plugins.module_utils.cid import raw_cid
from ansible_collections.dinfra.chain.plugins.module_utils.deployments import account_deployments
# pylint: enable=wrong-import-order

SUBSCRIPTIONS = "DinfraSubscriptions"
FIRST_ID = 10_000_000
# Far more ids than any size, so two runs of the benchmark (or two sizes) never share one.
ID_BLOCKS = 10**6
ID_BLOCK_SIZE = 100_000
# Pairs per dev_setStorage call: chopsticks takes messages up to 100 MiB; this is ~6 MB.
WRITE_BATCH = 10_000
# The inventory file a provider uses (docs/examples/reactor), with the provider named: the
# synthetic provider has no key here.
INVENTORY = "plugin: dinfra.chain.deployments\nstates: [awarded, running, terminating, failed, terminated]\n"


def storage_prefix(item):
    return bytes(xxh128(SUBSCRIPTIONS.encode())) + bytes(xxh128(item.encode()))


def u64(value):
    return value.to_bytes(8, "little")


class SyntheticDeployments:
    """`size` Running deployments of a fresh provider, written into chain storage."""

    def __init__(self, chain, size):
        self.chain, self.size = chain, size
        self.provider = Keypair.create_from_uri(f"//BenchInventory{uuid.uuid4().hex}")
        self.consumer = Keypair.create_from_uri(f"//BenchConsumer{uuid.uuid4().hex}")
        self.first_id = FIRST_ID + random.randrange(ID_BLOCKS) * ID_BLOCK_SIZE
        self.ids = range(self.first_id, self.first_id + size)
        self.batches = []

    def _key(self, deployment_id):
        return "0x" + (storage_prefix("Deployments") + bytes(two_x64_concat(u64(deployment_id)))).hex()

    def _index_key(self, deployment_id):
        return "0x" + (storage_prefix("ProviderDeployments") + bytes(blake2_128_concat(self.provider.public_key))
                       + bytes(two_x64_concat(u64(deployment_id)))).hex()

    def _record(self, deployment_id, head, n):
        """A deployment as `subscribe` and `report_deployed` leave it: Running, with access info."""
        return {
            "consumer": self.consumer.ss58_address, "provider": self.provider.ss58_address, "type_id": 0,
            "descriptor_cid": str(raw_cid(u64(deployment_id))), "price_per_block": reactor_helpers.PRICE,
            "deposit": 10**14, "paid": 0, "state": "Running", "awarded_at": head, "settled_until": head,
            # Never reached, and not in Deadlines: the chain's hook never touches these records.
            "deadline": head + 10**8,
            "access_info": json.dumps({"ip": f"198.51.{n // 250 % 250}.{n % 250 + 1}", "user": "web", "tcp": [22, 80]},
                                      separators=(",", ":")),
        }

    def _check_layout(self):
        """Our keys must be the ones substrate-interface makes from the metadata."""
        made = self.chain.create_storage_key(SUBSCRIPTIONS, "Deployments", [self.first_id]).to_hex()
        index = self.chain.create_storage_key(SUBSCRIPTIONS, "ProviderDeployments",
                                              [self.provider.ss58_address, self.first_id]).to_hex()
        if (made, index) != (self._key(self.first_id), self._index_key(self.first_id)):
            raise BenchError(f"storage keys differ from the metadata's: {made} / {self._key(self.first_id)}")

    def _existing(self, keys, head):
        found = []
        for start in range(0, len(keys), 1000):
            changes = self.chain.rpc_request("state_queryStorageAt", [keys[start:start + 1000], head])["result"][0]["changes"]
            found.extend(key for key, value in changes if value is not None)
        return found

    def write(self):
        head_hash = self.chain.get_chain_finalised_head()
        head = self.chain.get_block_number(head_hash)
        self.chain.init_runtime(block_hash=head_hash)
        self._check_layout()
        keys = [self._key(i) for i in self.ids]
        taken = self._existing(keys, head_hash)
        if taken:
            raise BenchError(f"{len(taken)} of the synthetic ids {self.first_id}.. already hold a deployment; run again")
        value_type = self.chain.get_metadata_storage_function(SUBSCRIPTIONS, "Deployments").get_value_type_string()
        pairs = []
        for n, deployment_id in enumerate(self.ids):
            value = self.chain.runtime_config.create_scale_object(value_type).encode(self._record(deployment_id, head, n))
            pairs.append([keys[n], value.to_hex()])
            pairs.append([self._index_key(deployment_id), "0x"])  # the index's value is ()
        self.batches = [pairs[start:start + WRITE_BATCH] for start in range(0, len(pairs), WRITE_BATCH)]
        self._set(self.batches, present=True)

    def delete(self):
        self._set([[[key, None] for key, _value in batch] for batch in self.batches], present=False)

    def _set(self, batches, present):
        """dev_setStorage adds a layer to the head block; a block being built at that moment
        starts from the layer before, so check each batch at the new head and write it again."""
        pending = batches
        for _attempt in range(3):
            for batch in pending:
                self.chain.rpc_request("dev_setStorage", [batch])
            head = self.chain.get_chain_finalised_head()
            wanted = 2 if present else 0
            pending = [batch for batch in pending if len(self._existing([batch[0][0], batch[-1][0]], head)) != wanted]
            if not pending:
                return
        raise BenchError(f"dev_setStorage did not stick for {len(pending)} batches of synthetic deployments")


class CountedRpc:
    """Counts and times substrate-interface's RPC requests (every read goes through rpc_request)."""

    def __init__(self):
        self.calls, self.seconds = collections.Counter(), collections.Counter()
        self._original = SubstrateInterface.rpc_request

    def __enter__(self):
        original, calls, seconds = self._original, self.calls, self.seconds

        def counted(substrate, method, params, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original(substrate, method, params, *args, **kwargs)
            finally:
                calls[method] += 1
                seconds[method] += time.perf_counter() - started

        SubstrateInterface.rpc_request = counted
        return self

    def __exit__(self, *exc):
        SubstrateInterface.rpc_request = self._original


def chain_read(node_url, provider, size):
    """The plugin's read (module_utils, as _read_chain calls it) in this process, with its RPCs
    counted: how much of the CLI's time is the chain and how many round trips it makes."""
    with CountedRpc() as rpc:
        started = time.perf_counter()
        with ChainClient(node_url) as client:
            block_hash, _number = client.head()
            found = account_deployments(client, "provider", provider, block_hash, 100_000)
        seconds = time.perf_counter() - started
    if len(found) != size:
        raise BenchError(f"the plugin's read found {len(found)} deployments for the synthetic provider, not {size}")
    rpc_seconds = sum(rpc.seconds.values())
    return {"seconds": round(seconds, 2), "rpc_calls": sum(rpc.calls.values()), "rpc_seconds": round(rpc_seconds, 2),
            # Connecting, building keys, SCALE-decoding: time in this process.
            "other_seconds": round(seconds - rpc_seconds, 2),
            "by_method": {m: {"calls": c, "seconds": round(rpc.seconds[m], 2)} for m, c in rpc.calls.most_common()}}


def listed_hosts(output):
    inventory = json.loads(output)
    hostvars = inventory.get("_meta", {}).get("hostvars")
    if hostvars is not None:
        return len(hostvars)
    return len({host for group in inventory.values() if isinstance(group, dict) for host in group.get("hosts", [])})


def static_copy(listing, path):
    """The hosts, groups and variables of an ``ansible-inventory --list`` answer as a static YAML
    inventory: what the plugin's output would cost Ansible without the plugin."""
    inventory = json.loads(listing)
    hostvars = inventory.get("_meta", {}).get("hostvars", {})
    groups = {name: {"hosts": {host: None for host in group.get("hosts", [])}}
              for name, group in inventory.items() if name not in ("_meta", "all", "ungrouped") and isinstance(group, dict)}
    path.write_text(yaml.safe_dump({"all": {"hosts": hostvars, "children": groups}}, sort_keys=False))


def time_inventory(workdir, node_url, provider, size, repeats):
    """Wall times of `ansible-inventory --list` for the provider, then for a static YAML copy of
    what it listed, alternately; fails unless both list `size` hosts."""
    inventory = workdir / "deployments.dinfra.yml"
    inventory.write_text(INVENTORY)
    env = ansible_env(DINFRA_NODE_URL=node_url, DINFRA_PROVIDER=provider)
    env.pop("DINFRA_SIGNER_SECRET", None)
    times, static_times = [], []
    static = workdir / "static.yml"
    for _repeat in range(repeats):
        started = time.monotonic()
        proc = run(["ansible-inventory", "-i", str(inventory), "--list"], env, cwd=workdir, timeout=3600)
        times.append(time.monotonic() - started)
        if proc.returncode != 0:
            raise BenchError(f"ansible-inventory failed for {size} deployments: {proc.stderr[-2000:]}")
        hosts = listed_hosts(proc.stdout)
        if hosts != size:
            raise BenchError(f"ansible-inventory listed {hosts} hosts for a provider with {size} synthetic deployments: "
                             "the records do not decode as the plugin expects")
        if not static.exists():
            static_copy(proc.stdout, static)
        started = time.monotonic()
        copy = run(["ansible-inventory", "-i", str(static), "--list"], env, cwd=workdir, timeout=3600)
        static_times.append(time.monotonic() - started)
        if copy.returncode != 0 or listed_hosts(copy.stdout) != size:
            raise BenchError(f"the static copy of the inventory did not list {size} hosts: {copy.stderr[-2000:]}")
    return times, static_times


def run_inventory_benchmarks(endpoints, workdir, sizes, repeats, log):
    """Per size (and an empty provider, the fixed cost): CLI wall times and the counted chain read."""
    if not sizes:
        return []
    chain = SubstrateInterface(url=endpoints["node_url"], ws_options={"timeout": 300})
    results = []
    try:
        for size in [0, *sizes]:
            size_dir = workdir / f"inventory-{size}"
            size_dir.mkdir()
            synthetic = SyntheticDeployments(chain, size)
            started = time.monotonic()
            try:
                if size:
                    synthetic.write()
                written = time.monotonic() - started
                read = chain_read(endpoints["node_url"], synthetic.provider.ss58_address, size)
                times, static_times = time_inventory(
                    size_dir, endpoints["node_url"], synthetic.provider.ss58_address, size, repeats)
            finally:
                if size:
                    synthetic.delete()
            keys_paged = read["by_method"].get("state_getKeysPaged", {}).get("seconds", 0)
            result = {"size": size, "first_id": synthetic.first_id if size else None, "write_seconds": round(written, 1),
                      "cli": spread(times), "cli_runs": [round(t, 2) for t in times], "chain_read": read,
                      # The plugin's own read: all of it but the node's time listing keys.
                      "read_without_keys_paged": round(read["seconds"] - keys_paged, 2),
                      "static_cli": spread(static_times),
                      "ratio_to_static": round(spread(times)["median"] / spread(static_times)["median"], 2)}
            results.append(result)
            log(f"inventory {size}: ansible-inventory {result['cli']['median']} s (median of {repeats}), "
                f"chain read {read['seconds']} s in {read['rpc_calls']} RPCs "
                f"({result['read_without_keys_paged']} s without state_getKeysPaged); "
                f"static YAML copy {result['static_cli']['median']} s, ratio {result['ratio_to_static']}")
    finally:
        chain.close()
    return results
