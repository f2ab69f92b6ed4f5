"""The Chain Reactor API's reports against the dev chain, through the real service signing with
the provider's key: deployed, failed and terminated, each idempotent; a transition the chain
refuses is a 409 with the pallet's error name; and bad input is a clear 4xx that changes
nothing on chain.

One service process and one provider serve the whole module (each report waits for its
block, about a second on the dev chain)."""
import pytest
from substrateinterface import Keypair

from api_service import ApiService
from chain_fixtures import offering_provider, submit, subscribe
from reactor_helpers import deployment, fresh_account, state_name


@pytest.fixture(scope="module")
def world(chain):
    provider_uri, _keypair = fresh_account(chain, "ApiReporter")
    provider = offering_provider(chain, provider_uri, "API reports test")
    other_uri, _other = fresh_account(chain, "ApiReportOther")
    other = offering_provider(chain, other_uri, "Another provider")
    consumer_uri, _consumer = fresh_account(chain, "ApiReportConsumer")
    return {"provider": provider.ss58_address, "secret": provider_uri, "consumer": consumer_uri,
            "other_deployment": subscribe(chain, consumer_uri, other.ss58_address)}


@pytest.fixture(scope="module")
def api(world, node_url, tmp_path_factory):
    service = ApiService(tmp_path_factory.mktemp("api"), node_url, world["provider"], world["secret"]).start()
    yield service
    service.stop()
    log = service.log()
    assert service.token not in log and world["secret"] not in log, "a secret is in the service's log"


def new_deployment(chain, world):
    return subscribe(chain, world["consumer"], world["provider"])


def state_of(chain, deployment_id):
    return state_name(deployment(chain, deployment_id))


def test_deployed_is_idempotent_and_a_new_access_info_replaces_the_old(api, chain, world):
    dep = new_deployment(chain, world)
    status, body, _headers = api.post(f"/v1/deployments/{dep}/reports/deployed", {"access_info": "ssh://203.0.113.9"})
    assert status == 200 and body["changed"] is True and body["block_hash"].startswith("0x"), body
    assert (body["deployment"]["state"], body["deployment"]["access_info"]) == ("running", "ssh://203.0.113.9")
    assert state_of(chain, dep) == "Running"
    again = api.post(f"/v1/deployments/{dep}/reports/deployed", {"access_info": "ssh://203.0.113.9"})
    assert again[0] == 200 and again[1]["changed"] is False and again[1]["block_hash"] is None
    moved = api.post(f"/v1/deployments/{dep}/reports/deployed", {"access_info": "ssh://203.0.113.10"})
    assert moved[1]["changed"] is True and moved[1]["deployment"]["access_info"] == "ssh://203.0.113.10"


def test_failed_with_its_reason_then_nothing_more(api, chain, world):
    dep = new_deployment(chain, world)
    status, body, _headers = api.post(f"/v1/deployments/{dep}/reports/failed", {"reason": "template centos-5 is gone"})
    assert status == 200 and body["changed"] is True and body["deployment"]["state"] == "failed"
    assert body["deployment"]["state_reason"] == "template centos-5 is gone"
    assert api.post(f"/v1/deployments/{dep}/reports/failed", {"reason": "again"})[1]["changed"] is False


def test_terminated_after_a_cancel_and_a_409_with_the_pallets_error_before(api, chain, world):
    dep = new_deployment(chain, world)
    api.post(f"/v1/deployments/{dep}/reports/deployed", {"access_info": "ssh://203.0.113.11"})
    status, body, _headers = api.post(f"/v1/deployments/{dep}/reports/terminated")
    assert (status, body["error"]) == (409, "DeploymentNotTerminating") and "refused" in body["detail"], body
    assert state_of(chain, dep) == "Running"
    submit(chain, Keypair.create_from_uri(world["consumer"]), "DinfraSubscriptions", "cancel", {"id": dep})
    status, body, _headers = api.post(f"/v1/deployments/{dep}/reports/terminated")
    assert status == 200 and body["changed"] is True and body["deployment"]["state"] == "terminated", body
    assert api.post(f"/v1/deployments/{dep}/reports/terminated")[1]["changed"] is False


def test_bad_input_is_a_clear_4xx_and_changes_nothing(api, chain, world):
    dep = new_deployment(chain, world)
    url = f"/v1/deployments/{dep}/reports/deployed"
    cases = [
        (api.post(url, raw=b'{"access_info": '), 422, "invalid_request"),
        (api.post(url, {"access_info": 5}), 422, "access_info"),
        (api.post(url, {"access_info": "x", "extra": 1}), 422, "extra"),
        (api.post(url, {"access_info": "é" * 129}), 422, "258 bytes"),
        (api.post(url, {}), 422, "access_info"),
        (api.post(f"/v1/deployments/{dep}/reports/failed", {"reason": ""}), 422, "reason"),
        (api.post(url, raw=b'{"access_info": "' + b"x" * 5000 + b'"}'), 413, "too_large"),
        (api.post(url, {"access_info": "x"}, token=None), 401, "unauthorized"),
        (api.post(url, {"access_info": "x"}, token="not-a-token-of-this-service"), 401, "unauthorized"),
        (api.post(f"/v1/deployments/{world['other_deployment']}/reports/deployed", {"access_info": "x"}), 404, "not_found"),
        (api.post(f"/v1/deployments/{10**12}/reports/failed", {"reason": "x"}), 404, "not_found"),
        (api.post("/v1/deployments/seven/reports/terminated"), 422, "deployment_id"),
    ]
    for (status, body, _headers), expected_status, says in cases:
        assert status == expected_status and says in str(body), (expected_status, says, status, body)
    assert state_of(chain, dep) == "Awarded" and state_of(chain, world["other_deployment"]) == "Awarded"


def test_a_chunked_body_over_the_limit_is_refused_too(api, chain, world):
    dep = new_deployment(chain, world)

    def chunks():
        yield b'{"access_info": "'
        for _n in range(10):
            yield b"x" * 1000
        yield b'"}'

    status, body, _headers = api.request("POST", f"/v1/deployments/{dep}/reports/deployed", data=chunks(),
                                         headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert status == 413 and body["error"] == "too_large", (status, body)
    # A whole report first, then padding past the limit: no route may run on the first part.
    padded = iter([b'{"access_info": "ssh://203.0.113.12"}', b" " * 3000, b" " * 3000])
    status, body, _headers = api.request("POST", f"/v1/deployments/{dep}/reports/deployed", data=padded,
                                         headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert status == 413 and body["error"] == "too_large", (status, body)
    assert state_of(chain, dep) == "Awarded"
