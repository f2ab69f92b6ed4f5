"""`make demo`: one deployment's life on the local dev stack, run by the real Chain Reactor.

Bob, a provider, registers with the register_provider playbook. Charlie, a consumer, publishes a
substrate-node descriptor to IPFS and subscribes. The reactor (playbook dinfra.chain.reconcile,
run through ansible-runner as AWX runs it) deploys it on the CloudStack simulator and reports it
on chain. Blocks pass until the deposit runs out, and the reactor tears it down. Each step prints
a short account; Ansible's full output goes to .dev/demo/*.log.
"""
import json
import os
import pathlib
import subprocess
import sys
import uuid

import ansible_runner
from cs import CloudStack
from substrateinterface import Keypair, SubstrateInterface

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / ".dev" / "demo"
BIN = pathlib.Path(sys.executable).parent
UNIT = 10**12
PRICE = UNIT // 100  # 0.01 DIN per block
BLOCKS = 30
PROVIDER, CONSUMER = "//Bob", "//Charlie"
NODE_DESCRIPTOR = ROOT / "descriptors" / "substrate-node" / "examples" / "valid" / "westend-rpc.json"
ZONE = "Sandbox-simulator"
SIMULATOR_TEMPLATE = "CentOS 5.6 (64-bit) no GUI (Simulator)"


def step(number, text):
    print(f"\n\033[1m{number}. {text}\033[0m", flush=True)


def say(text):
    print(f"   {text}", flush=True)


def state_text(state):
    """{'Terminating': {'reason': 'Exhausted'}} as "Terminating (reason: Exhausted)"."""
    if isinstance(state, str):
        return state
    name, detail = next(iter(state.items()))
    return f"{name} ({', '.join(f'{k}: {v}' for k, v in detail.items())})"


def din(amount):
    return f"{amount / UNIT:.4f} DIN"


def ansible_env(secret):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".dev" / "collections"),
               ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true", ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, DINFRA_SIGNER_SECRET=secret,
               DINFRA_LOCK_DIR=str(WORK / "locks"), PATH=f"{BIN}:{os.environ['PATH']}")
    return env


