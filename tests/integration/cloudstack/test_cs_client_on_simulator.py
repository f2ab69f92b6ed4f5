"""The `cs` client against the dev stack's CloudStack simulator: signatures, errors, paging,
async jobs (pending, done, failed)."""
import base64
import datetime

import pytest
import requests
from cs import CloudStack, CloudStackApiException
from simulator_helpers import ISOLATED_OFFERING, TEMPLATE, client


def ids(cs_api, zone):
    offering = cs_api.listNetworkOfferings(name=ISOLATED_OFFERING)["networkoffering"][0]["id"]
    template = cs_api.listTemplates(templatefilter="executable", name=TEMPLATE)["template"][0]["id"]
    service = cs_api.listServiceOfferings(name="Small Instance")["serviceoffering"][0]["id"]
    return offering, template, service


def test_signed_requests_are_answered_get_and_post(cloudstack_env, zone):
    for method in ("get", "post"):
        answer = client(cloudstack_env, method=method).listZones(id=zone["id"])
        assert answer["count"] == 1 and answer["zone"][0]["name"] == "Sandbox-simulator"
        assert answer["zone"][0]["networktype"] == "Advanced"


def test_a_bad_signature_is_refused_as_cloudstack_refuses_it(cloudstack_env):
    wrong = client({**cloudstack_env, "CLOUDSTACK_SECRET": cloudstack_env["CLOUDSTACK_SECRET"] + "x"})
    with pytest.raises(CloudStackApiException) as refused:
        wrong.listZones()
    assert refused.value.response.status_code == 401
    assert refused.value.response.json() == {"listzonesresponse": {
        "uuidList": [], "errorcode": 401, "cserrorcode": 9999, "errortext": "unable to verify user credentials and/or request signature"}}


def test_an_expired_request_is_refused(cloudstack_env):
    stale = client(cloudstack_env, expiration=-600)  # cs signs without expires when expiration < 0 ...
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S%z")
    with pytest.raises(CloudStackApiException) as refused:
        stale.listZones(signatureVersion="3", expires=past)  # ... so the stale expires is ours, and signed
    assert refused.value.response.status_code == 401
    fresh = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S%z")
    assert stale.listZones(signatureVersion="3", expires=fresh)["count"] == 1


def test_unsigned_and_unknown_key_requests_are_refused(cloudstack_env):
    endpoint = cloudstack_env["CLOUDSTACK_ENDPOINT"]
    unsigned = requests.get(endpoint, params={"command": "listZones", "response": "json"}, timeout=10)
    assert unsigned.status_code == 401 and unsigned.json()["listzonesresponse"]["errorcode"] == 401
    stranger = CloudStack(endpoint=endpoint, key="nobody", secret=cloudstack_env["CLOUDSTACK_SECRET"])
    with pytest.raises(CloudStackApiException) as refused:
        stranger.listZones()
    assert refused.value.response.status_code == 401


def test_errors_carry_cloudstack_codes_and_texts(cs_api):
    with pytest.raises(CloudStackApiException) as unknown:
        cs_api.listFrobnicators()
    assert unknown.value.response.status_code == 432
    assert unknown.value.response.json()["errorresponse"]["errorcode"] == 432
    with pytest.raises(CloudStackApiException) as missing:
        cs_api.listTemplates()
    assert missing.value.response.status_code == 431
    assert missing.value.error["errortext"] == "Unable to execute API command listtemplates due to missing parameter templatefilter"
    with pytest.raises(CloudStackApiException) as invalid:
        cs_api.listVirtualMachines(id="8d1a3f0c-0000-4000-8000-000000000000")
    assert invalid.value.error["errorcode"] == 431 and invalid.value.error["cserrorcode"] == 4350
    assert "Invalid parameter id value=8d1a3f0c-0000-4000-8000-000000000000" in invalid.value.error["errortext"]
    with pytest.raises(CloudStackApiException) as paging:
        cs_api.listZones(pagesize=10)
    assert paging.value.error["errortext"] == '"page" parameter is required when "pagesize" is specified'


def test_list_paging_and_count(cs_api, zone, prefix):
    offering, _template, _service = ids(cs_api, zone)
    made = [cs_api.createNetwork(name=f"{prefix}-{n}", zoneid=zone["id"], networkofferingid=offering)["network"]["id"] for n in range(7)]
    try:
        pages = [cs_api.listNetworks(keyword=prefix, page=page, pagesize=3) for page in (1, 2, 3, 4)]
        assert [p["count"] for p in pages] == [7, 7, 7, 7]
        assert [len(p.get("network", [])) for p in pages] == [3, 3, 1, 0]
        assert [n["id"] for p in pages for n in p.get("network", [])] == made
        # cs's fetch_list follows the pages until it has them all.
        assert [n["id"] for n in cs_api.listNetworks(keyword=prefix, fetch_list=True, pagesize=2)] == made
        assert cs_api.listNetworks(keyword=f"{prefix}-none") == {}
    finally:
        for network in made:
            cs_api.deleteNetwork(id=network, fetch_result=True)
    assert cs_api.listNetworks(keyword=prefix) == {}


