"""Benchmarks of reconcile runs (`ansible-playbook dinfra.chain.reconcile`): award-to-Running
latency, and the wall time of a run for N new deployments and of the run after it, when all of
them run and the reactor only verifies them."""
import collections
import json
import re
import sqlite3
import threading
import time

from substrateinterface import SubstrateInterface

from bench_env import BenchError, PrivateSimulator, reactor_helpers, spread
from bench_scale import verify_at_scale

Reactor, fund, outcomes, publish, state_name, vm_descriptor = (
    reactor_helpers.Reactor, reactor_helpers.fund, reactor_helpers.outcomes, reactor_helpers.publish,
    reactor_helpers.state_name, reactor_helpers.vm_descriptor)
PRICE = reactor_helpers.PRICE

# 10 000 blocks of billing: the dev chain makes a block per extrinsic, so a smaller deposit could
# run out (and the deployment turn Terminating) during the runs of a large size.
DEPOSIT = 10_000 * PRICE
# The simulator's seed zone has 199 public addresses (marvin's advanced.cfg); every deployment
# takes two (its network's source NAT and the one it acquires), so 100 need a wider range.
WIDE_PUBLIC_END = "192.168.3.254"
# profile_tasks ends the run with a line of "=" and then "<role> : <task> ---- 12.34s" per task.
# The dashes pad to 80 columns: a long name over 100 s has one dash, over 1000 s none.
PROFILE_LINE = re.compile(r"^(?P<task>.*?)\s+-*\s*(?P<seconds>\d+\.\d+)s$")
PROFILE_ENV = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks", "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all"}


class BenchCloud:
    """A CloudStack simulator of the benchmark's own (same program as the dev stack's), reset to a
    fresh seed before each size: 100 deployments take all but one of the seed zone's guest VLANs,
    and the dev stack's simulator, shared with the tests, keeps its capacity for them."""

    def __init__(self, workdir):
        self.simulator = PrivateSimulator(workdir / "cloudstack.sqlite", workdir / "cloudstack-credentials.json", workdir)
        self.env = {**self.simulator.env, "CLOUDSTACK_TIMEOUT": "10"}

    def fresh(self):
        self.simulator.admin.reset()
        # The simulator has no createVlanIpRange; its state is SQLite, read on every request.
        db = sqlite3.connect(self.simulator.db, timeout=30)
        try:
            with db:
                for object_id, body in db.execute("SELECT id, body FROM objects WHERE kind = 'vlan'").fetchall():
                    vlan = json.loads(body)
                    vlan["endip"] = WIDE_PUBLIC_END
                    db.execute("UPDATE objects SET body = ? WHERE id = ?", (json.dumps(vlan, sort_keys=True), object_id))
        finally:
            db.close()

    def stop(self):
        self.simulator.stop()


class RunningWatcher:
    """Notes when a deployment is first Running at the finalised head, polling every `interval`
    seconds on a connection of its own (opened beforehand, so the award's clock starts at once)."""

    def __init__(self, node_url, interval=0.1):
        self.chain = SubstrateInterface(url=node_url, ws_options={"timeout": 300})
        self.chain.init_runtime()
        self.interval, self.running_at, self.error = interval, None, None
        self._stop = threading.Event()
        self._thread = None

    def watch(self, deployment_id):
        self._thread = threading.Thread(target=self._poll, args=(deployment_id,), daemon=True)
        self._thread.start()

    def _poll(self, deployment_id):
        try:
            while not self._stop.is_set():
                head = self.chain.get_chain_finalised_head()
                record = self.chain.query("DinfraSubscriptions", "Deployments", [deployment_id], block_hash=head).value
                if record is not None and state_name(record) == "Running":
                    self.running_at = time.monotonic()
                    return
                self._stop.wait(self.interval)
        except Exception as exc:  # pylint: disable=broad-exception-caught  # reported with the sample
            self.error = f"{type(exc).__name__}: {exc}"

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        self.chain.close()


def task_profile(stdout, top=12):
    """The run's slowest tasks by name, summed over their includes: where the time went."""
    lines = stdout.splitlines()
    separators = [n for n, line in enumerate(lines) if line.startswith("=====")]
    totals = collections.Counter()
    for line in lines[separators[-1] + 1:] if separators else []:
        found = PROFILE_LINE.match(line.strip())
        if found:
            totals[found["task"].strip()] += float(found["seconds"])
    return [{"task": task, "seconds": round(seconds, 1)} for task, seconds in totals.most_common(top)]


def timed_run(reactor, timeout):
    """One reconcile run: its wall time, exit code, summary counts and task profile."""
    started = time.monotonic()
    proc, summary = reactor.run(env=PROFILE_ENV, timeout=timeout)
    seconds = time.monotonic() - started
    result = {"seconds": round(seconds, 2), "exit_code": proc.returncode,
              "counts": (summary or {}).get("counts"), "profile": task_profile(proc.stdout)}
    if proc.returncode != 0:
        result["output_tail"] = (proc.stdout + proc.stderr)[-3000:]
    return result, summary


def chain_states(chain, ids):
    """{id: state name} at the finalised head (None: no record)."""
    head = chain.get_chain_finalised_head()
    keys = [chain.create_storage_key("DinfraSubscriptions", "Deployments", [i]) for i in ids]
    values = [value.value for _key, value in chain.query_multi(keys, block_hash=head)]
    return {i: (state_name(v) if v is not None else None) for i, v in zip(ids, values)}


