"""The DINFRA pallets on the real dev chain, driven by python substrate-interface with dev
keys: the calls a provider and a consumer make, their events, and the balances they move.

This also pins what the Python side depends on: v4 extrinsics signed by substrate-interface
1.8 against our runtime, and module errors decoded to the pallet's error name.
"""
import base64
import hashlib
import json
import pathlib

from substrateinterface import Keypair

UNIT = 10**12
PRICE = UNIT // 10
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"

# Not imported from tests/conftest.py: a module named conftest may be another directory's.
ROOT = pathlib.Path(__file__).resolve().parents[3]


def cid_v1_raw(data: bytes) -> str:
    """CIDv1, raw codec, sha2-256, base32 lower: what `ipfs add --cid-version 1` gives a
    one-block file."""
    digest = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(digest).decode().lower().rstrip("=")


def submit(chain, who: Keypair, pallet: str, call: str, params: dict):
    extrinsic = chain.create_signed_extrinsic(
        call=chain.compose_call(call_module=pallet, call_function=call, call_params=params), keypair=who
    )
    return chain.submit_extrinsic(extrinsic, wait_for_finalization=True)


def events_of(receipt, pallet: str) -> list:
    return [
        (e.value["event"]["event_id"], e.value["event"]["attributes"])
        for e in receipt.triggered_events
        if e.value["event"]["module_id"] == pallet
    ]


def account(chain, who: Keypair) -> dict:
    return chain.query("System", "Account", [who.ss58_address]).value["data"]


def advance(chain, blocks: int):
    chain.rpc_request("dev_newBlock", [{"count": blocks}])


def test_runtime_exposes_the_pallets_and_the_dev_preset(chain):
    version = chain.get_block_runtime_version(chain.get_chain_finalised_head())
    assert (version["specName"], version["specVersion"]) == ("dinfra", 1)
    chain.init_runtime()
    names = {p.name for p in chain.metadata.pallets}
    assert {"DinfraProviders", "DinfraSubscriptions", "Sudo", "Balances", "Timestamp"} <= names

    deployment_type = chain.query("DinfraProviders", "DeploymentTypes", [0]).value
    schema = (ROOT / "descriptors" / "cloudstack-vm" / "schema.json").read_bytes()
    assert deployment_type["name"] == "cloudstack-vm"
    assert deployment_type["schema_cid"] == cid_v1_raw(schema)
    assert deployment_type["owner"] == Keypair.create_from_uri("//Alice").ss58_address


