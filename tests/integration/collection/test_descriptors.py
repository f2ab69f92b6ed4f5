"""Descriptors on the real local Kubo, through ansible-playbook: dinfra.chain.descriptor
publishes, dinfra.chain.descriptor_info and the dinfra.chain.descriptor lookup fetch, verify
and validate. Lying and stalling gateways are local HTTP servers in the test."""
import http.server
import json
import threading
import time
import urllib.request

import pytest

from ansible_cli import ROOT, ansible_env, run, run_module
from ansible_collections.dinfra.chain.plugins.module_utils.cid import raw_cid

DESCRIPTORS = ROOT / "descriptors"
VM_EXAMPLE = DESCRIPTORS / "cloudstack-vm" / "examples" / "valid" / "web-server.json"
NODE_EXAMPLE = DESCRIPTORS / "substrate-node" / "examples" / "valid" / "westend-rpc.json"


def kubo(api, command, data=None, **params):
    """Kubo's RPC, straight (not through the code under test)."""
    query = "&".join(f"{k.replace('_', '-')}={v}" for k, v in params.items())
    body, headers = b"", {}
    if data is not None:
        body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n" + data + b"\r\n--b--\r\n"
        headers["Content-Type"] = "multipart/form-data; boundary=b"
    request = urllib.request.Request(f"{api}/api/v0/{command}?{query}", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read().decode().splitlines()[-1])
    except urllib.error.HTTPError as exc:
        return {"error": exc.read().decode()}


def pinned(api, cid):
    return "error" not in kubo(api, "pin/ls", arg=cid, type="recursive")


def module(tmp_path, name, **args):
    return run_module(tmp_path, f"dinfra.chain.{name}", args)


@pytest.fixture(scope="module")
def published_schemas(ipfs_api):
    """The reference types' schemas on our Kubo, as a provider publishes them."""
    return {t: kubo(ipfs_api, "add", (DESCRIPTORS / t / "schema.json").read_bytes(), cid_version=1,
                    raw_leaves="true")["Hash"] for t in ("cloudstack-vm", "substrate-node")}


def test_publish_is_idempotent_and_check_mode_writes_nothing(tmp_path, ipfs_api):
    doc = json.loads(VM_EXAMPLE.read_text())
    doc["name"] = f"t{time.time_ns()}"  # content no earlier run has pinned
    path = tmp_path / "vm.json"
    path.write_text(json.dumps(doc))

    checked = run_module(tmp_path, "dinfra.chain.descriptor", {"src": str(path)}, "--check")
    assert checked["changed"] is True and not pinned(ipfs_api, checked["cid"])

    first = module(tmp_path, "descriptor", src=str(path))
    assert first["changed"] is True and first["pinned"] is True
    # The CID is the raw CIDv1 of the exact bytes, which anyone can recompute.
    expected = kubo(ipfs_api, "add", path.read_bytes(), cid_version=1, raw_leaves="true", only_hash="true")["Hash"]
    assert first["cid"] == expected and first["size"] == path.stat().st_size
    assert pinned(ipfs_api, first["cid"])

    again = module(tmp_path, "descriptor", src=str(path))
    assert (again["changed"], again["cid"]) == (False, first["cid"])

    gone = module(tmp_path, "descriptor", src=str(path), state="absent")
    assert gone["changed"] is True and not pinned(ipfs_api, first["cid"])


def test_publish_refuses_a_document_its_schema_rejects(tmp_path, ipfs_api):
    bad = DESCRIPTORS / "cloudstack-vm" / "examples" / "invalid" / "port-out-of-range.json"
    result = module(tmp_path, "descriptor", src=str(bad),
                    validate_with=str(DESCRIPTORS / "cloudstack-vm" / "schema.json"))
    assert result["failed"] and result["failure"] == "invalid"
    assert result["errors"] == [{"path": "$.ports[0].port", "message": "70000 is greater than the maximum of 65535"}]
    cid = kubo(ipfs_api, "add", bad.read_bytes(), cid_version=1, raw_leaves="true", only_hash="true")["Hash"]
    assert not pinned(ipfs_api, cid)


