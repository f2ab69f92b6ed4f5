"""Chain state shared by the collection's integration tests, made with substrate-interface
directly (not with the modules under test)."""
from substrateinterface import Keypair

PRICE = 10**10
JINJA_NAME = "{{ lookup('pipe', 'id') }} cloud"


def submit(chain, who, pallet, call, params):
    extrinsic = chain.create_signed_extrinsic(
        call=chain.compose_call(call_module=pallet, call_function=call, call_params=params), keypair=who
    )
    receipt = chain.submit_extrinsic(extrinsic, wait_for_finalization=True)
    assert receipt.is_success, receipt.error_message
    return receipt


def awarded_id(receipt):
    for e in receipt.triggered_events:
        if e.value["event"]["event_id"] == "DeploymentAwarded":
            return e.value["event"]["attributes"]["id"]
    raise AssertionError("no DeploymentAwarded event")


DESCRIPTOR_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def offering_provider(chain, uri, name):
    """The provider at ``uri``, registered if it is not, offering type 0 with room to spare."""
    provider = Keypair.create_from_uri(uri)
    if chain.query("DinfraProviders", "Providers", [provider.ss58_address]).value is None:
        submit(chain, provider, "DinfraProviders", "register_provider", {"name": name})
    submit(chain, provider, "DinfraProviders", "set_offer", {"type_id": 0, "capacity": 100, "price_per_block": PRICE})
    return provider


def subscribe(chain, consumer_uri, provider_address, deposit=1000 * PRICE, cid=DESCRIPTOR_CID):
    """A new deployment of type 0 from ``consumer_uri`` on the named provider; its id."""
    receipt = submit(
        chain,
        Keypair.create_from_uri(consumer_uri),
        "DinfraSubscriptions",
        "subscribe",
        {"type_id": 0, "descriptor_cid": cid, "deposit": deposit, "strategy": "RoundRobin", "provider": provider_address},
    )
    return awarded_id(receipt)