def test_provider_and_consumer_lifecycle_moves_exact_balances(chain):
    provider = Keypair.create_from_uri("//Bob")
    consumer = Keypair.create_from_uri("//Charlie")
    provider_deposit = chain.get_constant("DinfraProviders", "ProviderDeposit").value

    before = account(chain, provider)
    receipt = submit(chain, provider, "DinfraProviders", "register_provider", {"name": "Bob's {{ cloud }}"})
    assert receipt.is_success, receipt.error_message
    assert ("ProviderRegistered", {"provider": provider.ss58_address, "name": "Bob's {{ cloud }}"}) in events_of(
        receipt, "DinfraProviders"
    )
    after = account(chain, provider)
    assert after["reserved"] - before["reserved"] == provider_deposit
    assert before["free"] - after["free"] == provider_deposit + receipt.total_fee_amount

    receipt = submit(
        chain, provider, "DinfraProviders", "set_offer", {"type_id": 0, "capacity": 2, "price_per_block": PRICE}
    )
    assert receipt.is_success, receipt.error_message
    offer = chain.query("DinfraProviders", "Offers", [provider.ss58_address, 0]).value
    assert offer == {"capacity": 2, "in_use": 0, "price_per_block": PRICE}

    deposit = 50 * PRICE
    consumer_before = account(chain, consumer)
    receipt = submit(
        chain,
        consumer,
        "DinfraSubscriptions",
        "subscribe",
        {
            "type_id": 0,
            "descriptor_cid": CID,
            "deposit": deposit,
            "strategy": "RoundRobin",
            "provider": provider.ss58_address,
        },
    )
    assert receipt.is_success, receipt.error_message
    (name, awarded), = [e for e in events_of(receipt, "DinfraSubscriptions") if e[0] == "DeploymentAwarded"]
    deployment_id = awarded["id"]
    assert awarded == {
        "id": deployment_id,
        "consumer": consumer.ss58_address,
        "provider": provider.ss58_address,
        "type_id": 0,
        "descriptor_cid": CID,
    }
    subscribe_fee = receipt.total_fee_amount
    assert account(chain, consumer)["reserved"] - consumer_before["reserved"] == deposit
    assert chain.query("DinfraSubscriptions", "ProviderDeployments", [provider.ss58_address, deployment_id]).value is not None
    assert chain.query("DinfraProviders", "Offers", [provider.ss58_address, 0]).value["in_use"] == 1

    receipt = submit(
        chain, provider, "DinfraSubscriptions", "report_deployed", {"id": deployment_id, "access_info": "203.0.113.7 ssh:22"}
    )
    assert receipt.is_success, receipt.error_message
    running = dict(events_of(receipt, "DinfraSubscriptions"))["DeploymentRunning"]
    deployment = chain.query("DinfraSubscriptions", "Deployments", [deployment_id]).value
    assert deployment["state"] == "Running"
    running_from = deployment["settled_until"]
    assert running["runs_out_at"] == running_from + deposit // PRICE

    advance(chain, 4)
    provider_before_pay = account(chain, provider)
    receipt = submit(chain, consumer, "DinfraSubscriptions", "cancel", {"id": deployment_id})
    assert receipt.is_success, receipt.error_message
    cancel_fee = receipt.total_fee_amount
    events = dict(events_of(receipt, "DinfraSubscriptions"))
    cancelled_at = chain.query("DinfraSubscriptions", "Deployments", [deployment_id]).value["settled_until"]
    paid = (cancelled_at - running_from) * PRICE
    assert cancelled_at - running_from >= 5  # 4 empty blocks plus the cancel's own block
    assert events["DeploymentSettled"] == {"id": deployment_id, "amount": paid, "remaining_deposit": deposit - paid}
    assert events["DeploymentTerminating"] == {"id": deployment_id, "reason": "Cancelled"}
    assert account(chain, provider)["free"] - provider_before_pay["free"] == paid

    advance(chain, 3)  # no billing while terminating
    provider_before_report = account(chain, provider)
    receipt = submit(chain, provider, "DinfraSubscriptions", "report_terminated", {"id": deployment_id})
    assert receipt.is_success, receipt.error_message
    terminated = dict(events_of(receipt, "DinfraSubscriptions"))["DeploymentTerminated"]
    assert terminated == {
        "id": deployment_id,
        "reason": "Cancelled",
        "confirmed": True,
        "refunded": deposit - paid,
    }
    assert account(chain, provider)["free"] == provider_before_report["free"] - receipt.total_fee_amount

    consumer_after = account(chain, consumer)
    assert consumer_after["reserved"] == consumer_before["reserved"]
    assert consumer_before["free"] - consumer_after["free"] == paid + subscribe_fee + cancel_fee
    deployment = chain.query("DinfraSubscriptions", "Deployments", [deployment_id]).value
    assert deployment["state"] == {"Terminated": {"reason": "Cancelled", "confirmed": True}}
    assert deployment["paid"] == paid and deployment["deposit"] == 0
    assert chain.query("DinfraProviders", "Offers", [provider.ss58_address, 0]).value["in_use"] == 0


def test_dispatch_errors_decode_to_pallet_error_names(chain):
    consumer = Keypair.create_from_uri("//Dave")
    receipt = submit(
        chain,
        consumer,
        "DinfraSubscriptions",
        "subscribe",
        {"type_id": 4242, "descriptor_cid": CID, "deposit": UNIT, "strategy": "Random", "provider": None},
    )
    assert not receipt.is_success
    assert receipt.error_message["name"] == "UnknownDeploymentType"
    assert receipt.error_message["type"] == "Module"

    receipt = submit(
        chain, consumer, "DinfraProviders", "register_deployment_type", {"name": "x" * 65, "schema_cid": CID}
    )
    assert not receipt.is_success and receipt.error_message["name"] == "NameTooLong"

    receipt = submit(
        chain, consumer, "DinfraProviders", "register_deployment_type", {"name": "ok", "schema_cid": "bafy" + "a" * 200}
    )
    assert not receipt.is_success and receipt.error_message["name"] == "CidTooLong"


def test_report_from_the_wrong_account_is_refused(chain):
    provider = Keypair.create_from_uri("//Eve")
    consumer = Keypair.create_from_uri("//Ferdie")
    assert submit(chain, provider, "DinfraProviders", "register_provider", {"name": "Eve"}).is_success
    assert submit(
        chain, provider, "DinfraProviders", "set_offer", {"type_id": 0, "capacity": 1, "price_per_block": PRICE}
    ).is_success
    receipt = submit(
        chain,
        consumer,
        "DinfraSubscriptions",
        "subscribe",
        {"type_id": 0, "descriptor_cid": CID, "deposit": 10 * PRICE, "strategy": "RoundRobin", "provider": provider.ss58_address},
    )
    deployment_id = dict(events_of(receipt, "DinfraSubscriptions"))["DeploymentAwarded"]["id"]
    receipt = submit(chain, consumer, "DinfraSubscriptions", "report_deployed", {"id": deployment_id, "access_info": "x"})
    assert not receipt.is_success and receipt.error_message["name"] == "NotTheProvider"
    receipt = submit(chain, provider, "DinfraSubscriptions", "report_terminated", {"id": deployment_id})
    assert not receipt.is_success and receipt.error_message["name"] == "DeploymentNotTerminating"
    assert json.dumps(chain.query("DinfraSubscriptions", "Deployments", [deployment_id]).value["state"]) == '"Awarded"'