def playbook(name, secret, log, extra):
    """ansible-playbook, its output kept in a log; exits the demo with the log's tail on failure."""
    extra_file = WORK / f"{log}.vars.json"
    extra_file.write_text(json.dumps(extra))
    with open(WORK / f"{log}.log", "w", encoding="utf-8") as out:
        code = subprocess.run([str(BIN / "ansible-playbook"), name, "-e", f"@{extra_file}"], env=ansible_env(secret),
                              stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    if code != 0:
        sys.exit(f"{name} failed (exit {code}); see {WORK / f'{log}.log'}:\n" + (WORK / f"{log}.log").read_text()[-3000:])


def reconcile(label, log):
    """One reactor run through ansible-runner, as an AWX job runs it; its summary."""
    summary = WORK / f"{log}.summary.json"
    summary.unlink(missing_ok=True)
    (WORK / "runner").mkdir(exist_ok=True)
    result = ansible_runner.run(
        private_data_dir=str(WORK / "runner"), playbook="dinfra.chain.reconcile", inventory=str(WORK / "deployments.dinfra.yml"),
        envvars={k: v for k, v in ansible_env(PROVIDER).items() if k.startswith(("ANSIBLE_", "DINFRA_", "CLOUDSTACK_"))},
        extravars={"cloudstack_vm_chain": label, "cloudstack_vm_zone": ZONE,
                   "cloudstack_vm_service_offerings": [{"name": "Medium Instance", "cpu": 8, "memory_mb": 16384}],
                   "cloudstack_vm_templates": {"Debian 12 (64-bit)": SIMULATOR_TEMPLATE},
                   "reactor_summary_file": str(summary)},
        quiet=True, suppress_env_files=True, timeout=600,
    )
    (WORK / f"{log}.log").write_text(result.stdout.read())
    if result.rc != 0 or not summary.exists():
        sys.exit(f"the reactor run failed (exit {result.rc}); see {WORK / f'{log}.log'}")
    done = json.loads(summary.read_text())
    say("reactor: " + done["lines"][-1])
    for deployment in done["deployments"]:
        if deployment["outcome"] != "unchanged":
            say(f"  deployment {deployment['id']}: {deployment['outcome'].replace('_', ' ')}")
    return done


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    # ansible-runner finds ansible-playbook on PATH: this venv's, whatever the caller's PATH.
    os.environ["PATH"] = f"{BIN}:{os.environ['PATH']}"
    chain = SubstrateInterface(url=os.environ["DINFRA_NODE_URL"], ws_options={"timeout": 30})
    cloud = CloudStack(endpoint=os.environ["CLOUDSTACK_ENDPOINT"], key=os.environ["CLOUDSTACK_KEY"],
                       secret=os.environ["CLOUDSTACK_SECRET"], timeout=10)
    bob, charlie = Keypair.create_from_uri(PROVIDER), Keypair.create_from_uri(CONSUMER)
    free = lambda who: chain.query("System", "Account", [who.ss58_address]).value["data"]["free"]  # noqa: E731
    # The simulator keeps its state across restarts of the dev chain, whose ids start again at 0.
    label = f"demo-{uuid.uuid4().hex[:8]}"
    (WORK / "deployments.dinfra.yml").write_text("plugin: dinfra.chain.deployments\n"
                                                 "states: [awarded, running, terminating, failed, terminated]\n")

    step(1, f"Bob registers as a provider and offers substrate-node at {din(PRICE)} per block")
    playbook("dinfra.chain.register_provider", PROVIDER, "1-register-provider", {
        "dinfra_provider_name": "Bob's cloud",
        "dinfra_provider_offers": [{"type": "substrate-node", "capacity": 5, "price_per_block": PRICE}]})
    say(f"provider {bob.ss58_address}: {chain.query('DinfraProviders', 'Providers', [bob.ss58_address]).value['status']}")
    bob_before = free(bob)

    deposit = BLOCKS * PRICE
    step(2, f"Charlie publishes a Westend RPC node descriptor to IPFS and subscribes with {din(deposit)}")
    out = WORK / "subscription.json"
    playbook(str(ROOT / "scripts" / "demo" / "consumer.yml"), CONSUMER, "2-subscribe", {
        "demo_descriptor": str(NODE_DESCRIPTOR), "demo_schema": str(NODE_DESCRIPTOR.parents[2] / "schema.json"),
        "demo_type": "substrate-node", "demo_deposit": deposit, "demo_provider": bob.ss58_address, "demo_out": str(out)})
    subscription = json.loads(out.read_text())
    dep = subscription["id"]
    say(f"descriptor {subscription['cid']}")
    say(f"deployment {dep}: {state_text(chain.query('DinfraSubscriptions', 'Deployments', [dep]).value['state'])}, awarded to Bob")

    step(3, "Bob's Chain Reactor runs: it fetches and verifies the descriptor, builds the node, reports it")
    reconcile(label, "3-reconcile")
    record = chain.query("DinfraSubscriptions", "Deployments", [dep]).value
    tag = [{"key": "dinfra-deployment", "value": f"{label}:{dep}"}]
    for vm in cloud.listVirtualMachines(tags=tag, listall=True).get("virtualmachine", []):
        say(f"CloudStack VM {vm['name']}: {vm['state']}, {vm['serviceofferingname']}, "
            f"{len(cloud.listVolumes(virtualmachineid=vm['id']).get('volume', []))} volumes")
    say(f"on chain: {state_text(record['state'])}, access info {record['access_info']}")
    say(f"the deposit runs out at block {record['deadline']}")

    step(4, "Blocks pass until the deposit runs out")
    head = chain.get_block_number(chain.get_chain_head())
    chain.rpc_request("dev_newBlock", [{"count": record["deadline"] - head}])
    say(f"block {chain.get_block_number(chain.get_chain_head())}: "
        f"{state_text(chain.query('DinfraSubscriptions', 'Deployments', [dep]).value['state'])}")

    step(5, "The reactor runs again: it tears the node down and reports it terminated")
    reconcile(label, "5-reconcile")
    record = chain.query("DinfraSubscriptions", "Deployments", [dep]).value
    left = sum(len(found) for found in (cloud.listVirtualMachines(tags=tag, listall=True).get("virtualmachine", []),
                                        cloud.listNetworks(tags=tag, listall=True).get("network", []),
                                        cloud.listPublicIpAddresses(tags=tag, listall=True).get("publicipaddress", [])))
    say(f"CloudStack objects left for the deployment: {left}")
    say(f"on chain: {state_text(record['state'])}")
    say(f"Bob was paid {din(record['paid'])} for {record['paid'] // PRICE} blocks; "
        f"his free balance went from {din(bob_before)} to {din(free(bob))} (earnings minus the reports' fees)")
    print(f"\nAnsible's output of each step: {WORK}/*.log", flush=True)
    print(NEXT, flush=True)


# Where a user goes after the demo: the same reactor, pointed at their own chain and cloud.
NEXT = """
\033[1mNext: run this reactor against your own chain and cloud\033[0m
   read   docs/providers.md (install, credentials, registering) and docs/reactor.md (what a run does)
   copy   docs/examples/reactor/ (ansible.cfg, inventory, provider.yml, reactor.env, systemd and AWX files)
   set    DINFRA_NODE_URL, DINFRA_SIGNER_SECRET, DINFRA_IPFS_GATEWAY and CLOUDSTACK_* as in reactor.env, then
          ansible-playbook dinfra.chain.register_provider -e @provider.yml
          ansible-playbook -i deployments.dinfra.yml dinfra.chain.reconcile -e @provider.yml"""


if __name__ == "__main__":
    main()
