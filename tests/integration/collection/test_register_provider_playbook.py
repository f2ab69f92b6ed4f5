"""playbooks/register_provider.yml, run as dinfra.chain.register_provider by the real
ansible-playbook against the dev chain: registers a fresh account with two offers, a second run
changes nothing, the secret never appears in the output, and missing variables are a clear error."""
import json
import uuid

import pytest
from substrateinterface import Keypair

from ansible_cli import ansible_env, run
from chain_fixtures import PRICE, submit


@pytest.fixture
def fresh_signer(chain):
    """An account no other test uses, funded by //Alice for its fees."""
    secret = f"//RegisterProvider{uuid.uuid4().hex[:8]}"
    address = Keypair.create_from_uri(secret).ss58_address
    submit(chain, Keypair.create_from_uri("//Alice"), "Balances", "transfer_keep_alive", {"dest": address, "value": 10**15})
    return secret, address


def register(tmp_path, node_url, secret, variables):
    extra = tmp_path / f"{uuid.uuid4().hex[:8]}.json"
    extra.write_text(json.dumps(variables))
    env = ansible_env(DINFRA_NODE_URL=node_url, DINFRA_SIGNER_SECRET=secret)
    return run(["ansible-playbook", "dinfra.chain.register_provider", "-e", f"@{extra}"], env)


def test_registers_the_provider_and_its_offers_once(tmp_path, node_url, chain, fresh_signer):
    secret, address = fresh_signer
    offers = [{"type": "cloudstack-vm", "capacity": 4, "price_per_block": PRICE},
              {"type": "substrate-node", "capacity": 2, "price_per_block": 3 * PRICE}]
    variables = {"dinfra_provider_name": "Register test cloud", "dinfra_provider_offers": offers}

    first = register(tmp_path, node_url, secret, variables)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "changed=1" in first.stdout and "register_provider" in first.stdout
    info = chain.query("DinfraProviders", "Providers", [address]).value
    assert info["status"] == "Active" and info["policy"] == "AcceptAll"
    assert chain.query("DinfraProviders", "Offers", [address, 0]).value == {"capacity": 4, "in_use": 0, "price_per_block": PRICE}
    assert chain.query("DinfraProviders", "Offers", [address, 1]).value == {"capacity": 2, "in_use": 0, "price_per_block": 3 * PRICE}

    second = register(tmp_path, node_url, secret, variables)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed=0" in second.stdout and "0 call(s)" in second.stdout
    for output in (first, second):
        assert secret not in output.stdout + output.stderr


def test_missing_variables_are_a_clear_error(tmp_path, node_url, fresh_signer):
    secret, _address = fresh_signer
    result = register(tmp_path, node_url, secret, {"dinfra_provider_offers": []})
    assert result.returncode != 0
    assert "Set dinfra_provider_name (shown to consumers)" in result.stdout