def deploy(cs_api, zone, prefix, **extra):
    offering, template, service = ids(cs_api, zone)
    network = cs_api.createNetwork(name=f"{prefix}-net", zoneid=zone["id"], networkofferingid=offering)["network"]
    return network, cs_api.deployVirtualMachine(zoneid=zone["id"], templateid=template, serviceofferingid=service,
                                                networkids=network["id"], name=f"{prefix}-vm", **extra)


def cleanup(cs_api, vm_id, network_id):
    cs_api.destroyVirtualMachine(id=vm_id, expunge=True, fetch_result=True)
    cs_api.deleteNetwork(id=network_id, fetch_result=True)


def test_async_jobs_stay_pending_for_the_polls_asked_then_succeed(cs_api, simulator, zone, prefix):
    simulator.faults(job_pending_polls=3)
    userdata = base64.b64encode(b"#cloud-config\n" + b"#" * 6000).decode()  # over GET's limit: cs must POST it
    post = client({"CLOUDSTACK_ENDPOINT": cs_api.endpoint, "CLOUDSTACK_KEY": cs_api.key, "CLOUDSTACK_SECRET": cs_api.secret}, method="post")
    network, started = deploy(post, zone, prefix, userdata=userdata)
    assert set(started) == {"id", "jobid"}
    try:
        vm = cs_api.listVirtualMachines(id=started["id"])["virtualmachine"][0]
        assert vm["state"] == "Starting" and vm["nic"][0]["ipaddress"].startswith("10.1.1.")
        polls = [cs_api.queryAsyncJobResult(jobid=started["jobid"]) for _poll in range(3)]
        assert [p["jobstatus"] for p in polls] == [0, 0, 1]
        assert "jobresult" not in polls[0] and polls[2]["jobresultcode"] == 0
        assert polls[2]["jobinstancetype"] == "VirtualMachine" and polls[2]["jobinstanceid"] == started["id"]
        result = polls[2]["jobresult"]["virtualmachine"]
        assert result["state"] == "Running" and result["hostname"].startswith("SimulatedAgent.")
        assert cs_api.getVirtualMachineUserData(virtualmachineid=started["id"])["virtualmachineuserdata"]["userdata"] == userdata
        assert cs_api.listNetworks(id=network["id"])["network"][0]["state"] == "Implemented"
    finally:
        simulator.clear_faults()
        cleanup(cs_api, started["id"], network["id"])


def test_userdata_over_get_is_refused_as_too_long(cs_api, zone, prefix):
    offering, template, service = ids(cs_api, zone)
    with pytest.raises(CloudStackApiException) as refused:
        cs_api.deployVirtualMachine(zoneid=zone["id"], templateid=template, serviceofferingid=service, name=f"{prefix}-vm",
                                    userdata=base64.b64encode(b"#" * 6000).decode())
    assert refused.value.error["errortext"] == "User data is too long for an http GET request"
    assert cs_api.listNetworks(keyword=prefix) == {} and offering


def test_an_injected_job_failure_fails_the_job_and_leaves_the_vm_in_error(cs_api, simulator, zone, prefix):
    simulator.faults(fail_jobs=[{"command": "deployVirtualMachine", "count": 1, "errorcode": 533,
                                 "errortext": "Unable to create a deployment for VM"}])
    network, started = deploy(cs_api, zone, prefix)
    try:
        job = cs_api.queryAsyncJobResult(jobid=started["jobid"])
        assert job["jobstatus"] == 2 and job["jobresultcode"] == 533
        assert job["jobresult"] == {"errorcode": 533, "errortext": "Unable to create a deployment for VM"}
        assert cs_api.listVirtualMachines(id=started["id"])["virtualmachine"][0]["state"] == "Error"
        # The fault was for one job: the next one succeeds.
        second = cs_api.deployVirtualMachine(zoneid=zone["id"], templateid=ids(cs_api, zone)[1], serviceofferingid=ids(cs_api, zone)[2],
                                             networkids=network["id"], name=f"{prefix}-vm2", fetch_result=True)
        second_id = second["virtualmachine"]["id"]
        assert second["virtualmachine"]["state"] == "Running"
        # cs's own job polling turns a failed job into an exception; the VM stays as it was.
        simulator.faults(fail_jobs=[{"command": "stopVirtualMachine", "count": 1}])
        with pytest.raises(CloudStackApiException) as failed:
            cs_api.stopVirtualMachine(id=second_id, fetch_result=True)
        assert failed.value.error == {"errorcode": 530, "errortext": "Job failed (injected by the CloudStack simulator)"}
        assert cs_api.listVirtualMachines(id=second_id)["virtualmachine"][0]["state"] == "Running"
        cs_api.destroyVirtualMachine(id=second_id, expunge=True, fetch_result=True)
    finally:
        simulator.clear_faults()
        cleanup(cs_api, started["id"], network["id"])