def award_to_running(chain, cloud, endpoints, workdir, samples, log):
    """`samples` times: a fresh provider, one deployment awarded to it, one reconcile run started
    as soon as the award is final; the time until Running is final on chain."""
    cloud.fresh()
    latencies, runs, problems = [], [], []
    for sample in range(samples):
        sample_dir = workdir / f"latency-{sample}"
        sample_dir.mkdir()
        reactor = Reactor(chain, sample_dir, endpoints, cloud.env)
        cid = publish(endpoints["ipfs_api"], vm_descriptor(name=f"latency-{sample}"))
        watcher = RunningWatcher(endpoints["node_url"])
        try:
            deployment_id = reactor.subscribe(cid, deposit=DEPOSIT)  # returns once the award is finalised
            awarded = time.monotonic()
            watcher.watch(deployment_id)
            run, summary = timed_run(reactor, timeout=600)
            # The run ends after the report is final, so the watcher is at most one poll late.
            deadline = time.monotonic() + 10
            while watcher.running_at is None and watcher.error is None and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            watcher.stop()
        outcome = outcomes(summary).get(deployment_id) if summary else None
        run.update(deployment=deployment_id, outcome=outcome)
        if watcher.running_at is None:
            problems.append(f"sample {sample}: deployment {deployment_id} never Running "
                            f"(outcome {outcome}, exit {run['exit_code']}{', ' + watcher.error if watcher.error else ''})")
        else:
            run["award_to_running"] = round(watcher.running_at - awarded, 2)
            latencies.append(watcher.running_at - awarded)
        runs.append(run)
        log(f"latency sample {sample}: {run.get('award_to_running')} s to Running, run {run['seconds']} s")
    return {"samples": runs, "award_to_running": spread(latencies),
            "run_seconds": spread([r["seconds"] for r in runs]), "problems": problems}


def reconcile(chain, cloud, endpoints, workdir, size, log):
    """`size` new deployments of one provider; one run that deploys them all, then one with nothing
    to do but verify them."""
    cloud.fresh()
    size_dir = workdir / f"reconcile-{size}"
    size_dir.mkdir()
    reactor = Reactor(chain, size_dir, endpoints, cloud.env)
    # The helper funds a consumer for a few deployments; these need `size` deposits and fees.
    fund(chain, reactor.consumer.ss58_address, size * DEPOSIT + 10**15)
    started = time.monotonic()
    cids = [publish(endpoints["ipfs_api"], vm_descriptor(name=f"bench-{size}-{i}"))
            for i in range(size)]
    ids = [reactor.subscribe(cid, deposit=DEPOSIT) for cid in cids]
    setup_seconds = time.monotonic() - started
    log(f"reconcile {size}: {size} deployments awarded in {setup_seconds:.1f} s")

    # Generous: the run's time is what is measured, the limit only stops a hung run.
    timeout = 300 + 30 * size
    deploy, summary = timed_run(reactor, timeout)
    problems = []
    states = chain_states(chain, ids)
    not_running = {i: s for i, s in states.items() if s != "Running"}
    if not_running:
        problems.append(f"{len(not_running)} of {size} not Running after the first run: "
                        f"{dict(collections.Counter(not_running.values()))} (e.g. ids {sorted(not_running)[:5]})")
    deployed = sum(1 for i in ids if (outcomes(summary) if summary else {}).get(i) == "deployed")
    log(f"reconcile {size}: deploy run {deploy['seconds']} s, {deployed} deployed, exit {deploy['exit_code']}")

    verify, summary = timed_run(reactor, timeout)
    unchanged = sum(1 for i in ids if (outcomes(summary) if summary else {}).get(i) == "unchanged")
    if unchanged != size:
        problems.append(f"verify run: {unchanged} of {size} unchanged (counts {verify['counts']})")
    log(f"reconcile {size}: verify run {verify['seconds']} s, {unchanged} unchanged, exit {verify['exit_code']}")
    return {"size": size, "setup_seconds": round(setup_seconds, 1), "deploy": deploy, "verify": verify,
            "deployed": deployed, "running_after": size - len(not_running), "unchanged": unchanged,
            "problems": problems}


def run_reactor_benchmarks(endpoints, workdir, samples, sizes, log, scale_sizes=()):
    """The reconcile benchmarks on one private simulator; (latency results or None, [per size],
    [per verify-at-scale size])."""
    if not samples and not sizes and not scale_sizes:
        return None, [], []
    chain = SubstrateInterface(url=endpoints["node_url"], ws_options={"timeout": 300})
    cloud = BenchCloud(workdir)
    try:
        latency = award_to_running(chain, cloud, endpoints, workdir, samples, log) if samples else None
        per_size = [reconcile(chain, cloud, endpoints, workdir, size, log) for size in sizes]
        at_scale = [verify_at_scale(chain, cloud, endpoints, workdir, size, timed_run, log) for size in scale_sizes]
    except AssertionError as exc:
        # The test helpers assert on what they set up (a failed extrinsic, a simulator error).
        raise BenchError(f"setting up a reconcile benchmark failed: {exc}") from exc
    finally:
        cloud.stop()
        chain.close()
    return latency, per_size, at_scale