def test_publish_then_fetch_verify_and_validate_by_type_name(tmp_path, node_url, ipfs_gateway, published_schemas):
    published = module(tmp_path, "descriptor", src=str(NODE_EXAMPLE))
    info = module(tmp_path, "descriptor_info", cid=published["cid"], deployment_type="substrate-node",
                  node_url=node_url, gateway_url=ipfs_gateway, schema_cache=str(tmp_path / "cache"))
    assert info["valid"] is True and info["errors"] == []
    assert info["document"] == json.loads(NODE_EXAMPLE.read_text())
    assert info["schema_cid"] == published_schemas["substrate-node"]
    assert info["deployment_type"]["type_id"] == 1
    # The schema was verified and cached by CID.
    assert (tmp_path / "cache" / f"{published_schemas['substrate-node']}.json").read_bytes() == \
        (DESCRIPTORS / "substrate-node" / "schema.json").read_bytes()


def test_schema_errors_come_back_as_paths_and_messages(tmp_path, node_url, ipfs_gateway, ipfs_api, published_schemas):
    bad = DESCRIPTORS / "substrate-node" / "examples" / "invalid" / "unknown-role.json"
    cid = kubo(ipfs_api, "add", bad.read_bytes(), cid_version=1, raw_leaves="true")["Hash"]
    args = dict(cid=cid, deployment_type="substrate-node", node_url=node_url, gateway_url=ipfs_gateway)
    failed = module(tmp_path, "descriptor_info", **args)
    assert failed["failed"] and failed["failure"] == "invalid"
    assert "$.node.role" in failed["msg"]
    reported = module(tmp_path, "descriptor_info", fail_on_invalid=False, **args)
    assert reported["valid"] is False and not reported.get("failed")
    assert reported["errors"] == [{"path": "$.node.role",
                                   "message": "'miner' is not one of ['rpc', 'collator', 'validator', 'archive']"}]


def test_unknown_type_is_a_clear_failure(tmp_path, node_url, ipfs_gateway):
    published = module(tmp_path, "descriptor", src=str(VM_EXAMPLE))
    result = module(tmp_path, "descriptor_info", cid=published["cid"], deployment_type="no-such-type",
                    node_url=node_url, gateway_url=ipfs_gateway)
    assert result["failed"] and result["failure"] == "not_found" and "no-such-type" in result["msg"]


def test_multi_block_and_cidv0_files_verify(tmp_path, ipfs_api, ipfs_gateway):
    big = json.dumps({"type": "blob", "data": "x" * (700 * 1024)}).encode()
    multi = kubo(ipfs_api, "add", big, cid_version=1, raw_leaves="true")["Hash"]
    v0 = kubo(ipfs_api, "add", big)["Hash"]  # Kubo's defaults: CIDv0, dag-pb leaves
    assert multi.startswith("bafy") and v0.startswith("Qm")
    for cid in (multi, v0):
        info = module(tmp_path, "descriptor_info", cid=cid, gateway_url=ipfs_gateway, max_size=2 * 1024 * 1024)
        assert info["size"] == len(big) and info["document"]["data"] == "x" * (700 * 1024), info.get("msg")
    too_big = module(tmp_path, "descriptor_info", cid=multi, gateway_url=ipfs_gateway, max_size=512 * 1024)
    assert too_big["failed"] and too_big["failure"] == "refused" and "limit of 524288" in too_big["msg"]
    assert "document" not in too_big


def test_a_directory_is_not_a_descriptor(tmp_path, ipfs_gateway):
    empty_dir = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"  # Kubo always has it
    result = module(tmp_path, "descriptor_info", cid=empty_dir, gateway_url=ipfs_gateway)
    assert result["failed"] and result["failure"] == "refused" and "a directory, not a file" in result["msg"]


@pytest.mark.parametrize("content, message", [
    (b'{"type": "cloudstack-vm",', "not valid JSON"),
    (b"[" * 40 + b"]" * 40, "nested 40 levels deep"),
    (b'{"a": 1, "a": 2}', "appears twice"),
])
def test_bad_json_is_refused_clearly(tmp_path, ipfs_api, ipfs_gateway, content, message):
    cid = kubo(ipfs_api, "add", content, cid_version=1, raw_leaves="true")["Hash"]
    result = module(tmp_path, "descriptor_info", cid=cid, gateway_url=ipfs_gateway)
    assert result["failed"] and result["failure"] == "invalid" and message in result["msg"]