def test_an_injected_api_failure_answers_at_once(cs_api, simulator):
    simulator.faults(fail_api=[{"command": "listZones", "count": 2, "errorcode": 530, "errortext": "boom"}])
    for _call in range(2):
        with pytest.raises(CloudStackApiException) as failed:
            cs_api.listZones()
        assert failed.value.response.status_code == 530 and failed.value.error["errortext"] == "boom"
    assert cs_api.listZones()["count"] == 1


def test_the_vm_lifecycle_through_the_api(cs_api, zone, prefix):
    network, started = deploy(cs_api, zone, prefix, startvm=False)
    vm_id = started["id"]
    try:
        assert cs_api.queryAsyncJobResult(jobid=started["jobid"])["jobresult"]["virtualmachine"]["state"] == "Stopped"
        assert cs_api.listNetworks(id=network["id"])["network"][0]["state"] == "Allocated"
        assert cs_api.startVirtualMachine(id=vm_id, fetch_result=True)["virtualmachine"]["state"] == "Running"
        with pytest.raises(CloudStackApiException) as running:
            cs_api.startVirtualMachine(id=vm_id, fetch_result=True)
        assert "is already running" in running.value.error["errortext"]
        with pytest.raises(CloudStackApiException) as not_stopped:
            cs_api.changeServiceForVirtualMachine(id=vm_id, serviceofferingid=ids(cs_api, zone)[2])
        assert not_stopped.value.response.status_code == 431
        stopped = cs_api.stopVirtualMachine(id=vm_id, fetch_result=True)["virtualmachine"]
        assert stopped["state"] == "Stopped" and "hostid" not in stopped
        medium = cs_api.listServiceOfferings(name="Medium Instance")["serviceoffering"][0]["id"]
        changed = cs_api.changeServiceForVirtualMachine(id=vm_id, serviceofferingid=medium)["virtualmachine"]
        assert changed["serviceofferingname"] == "Medium Instance" and changed["memory"] == 1024 and changed["cpuspeed"] == 1000
        assert cs_api.destroyVirtualMachine(id=vm_id, fetch_result=True)["virtualmachine"]["state"] == "Destroyed"
        assert cs_api.listVirtualMachines(id=vm_id)["virtualmachine"][0]["state"] == "Destroyed"
        assert cs_api.recoverVirtualMachine(id=vm_id)["virtualmachine"]["state"] == "Stopped"
        with pytest.raises(CloudStackApiException) as in_use:
            cs_api.deleteNetwork(id=network["id"], fetch_result=True)
        assert "not all user vms are expunged" in in_use.value.error["errortext"]
    finally:
        cleanup(cs_api, vm_id, network["id"])
    assert cs_api.listVirtualMachines(keyword=prefix) == {}
    with pytest.raises(CloudStackApiException) as expunged:
        cs_api.listVirtualMachines(id=vm_id)
    assert expunged.value.response.status_code == 431


def test_registered_keys_get_cloudstacks_md5_fingerprint(cs_api, prefix):
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl comment"
    pair = cs_api.registerSSHKeyPair(name=prefix, publickey=key)["keypair"]
    try:
        # ssh-keygen -l -E md5 of that key.
        assert pair["fingerprint"] == "65:96:2d:fc:e8:d5:a9:11:64:0c:0f:ea:00:6e:5b:bd"
        with pytest.raises(CloudStackApiException) as twice:
            cs_api.registerSSHKeyPair(name=prefix.upper(), publickey=key)
        assert twice.value.error["errortext"] == f"A key pair with name '{prefix.upper()}' already exists."
        with pytest.raises(CloudStackApiException) as bad:
            cs_api.registerSSHKeyPair(name=f"{prefix}-bad", publickey="ssh-rsa not-base64!")
        assert bad.value.error["errortext"] == "Public key is invalid"
    finally:
        assert cs_api.deleteSSHKeyPair(name=prefix) == {"success": True}
