"""The Chain Reactor API's reads against the dev chain, through the real service: health, the
provider, its deployments with filters and paging, one deployment, and the errors (a missing or
wrong token, bad parameters, another provider's deployment, a chain that cannot be read).

One service process and one provider serve the whole module (about 10 s of set-up)."""
import json

import pytest

from api_service import ApiService
from chain_fixtures import PRICE, offering_provider, submit, subscribe
from reactor_helpers import fresh_account

ACCESS_INFO = "{{ lookup('pipe', 'id') }} ssh://203.0.113.9"


@pytest.fixture(scope="module")
def world(chain):
    """A provider with three deployments (awarded, running, awarded) and another provider with one."""
    provider_uri, _provider = fresh_account(chain, "ApiProvider")
    provider = offering_provider(chain, provider_uri, "API test {{ provider }}")
    other_uri, _other = fresh_account(chain, "ApiOther")
    other = offering_provider(chain, other_uri, "Another provider")
    consumer_uri, _consumer = fresh_account(chain, "ApiConsumer")
    ids = [subscribe(chain, consumer_uri, provider.ss58_address) for _n in range(3)]
    submit(chain, provider, "DinfraSubscriptions", "report_deployed", {"id": ids[1], "access_info": ACCESS_INFO})
    others = subscribe(chain, consumer_uri, other.ss58_address)
    return {"provider": provider.ss58_address, "ids": ids, "running": ids[1], "other": others}


@pytest.fixture(scope="module")
def api(world, node_url, tmp_path_factory):
    service = ApiService(tmp_path_factory.mktemp("api"), node_url, world["provider"]).start()
    yield service
    service.stop()
    log = service.log()
    assert service.token not in log, "the token is in the service's log"
    # Structured: one JSON object a line, the access lines with what was asked and answered.
    entries = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert {"method": "GET", "path": "/v1/provider", "status": 200} in [
        {k: e.get(k) for k in ("method", "path", "status")} for e in entries], entries[-5:]


def test_health_needs_no_token_and_tells_the_finalised_head(api):
    assert api.get("/v1/health/live", token=None)[:2] == (200, {"status": "ok"})
    status, body, _headers = api.get("/v1/health/ready", token=None)
    assert status == 200 and body["ready"] is True
    assert body["finalised"]["block"] > 0 and body["finalised"]["block_hash"].startswith("0x")
    assert isinstance(body["head_age_seconds"], float)


@pytest.mark.parametrize("token", [None, "wrong-token-of-some-length"])
def test_every_other_route_needs_one_of_the_services_tokens(api, world, token):
    for path in ("/v1/provider", "/v1/deployments", f"/v1/deployments/{world['running']}"):
        status, body, headers = api.get(path, token=token)
        assert (status, body["error"]) == (401, "unauthorized"), path
        assert headers.get("www-authenticate") == "Bearer"


def test_the_provider_with_its_offers_and_its_name_as_text(api, world):
    status, body, _headers = api.get("/v1/provider")
    assert status == 200, body
    assert body["address"] == world["provider"] and body["name"] == "API test {{ provider }}"
    assert body["offers"] == [{"type_id": 0, "capacity": 100, "in_use": 3, "price_per_block": str(PRICE)}]
    assert body["live_deployments"] == 3 and body["read_at"]["block"] > 0


def test_the_deployments_oldest_first_with_chain_text_verbatim(api, world):
    status, body, _headers = api.get("/v1/deployments")
    assert status == 200, body
    assert [d["id"] for d in body["deployments"]] == world["ids"] and body["next_cursor"] is None
    running = next(d for d in body["deployments"] if d["id"] == world["running"])
    assert (running["state"], running["access_info"], running["type_name"]) == ("running", ACCESS_INFO, "cloudstack-vm")
    assert running["price_per_block"] == str(PRICE) and isinstance(running["runs_out_at"], int)


def test_filters_by_state_and_type(api, world):
    assert [d["id"] for d in api.get("/v1/deployments?state=running")[1]["deployments"]] == [world["running"]]
    awarded = api.get("/v1/deployments?state=awarded&state=failed")[1]["deployments"]
    assert [d["id"] for d in awarded] == [world["ids"][0], world["ids"][2]]
    assert api.get("/v1/deployments?type=substrate-node")[1]["deployments"] == []
    assert len(api.get("/v1/deployments?type=cloudstack-vm")[1]["deployments"]) == 3


def test_pages_walk_every_deployment_once(api, world):
    seen, cursor = [], None
    for _page in range(5):
        status, body, _headers = api.get("/v1/deployments?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        seen += [d["id"] for d in body["deployments"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == world["ids"]
    filtered = api.get("/v1/deployments?limit=1&state=awarded")[1]
    assert [d["id"] for d in filtered["deployments"]] == [world["ids"][0]] and filtered["next_cursor"]
    rest = api.get(f"/v1/deployments?limit=1&state=awarded&cursor={filtered['next_cursor']}")[1]
    assert [d["id"] for d in rest["deployments"]] == [world["ids"][2]] and rest["next_cursor"] is None


@pytest.mark.parametrize("query, named", [("state=gone", "unknown state"), ("limit=0", "limit"), ("limit=1001", "limit"),
                                          ("cursor=bm90LW91cnM", "cursor"), ("cursor=" + "x" * 65, "cursor")])
def test_bad_parameters_are_a_422_that_names_them(api, query, named):
    status, body, _headers = api.get(f"/v1/deployments?{query}")
    assert status == 422 and named in body["detail"], body


def test_one_deployment_and_never_another_providers(api, world):
    status, body, _headers = api.get(f"/v1/deployments/{world['running']}")
    assert status == 200 and body["id"] == world["running"] and body["read_at"]["block"] > 0
    for unknown in (world["other"], 10**12):
        status, body, _headers = api.get(f"/v1/deployments/{unknown}")
        assert (status, body["error"]) == (404, "not_found")
    assert api.get("/v1/deployments/seven")[0] == 422 and api.get("/v1/deployments/-1")[0] == 422


def test_a_chain_that_cannot_be_read_is_a_503_never_an_empty_list(world, tmp_path):
    dead = ApiService(tmp_path, "ws://127.0.0.1:9", world["provider"]).start()
    try:
        status, body, _headers = dead.get("/v1/deployments")
        assert (status, body["error"]) == (503, "chain_unavailable") and "deployments" not in body
        assert dead.get("/v1/provider")[0] == 503
        status, body, _headers = dead.get("/v1/health/ready", token=None)
        assert status == 503 and body["ready"] is False and body["detail"]
    finally:
        dead.stop()


def test_a_service_without_a_signer_serves_reads_and_refuses_reports(api, world):
    status, body, _headers = api.post(f"/v1/deployments/{world['ids'][0]}/reports/deployed", {"access_info": "x"})
    assert (status, body["error"]) == (503, "no_signer")
    assert api.get(f"/v1/deployments/{world['ids'][0]}")[1]["state"] == "awarded"
