"""dinfra.chain.deployment_type and dinfra.chain.subscription on the real dev chain:
registration and lookup, subscribe / top up / cancel, idempotence and check mode."""
import pytest
from substrateinterface import Keypair

from ansible_cli import run_module
from chain_fixtures import PRICE, offering_provider

CID = "bafkreidgvpkjawlxz6sffxzwgooowe5yt7i6wsyg236mfoks77nywkptdq"
CONSUMER = "//Eve//stash"
PROVIDER = "//Ferdie//stash"


@pytest.fixture(scope="module")
def chain(chain):  # pylint: disable=redefined-outer-name  # tests/conftest.py's, with the provider set up
    offering_provider(chain, PROVIDER, "consumer tests")
    return chain


def module(node_url, tmp_path, plugin, *flags, signer=CONSUMER, **args):
    return run_module(tmp_path, f"dinfra.chain.{plugin}", args, *flags, DINFRA_NODE_URL=node_url, DINFRA_SIGNER_SECRET=signer)


def test_deployment_type_registers_once_and_finds_by_name(node_url, tmp_path, chain):
    checked = module(node_url, tmp_path, "deployment_type", "--check", name="gpu-box", schema_cid=CID)
    assert checked["changed"] is True and checked["type_id"] is None
    registered = module(node_url, tmp_path, "deployment_type", name="gpu-box", schema_cid=CID)
    assert registered["changed"] is True, registered
    assert chain.query("DinfraProviders", "DeploymentTypes", [registered["type_id"]]).value["name"] == "gpu-box"
    again = module(node_url, tmp_path, "deployment_type", name="gpu-box", schema_cid=CID)
    assert (again["changed"], again["type_id"]) == (False, registered["type_id"])
    found = module(node_url, tmp_path, "deployment_type", name="cloudstack-vm")
    assert (found["changed"], found["type_id"]) == (False, 0)


def test_deployment_type_refusals(node_url, tmp_path, chain):
    conflict = module(node_url, tmp_path, "deployment_type", name="cloudstack-vm", schema_cid=CID)
    assert conflict["failed"] is True and conflict["failure"] == "conflict"
    missing = module(node_url, tmp_path, "deployment_type", name="no-such-type")
    assert missing["failed"] is True and missing["failure"] == "not_found"
    invalid = module(node_url, tmp_path, "deployment_type", name="Bad Name", schema_cid=CID)
    assert invalid["failed"] is True and "[a-z0-9._-]" in invalid["msg"]


def test_subscribe_top_up_and_cancel(node_url, tmp_path, chain):
    args = dict(type="cloudstack-vm", descriptor_cid=CID, deposit=100 * PRICE, provider=Keypair.create_from_uri(PROVIDER).ss58_address)
    checked = module(node_url, tmp_path, "subscription", "--check", **args)
    assert checked["changed"] is True and checked["id"] is None

    first = module(node_url, tmp_path, "subscription", **args)
    assert first["changed"] is True, first
    deployment_id = first["id"]
    assert first["deployment"]["state"] == "awarded"
    assert first["deployment"]["deposit_remaining"] == 100 * PRICE

    again = module(node_url, tmp_path, "subscription", **args)
    assert (again["changed"], again["id"]) == (False, deployment_id), "the same live subscription, not a second one"

    topped = module(node_url, tmp_path, "subscription", id=deployment_id, min_deposit_remaining=150 * PRICE)
    assert topped["changed"] is True
    assert chain.query("DinfraSubscriptions", "Deployments", [deployment_id]).value["deposit"] == 150 * PRICE
    assert module(node_url, tmp_path, "subscription", id=deployment_id, min_deposit_remaining=150 * PRICE)["changed"] is False

    cancelled = module(node_url, tmp_path, "subscription", "--diff", id=deployment_id, state="absent")
    assert cancelled["changed"] is True
    assert cancelled["deployment"]["state"] == "terminating"
    assert cancelled["diff"]["before"]["state"] == "awarded"
    assert module(node_url, tmp_path, "subscription", id=deployment_id, state="absent")["changed"] is False


def test_subscription_refusals_name_the_reason(node_url, tmp_path, chain):
    unknown = module(node_url, tmp_path, "subscription", type="no-such-type", descriptor_cid=CID, deposit=PRICE)
    assert unknown["failed"] is True and unknown["failure"] == "not_found"
    too_small = module(node_url, tmp_path, "subscription", type_id=0, descriptor_cid="bafkreitoosmall", deposit=1,
                       provider=Keypair.create_from_uri(PROVIDER).ss58_address)
    assert too_small["failed"] is True and too_small["failure"] == "dispatch_error"
    assert too_small["error"] == "DepositBelowPrice"
    mine = module(node_url, tmp_path, "subscription", type_id=0, descriptor_cid="bafkreiothersub", deposit=10 * PRICE,
                  provider=Keypair.create_from_uri(PROVIDER).ss58_address)
    assert mine["changed"] is True, mine
    someone_elses = module(node_url, tmp_path, "subscription", "--check", signer="//Alice//stash", id=mine["id"], state="absent")
    assert someone_elses["failed"] is True and someone_elses["failure"] == "not_the_consumer"
