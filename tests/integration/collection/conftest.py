"""Fixtures shared by the collection's integration tests."""
import json

import pytest
from substrateinterface import Keypair, SubstrateInterface

from ansible_cli import run
from chain_fixtures import JINJA_NAME, offering_provider, submit, subscribe


@pytest.fixture
def inventory_list():
    def list_inventory(path, env):
        result = run(["ansible-inventory", "-i", str(path), "--list"], env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    return list_inventory


@pytest.fixture(scope="module")
def provider_with_deployments(node_url, tmp_path_factory):
    """A provider with one awarded and one running deployment whose access info is Jinja
    that would create a marker file if it were ever evaluated."""
    marker = tmp_path_factory.mktemp("marker") / "pwned"
    access_info = f"{{{{ lookup('pipe', 'touch {marker}') }}}} 203.0.113.9 ssh:22"
    chain = SubstrateInterface(url=node_url, ws_options={"timeout": 30})
    provider = offering_provider(chain, "//Alice//stash", JINJA_NAME)
    consumer = Keypair.create_from_uri("//Bob//stash")
    ids = [subscribe(chain, "//Bob//stash", provider.ss58_address) for _n in range(2)]
    submit(chain, provider, "DinfraSubscriptions", "report_deployed", {"id": ids[1], "access_info": access_info})
    chain.close()
    return {
        "provider": provider.ss58_address,
        "consumer": consumer.ss58_address,
        "awarded": ids[0],
        "running": ids[1],
        "access_info": access_info,
        "marker": marker,
    }
