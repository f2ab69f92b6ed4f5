"""The Chain Reactor API's event stream against the dev chain, through the real service: the
provider's changes at finalised blocks as Server-Sent Events, and a client that reconnects with
Last-Event-ID gets every change it missed, once.

One service process and one provider serve the module (each change waits for its block)."""
import pytest

from api_service import ApiService, EventStream
from chain_fixtures import offering_provider, submit, subscribe
from reactor_helpers import fresh_account


@pytest.fixture(scope="module")
def world(chain):
    provider_uri, _keypair = fresh_account(chain, "ApiEvents")
    provider = offering_provider(chain, provider_uri, "API events test")
    consumer, _consumer = fresh_account(chain, "ApiEventsConsumer")
    return {"provider": provider, "consumer": consumer}


@pytest.fixture(scope="module")
def api(world, node_url, tmp_path_factory):
    service = ApiService(tmp_path_factory.mktemp("api"), node_url, world["provider"].ss58_address).start()
    yield service
    service.stop()


def change(kind, deployment_id):
    return lambda e: e["event"] == "change" and (e["data"]["kind"], e["data"]["deployment_id"]) == (kind, deployment_id)


def test_a_client_that_reconnects_with_its_last_event_id_gets_every_change_it_missed_once(api, chain, world):
    stream = EventStream(api)
    try:
        first = stream.next()
        assert (first["event"], first["data"]["reason"]) == ("resync", "start") and "id" not in first
        seen = subscribe(chain, world["consumer"], world["provider"].ss58_address)
        awarded = stream.until(change("awarded", seen))[-1]
        assert awarded["id"] == f"{awarded['data']['block']}.0" and awarded["data"]["state"] == "awarded"
        assert set(awarded["data"]) == {"kind", "deployment_id", "state", "block", "block_hash", "provider"}
    finally:
        stream.close()
    # While the client is away: a new award, and the first one deployed.
    missed = subscribe(chain, world["consumer"], world["provider"].ss58_address)
    submit(chain, world["provider"], "DinfraSubscriptions", "report_deployed", {"id": seen, "access_info": "ssh://x"})
    again = EventStream(api, last_event_id=awarded["id"])
    try:
        events = again.until(change("running", seen))
    finally:
        again.close()
    changes = [(e["data"]["kind"], e["data"]["deployment_id"]) for e in events if e["event"] == "change"]
    assert changes == [("awarded", missed), ("running", seen)], events
    blocks = [tuple(map(int, e["id"].split("."))) for e in events if e["event"] == "change"]
    assert blocks == sorted(blocks) and blocks[0] > tuple(map(int, awarded["id"].split(".")))


@pytest.mark.parametrize("last_event_id", ["yesterday", "12", "1.2.3", "99999999.0"])
def test_an_id_the_stream_never_gave_is_a_422(api, last_event_id):
    status, body, _headers = api.request("GET", "/v1/events", headers={"Last-Event-ID": last_event_id})
    assert (status, body["error"]) == (422, "invalid_request"), body


def test_the_stream_needs_a_token(api):
    status, body, _headers = api.request("GET", "/v1/events", token=None)
    assert (status, body["error"]) == (401, "unauthorized")