class _Gateway(http.server.BaseHTTPRequestHandler):
    """A gateway under the test's control: it lies, or it stalls."""

    behaviour = "lie"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.behaviour == "stall":
            time.sleep(5)
        body = b'{"type": "cloudstack-vm", "evil": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Quiet: the tests read results, not access logs."""


@pytest.fixture
def local_gateway():
    servers = []

    def start(behaviour):
        handler = type("Handler", (_Gateway,), {"behaviour": behaviour})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()


def test_a_lying_gateway_is_caught_and_nothing_is_returned(tmp_path, local_gateway):
    cid = module(tmp_path, "descriptor", src=str(VM_EXAMPLE))["cid"]
    result = module(tmp_path, "descriptor_info", cid=cid, gateway_url=local_gateway("lie"))
    assert result["failed"] and result["failure"] == "unavailable"
    assert "do not match" in result["msg"] and "document" not in result
    # The lookup refuses it the same way.
    lookup = lookup_playbook(tmp_path, cid, DINFRA_IPFS_GATEWAY=local_gateway("lie"))
    assert lookup.returncode != 0 and "do not match" in lookup.stdout


def test_a_cid_that_does_not_resolve_in_time_is_a_bounded_wait(tmp_path, local_gateway, ipfs_gateway):
    cid = str(raw_cid(f"never published {time.time_ns()}".encode()))
    stalled = module(tmp_path, "descriptor_info", cid=cid, gateway_url=local_gateway("stall"), ipfs_timeout=2)
    assert stalled["failed"] and stalled["failure"] == "unavailable" and "within 2s" in stalled["msg"]
    # Our offline Kubo does not have it: a clear "unavailable", never "invalid".
    missing = module(tmp_path, "descriptor_info", cid=cid, gateway_url=ipfs_gateway, ipfs_timeout=10)
    assert missing["failed"] and missing["failure"] == "unavailable"


def test_kubo_down_is_unavailable(tmp_path):
    result = module(tmp_path, "descriptor", src=str(VM_EXAMPLE), api_url="http://127.0.0.1:1")
    assert result["failed"] and result["failure"] == "unavailable"


LOOKUP_PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Read the descriptor
      ansible.builtin.set_fact:
        descriptor: "{{{{ lookup('dinfra.chain.descriptor', '{cid}') }}}}"
    - name: Use its untrusted text
      ansible.builtin.copy:
        content: "{{{{ descriptor.user_data }}}}"
        dest: "{out}/from-lookup.txt"
        mode: "0600"
    - name: Read it with the module too
      dinfra.chain.descriptor_info:
        cid: "{cid}"
      register: info
    - name: Use the module's untrusted text
      ansible.builtin.copy:
        content: "{{{{ info.document.user_data }}}}"
        dest: "{out}/from-module.txt"
        mode: "0600"
"""


def lookup_playbook(tmp_path, cid, **env):
    playbook = tmp_path / "lookup.yml"
    playbook.write_text(LOOKUP_PLAY.format(cid=cid, out=tmp_path))
    return run(["ansible-playbook", "-i", "localhost,", str(playbook)], ansible_env(**env))


def test_jinja_in_a_descriptor_is_never_evaluated(tmp_path, ipfs_gateway):
    marker = tmp_path / "pwned"
    doc = json.loads(VM_EXAMPLE.read_text())
    doc["user_data"] = f"#cloud-config\n# {{{{ lookup('pipe', 'touch {marker}') }}}}\n"
    path = tmp_path / "jinja.json"
    path.write_text(json.dumps(doc))
    cid = module(tmp_path, "descriptor", src=str(path))["cid"]

    result = lookup_playbook(tmp_path, cid, DINFRA_IPFS_GATEWAY=ipfs_gateway)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "from-lookup.txt").read_text() == doc["user_data"]
    assert (tmp_path / "from-module.txt").read_text() == doc["user_data"]
    assert not marker.exists()
