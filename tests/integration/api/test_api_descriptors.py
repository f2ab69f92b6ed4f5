"""The Chain Reactor API's descriptor endpoint against the dev chain and Kubo, through the real
service: a descriptor is served only when its bytes are its CID's and it is valid against its
type's schema; otherwise the error says whose fault it is (the consumer's: 422, report it failed;
the gateway's or an outage: 502 or 503, try again).

One service process and one provider serve the module; the gateway cases start one more."""
import pytest

from api_service import ApiService
from chain_fixtures import offering_provider, subscribe
from reactor_helpers import LyingGateway, fresh_account, publish, vm_descriptor


@pytest.fixture(scope="module")
def world(chain, ipfs_api):
    provider_uri, _keypair = fresh_account(chain, "ApiDescriptors")
    provider = offering_provider(chain, provider_uri, "API descriptors test")
    other_uri, _other = fresh_account(chain, "ApiDescriptorsOther")
    other = offering_provider(chain, other_uri, "Another provider")
    consumer, _consumer = fresh_account(chain, "ApiDescriptorsConsumer")
    documents = {"valid": vm_descriptor(name="served"), "invalid": vm_descriptor(ports=[{"port": 70000}])}
    cids = {name: publish(ipfs_api, document) for name, document in documents.items()}
    cids["not_json"] = publish(ipfs_api, b"{'type': 'cloudstack-vm'}")
    ids = {name: subscribe(chain, consumer, provider.ss58_address, cid=cid) for name, cid in cids.items()}
    ids["other"] = subscribe(chain, consumer, other.ss58_address, cid=cids["valid"])
    return {"provider": provider.ss58_address, "ids": ids, "cids": cids, "valid": documents["valid"]}


@pytest.fixture(scope="module")
def api(world, node_url, ipfs_gateway, tmp_path_factory):
    service = ApiService(tmp_path_factory.mktemp("api"), node_url, world["provider"], ipfs_gateway=ipfs_gateway).start()
    yield service
    service.stop()


def test_a_verified_valid_descriptor_is_served_with_its_schema(api, world):
    status, body, _headers = api.get(f"/v1/deployments/{world['ids']['valid']}/descriptor")
    assert status == 200, body
    assert body["descriptor"] == world["valid"] and body["cid"] == world["cids"]["valid"]
    assert body["type_name"] == "cloudstack-vm" and body["schema_cid"].startswith("bafk") and body["size"] > 0


def test_a_descriptor_its_schema_refuses_is_a_422_that_says_where(api, world):
    status, body, _headers = api.get(f"/v1/deployments/{world['ids']['invalid']}/descriptor")
    assert (status, body["error"]) == (422, "descriptor_invalid"), body
    assert body["errors"][0]["path"] == "$.ports[0].port" and "70000" in body["detail"]
    assert "descriptor" not in body


def test_a_descriptor_that_is_not_strict_json_is_a_422(api, world):
    status, body, _headers = api.get(f"/v1/deployments/{world['ids']['not_json']}/descriptor")
    assert (status, body["error"]) == (422, "descriptor_invalid") and "JSON" in body["detail"], body


def test_another_providers_descriptor_is_not_found(api, world):
    assert api.get(f"/v1/deployments/{world['ids']['other']}/descriptor")[0] == 404
    assert api.get("/v1/deployments/1000000000000/descriptor")[0] == 404


def test_a_gateway_that_lies_or_is_down_is_never_the_consumers_fault(world, node_url, tmp_path):
    liar = LyingGateway()
    try:
        (tmp_path / "liar").mkdir()
        lied_to = ApiService(tmp_path / "liar", node_url, world["provider"], ipfs_gateway=liar.url).start()
        status, body, _headers = lied_to.get(f"/v1/deployments/{world['ids']['valid']}/descriptor")
        assert (status, body["error"]) == (502, "gateway_mismatch") and "descriptor" not in body, body
        lied_to.stop()
    finally:
        liar.close()
    (tmp_path / "down").mkdir()
    down = ApiService(tmp_path / "down", node_url, world["provider"], ipfs_gateway="http://127.0.0.1:9").start()
    try:
        status, body, _headers = down.get(f"/v1/deployments/{world['ids']['valid']}/descriptor")
        assert (status, body["error"]) == (503, "ipfs_unavailable"), body
    finally:
        down.stop()
