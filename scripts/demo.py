"""`make demo`: one deployment's life on the local dev chain, told step by step.

Until the Chain Reactor lands, this script sends the provider's reports itself; the reactor
(an Ansible playbook) replaces exactly those steps.
"""
import os
import sys

from substrateinterface import Keypair, SubstrateInterface

UNIT = 10**12
PRICE = UNIT // 100
DEMO_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def step(text: str) -> None:
    print(f"\n\033[1m{text}\033[0m", flush=True)


def submit(chain, who, pallet, call, params):
    extrinsic = chain.create_signed_extrinsic(
        call=chain.compose_call(call_module=pallet, call_function=call, call_params=params), keypair=who
    )
    receipt = chain.submit_extrinsic(extrinsic, wait_for_finalization=True)
    if not receipt.is_success:
        sys.exit(f"{pallet}.{call} failed: {receipt.error_message}")
    return receipt


def event(receipt, name):
    for e in receipt.triggered_events:
        if e.value["event"]["event_id"] == name:
            return e.value["event"]["attributes"]
    raise LookupError(name)


def main() -> None:
    chain = SubstrateInterface(url=os.environ["DINFRA_NODE_URL"], ws_options={"timeout": 30})
    provider, consumer = Keypair.create_from_uri("//Bob"), Keypair.create_from_uri("//Charlie")
    free = lambda who: chain.query("System", "Account", [who.ss58_address]).value["data"]["free"] / UNIT

    step(f"1. Bob registers as a provider and offers 'cloudstack-vm' (type 0) at {PRICE / UNIT} DIN per block")
    submit(chain, provider, "DinfraProviders", "register_provider", {"name": "Bob's cloud"})
    submit(chain, provider, "DinfraProviders", "set_offer", {"type_id": 0, "capacity": 5, "price_per_block": PRICE})
    bob_start = free(provider)

    deposit = 20 * PRICE
    step(f"2. Charlie subscribes with descriptor {DEMO_CID} and a deposit of {deposit / UNIT} DIN")
    awarded = event(
        submit(
            chain,
            consumer,
            "DinfraSubscriptions",
            "subscribe",
            {"type_id": 0, "descriptor_cid": DEMO_CID, "deposit": deposit, "strategy": "CapacityBased", "provider": None},
        ),
        "DeploymentAwarded",
    )
    dep_id = awarded["id"]
    print(f"   DeploymentAwarded: id {dep_id} -> provider {awarded['provider']}")

    step("3. The provider deploys it and reports access info (the reactor's job)")
    running = event(
        submit(chain, provider, "DinfraSubscriptions", "report_deployed", {"id": dep_id, "access_info": "203.0.113.7 ssh:22"}),
        "DeploymentRunning",
    )
    print(f"   Running; the deposit runs out at block {running['runs_out_at']}")

    step("4. Blocks pass until the deposit runs out")
    head = chain.get_block_number(chain.get_chain_head())
    chain.rpc_request("dev_newBlock", [{"count": running["runs_out_at"] - head}])
    state = chain.query("DinfraSubscriptions", "Deployments", [dep_id]).value
    print(f"   state at block {chain.get_block_number(chain.get_chain_head())}: {state['state']}")

    step("5. The provider tears it down and reports it terminated")
    done = event(submit(chain, provider, "DinfraSubscriptions", "report_terminated", {"id": dep_id}), "DeploymentTerminated")
    state = chain.query("DinfraSubscriptions", "Deployments", [dep_id]).value
    print(f"   {state['state']}; paid to Bob {state['paid'] / UNIT} DIN, refunded to Charlie {done['refunded'] / UNIT} DIN")
    print(f"   Bob's free balance: {bob_start:.4f} -> {free(provider):.4f} DIN (earnings minus the report's fee)")


if __name__ == "__main__":
    main()
