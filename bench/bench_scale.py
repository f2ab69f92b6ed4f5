"""Benchmark of a verify run at a scale the dev stack cannot deploy in a bench's time: N running
deployments, with nothing to do.

Deploying 1,000 deployments through the reactor would take most of an hour of blocks and module
processes, and the simulator's seed zone has guest VLANs and addresses for about a hundred. So
one deployment is deployed for real (subscribe, a reconcile run, report_deployed), and then
copied N times:
- on chain, as Running records of the same provider, written with chopsticks' `dev_setStorage`
  (bench_inventory.SyntheticDeployments, in the shape `subscribe` and `report_deployed` leave);
- in the cloud, as copies of the real deployment's simulator objects (VM, NIC, volume, network,
  address, firewall and port-forwarding rules, tags), with new ids, and the deployment's id in
  names and tags replaced by the copy's. The simulator's state is SQLite, read on every request,
  so the copies are served by the same listing code as the original.

The verify run then reads N + 1 running deployments from the chain and surveys the cloud for
them; it is compared with a run of the same provider with no deployments, in the same bench run.
Everything written on chain is deleted afterwards."""
import json
import sqlite3
import uuid

from bench_env import BenchError, reactor_helpers
from bench_inventory import SyntheticDeployments

Reactor, outcomes, publish, vm_descriptor = (
    reactor_helpers.Reactor, reactor_helpers.outcomes, reactor_helpers.publish, reactor_helpers.vm_descriptor)


# The kinds of object a cloudstack-vm deployment makes (and their tags); nothing shared, such as
# a VLAN range or the zone, is copied.
DEPLOYMENT_KINDS = {"vm", "nic", "volume", "network", "ip", "fwrule", "pfrule", "tag"}


def _deployment_objects(db, label, deployment_id):
    """Every simulator object of one deployment: the ones tagged with it, the ones that refer to
    those (NICs, volumes, rules), and the tags themselves."""
    rows = db.execute("SELECT id, kind, seq, body FROM objects").fetchall()
    bodies = {row[0]: (row[1], json.loads(row[3])) for row in rows}
    tag_value = f"{label}:{deployment_id}"
    tagged = {body["resourceid"] for kind, body in bodies.values()
              if kind == "tag" and body.get("value") == tag_value}
    if not tagged:
        raise BenchError(f"the simulator holds nothing tagged {tag_value}")
    group = set(tagged)
    for object_id, (kind, body) in bodies.items():
        if kind not in DEPLOYMENT_KINDS or kind == "tag":
            continue
        text = json.dumps(body)
        if object_id not in group and any(ref in text for ref in tagged):
            group.add(object_id)
    tags = {object_id for object_id, (kind, body) in bodies.items()
            if kind == "tag" and body.get("resourceid") in group}
    return {object_id: bodies[object_id] for object_id in group | tags}


def copy_cloud_deployment(db_path, label, source_id, target_ids):
    """Copies deployment `source_id`'s simulator objects once per id in `target_ids`."""
    db = sqlite3.connect(db_path, timeout=30)
    try:
        with db:
            objects = _deployment_objects(db, label, source_id)
            template = json.dumps({object_id: [kind, body] for object_id, (kind, body) in objects.items()})
            seq = db.execute("SELECT MAX(seq) FROM objects").fetchone()[0] or 0
            rows = []
            for target in target_ids:
                text = template
                for object_id in objects:
                    text = text.replace(object_id, str(uuid.uuid4()))
                # Names (dinfra-<label>-<id>...) and tags (<label>:<id>) carry the deployment id.
                text = text.replace(f"dinfra-{label}-{source_id}", f"dinfra-{label}-{target}")
                text = text.replace(f"{label}:{source_id}", f"{label}:{target}")
                for object_id, (kind, body) in json.loads(text).items():
                    seq += 1
                    if "seq" in body:
                        body["seq"] = seq
                    rows.append((object_id, kind, seq, json.dumps(body, sort_keys=True)))
            db.executemany("INSERT INTO objects (id, kind, seq, body) VALUES (?, ?, ?, ?)", rows)
        return len(objects)
    finally:
        db.close()


def verify_at_scale(chain, cloud, endpoints, workdir, size, timed_run, log):
    """A run with no deployments, then one real deployment copied `size` times, then a verify run."""
    cloud.fresh()
    scale_dir = workdir / f"scale-{size}"
    scale_dir.mkdir()
    reactor = Reactor(chain, scale_dir, endpoints, cloud.env)
    timeout = 600 + size

    empty, _summary = timed_run(reactor, timeout)
    log(f"scale {size}: run with no deployments {empty['seconds']} s")

    original = reactor.subscribe(publish(endpoints["ipfs_api"], vm_descriptor(name=f"scale-{size}")))
    deploy, summary = timed_run(reactor, timeout)
    if (outcomes(summary) if summary else {}).get(original) != "deployed":
        raise BenchError(f"scale {size}: the real deployment was not deployed (exit {deploy['exit_code']})")

    synthetic = SyntheticDeployments(chain, size)
    synthetic.provider = reactor.keypair  # the reactor's own provider, whose deployments it reads
    per_copy = copy_cloud_deployment(cloud.simulator.db, reactor.label, original, synthetic.ids)
    synthetic.write()
    log(f"scale {size}: {size} copies written ({per_copy} simulator objects each)")
    try:
        verify, summary = timed_run(reactor, timeout)
    finally:
        synthetic.delete()
    found = outcomes(summary) if summary else {}
    unchanged = sum(1 for deployment_id in [original, *synthetic.ids] if found.get(deployment_id) == "unchanged")
    problems = [] if unchanged == size + 1 else [
        f"verify run: {unchanged} of {size + 1} unchanged (counts {verify['counts']}, exit {verify['exit_code']})"]
    log(f"scale {size}: verify run {verify['seconds']} s, {unchanged} of {size + 1} unchanged")
    return {"size": size, "empty": empty, "verify": verify, "unchanged": unchanged,
            "ratio_to_empty": round(verify["seconds"] / empty["seconds"], 2), "problems": problems}
