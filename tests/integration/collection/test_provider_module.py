"""dinfra.chain.provider on the real dev chain: register with offers, no-op re-runs, updates,
the allow-list, purging offers, refused deregistration, and deregistration."""
from substrateinterface import Keypair

from ansible_cli import run_module
from chain_fixtures import PRICE, submit, subscribe

SIGNER = "//Ferdie"


def provider(node_url, tmp_path, *flags, **args):
    return run_module(tmp_path, "dinfra.chain.provider", args, *flags, DINFRA_NODE_URL=node_url, DINFRA_SIGNER_SECRET=SIGNER)


def on_chain(chain):
    return chain.query("DinfraProviders", "Providers", [Keypair.create_from_uri(SIGNER).ss58_address]).value


def test_provider_lifecycle(node_url, tmp_path, chain):
    address = Keypair.create_from_uri(SIGNER).ss58_address
    offers = [{"type": "cloudstack-vm", "capacity": 3, "price_per_block": PRICE}]

    checked = provider(node_url, tmp_path, "--check", name="Ferdie's cloud", status="active", offers=offers)
    assert checked["changed"] is True
    assert [c["call"] for c in checked["calls"]] == ["register_provider", "set_offer"]
    assert on_chain(chain) is None

    registered = provider(node_url, tmp_path, name="Ferdie's cloud", status="active", offers=offers)
    assert registered["changed"] is True, registered
    assert registered["provider"]["name"] == "Ferdie's cloud"
    assert chain.query("DinfraProviders", "Offers", [address, 0]).value == {"capacity": 3, "in_use": 0, "price_per_block": PRICE}

    again = provider(node_url, tmp_path, name="Ferdie's cloud", status="active", offers=offers)
    assert (again["changed"], again["calls"]) == (False, [])

    partner = Keypair.create_from_uri("//Charlie").ss58_address
    updated = provider(
        node_url, tmp_path, "--diff", status="paused", consumer_policy="allow_list_only", allowed_consumers=[partner],
        offers=[{"type": "cloudstack-vm", "capacity": 5, "price_per_block": 2 * PRICE}],
    )
    assert [c["call"] for c in updated["calls"]] == ["set_provider_status", "allow_consumer", "set_consumer_policy", "set_offer"]
    info = on_chain(chain)
    assert (info["status"], info["policy"], info["allow_list_len"]) == ("Paused", "AllowListOnly", 1)
    assert chain.query("DinfraProviders", "Offers", [address, 0]).value["capacity"] == 5
    assert updated["diff"]["before"]["status"] == "Active" and updated["diff"]["after"]["status"] == "Paused"

    # A live deployment blocks deregistration, with the pallet's reason.
    provider(node_url, tmp_path, status="active")
    deployment_id = subscribe(chain, "//Charlie", address, deposit=100 * PRICE, cid="bafkreiprovidertest")
    refused = provider(node_url, tmp_path, state="absent")
    assert refused["failed"] is True and refused["error"] == "ProviderHasLiveDeployments"
    purge_refused = provider(node_url, tmp_path, offers=[], purge_offers=True)
    assert purge_refused["failed"] is True and purge_refused["error"] == "OfferHasLiveDeployments"

    submit(chain, Keypair.create_from_uri("//Charlie"), "DinfraSubscriptions", "cancel", {"id": deployment_id})
    submit(chain, Keypair.create_from_uri(SIGNER), "DinfraSubscriptions", "report_terminated", {"id": deployment_id})
    purged = provider(node_url, tmp_path, offers=[], purge_offers=True, allowed_consumers=[])
    assert [c["call"] for c in purged["calls"]] == ["disallow_consumer", "remove_offer"]
    assert chain.query("DinfraProviders", "Offers", [address, 0]).value is None

    gone = provider(node_url, tmp_path, state="absent")
    assert gone["changed"] is True and gone["provider"] is None
    assert on_chain(chain) is None
    assert provider(node_url, tmp_path, state="absent")["changed"] is False
