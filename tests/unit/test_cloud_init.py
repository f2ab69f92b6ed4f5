"""cloud-init user data and exposed ports of a descriptor (pure): exact ports and node
arguments for the reference examples, the provider's cloud-config, the consumer's part carried
unparsed in a MIME multipart, shell quoting, determinism, and the access info's size limit."""
import base64
import copy
import email
import hashlib
import json
import pathlib
import shlex
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.dinfra.chain.plugins.module_utils import cloud_init
from ansible_collections.dinfra.chain.plugins.module_utils.cloud_init import (
    CONSUMER_MERGE_TYPE,
    access_info,
    exposed_ports,
    node_args,
    release_tag,
    user_data,
)

DESCRIPTORS = pathlib.Path(__file__).resolve().parents[2] / "descriptors"
KEYS = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjcNBfVBY7EtFA+DBLqGgqJviAP6YkiQj1DNAFPprDu alice",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINF8LXgj6/Jg/ROM3i1+dxFAFF2Wi19QBhJfJBT6+tpp bob",
]
IMAGE = "docker.io/parity/polkadot-parachain:1.20.2@sha256:" + "0" * 63 + "1"
SPEC_CID = "bafkreievglwpuoepk2ndiwbjxuowgel7g5l5vdqalm2oxd63gfaj5iqqai"

# Every valid example, by type and file name: the ports it exposes, exactly.
EXPECTED_PORTS = {
    "cloudstack-vm/small-by-offering.json": [],
    "cloudstack-vm/web-server.json": [
        {"port": 22, "protocol": "tcp"},
        {"port": 80, "protocol": "tcp"},
        {"port": 443, "protocol": "tcp"},
    ],
    "substrate-node/parachain-collator-image.json": [{"port": 22, "protocol": "tcp"}, {"port": 30333, "protocol": "tcp"}],
    "substrate-node/paseo-archive.json": [
        {"port": 22, "protocol": "tcp"},
        {"port": 30333, "protocol": "tcp"},
        {"port": 9944, "protocol": "tcp"},
        {"port": 9615, "protocol": "tcp"},
    ],
    "substrate-node/westend-rpc.json": [{"port": 22, "protocol": "tcp"}, {"port": 30333, "protocol": "tcp"}, {"port": 9944, "protocol": "tcp"}],
}


def load(name):
    return json.loads((DESCRIPTORS / name.split("/")[0] / "examples" / "valid" / name.split("/")[1]).read_text())


# The types whose deployments are machines; toy-file, the Chain Reactor API's example type, is a file.
MACHINE_TYPES = ("cloudstack-vm", "substrate-node")


def valid_examples():
    return sorted(f"{path.parents[2].name}/{path.name}" for type_name in MACHINE_TYPES
                  for path in (DESCRIPTORS / type_name).glob("examples/valid/*.json"))


def node_descriptor(node, name="test-node", **more):
    descriptor = {
        "type": "substrate-node",
        "version": 1,
        "name": name,
        "size": {"offering": "Medium Instance"},
        "template": "Debian 12 (64-bit)",
        "ssh": {"authorized_keys": ["5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"]},
        "node": node,
    }
    descriptor.update(more)
    return descriptor


def vm_descriptor(**more):
    descriptor = {
        "type": "cloudstack-vm",
        "version": 1,
        "name": "vm-1",
        "size": {"offering": "Small Instance"},
        "template": "Debian 12 (64-bit)",
        "ssh": {"authorized_keys": ["5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"]},
    }
    descriptor.update(more)
    return descriptor


def provider_config(text):
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


def split_multipart(text):
    """(boundary, [(headers, body)]) of a multipart document, split by hand on its boundary."""
    head, _sep, rest = text.partition("\n\n")
    assert head.splitlines()[0].startswith('Content-Type: multipart/mixed; boundary="')
    assert "MIME-Version: 1.0" in head.splitlines()
    boundary = head.splitlines()[0].split('boundary="')[1].rstrip('"')
    chunks = rest.split(f"--{boundary}")
    assert chunks[0] == "" and chunks[-1] == "--\n"
    parts = []
    for chunk in chunks[1:-1]:
        assert chunk.startswith("\n") and chunk.endswith("\n")
        headers, _sep, body = chunk[1:-1].partition("\n\n")
        parts.append((headers.splitlines(), body))
    return boundary, parts


def files_of(config):
    return {entry["path"]: entry for entry in config["write_files"]}


# --- ports -----------------------------------------------------------------------------


def test_every_valid_example_has_its_ports_listed_here():
    assert valid_examples() == sorted(EXPECTED_PORTS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PORTS))
def test_exposed_ports_of_the_valid_examples(name):
    assert exposed_ports(load(name)) == EXPECTED_PORTS[name]


def test_cloudstack_ports_are_normalised_and_deduplicated_in_order():
    descriptor = vm_descriptor(ports=[
        {"port": 443}, {"port": 53, "protocol": "udp"}, {"port": 443, "protocol": "tcp"}, {"port": 53}, {"port": 53, "protocol": "udp"},
    ])
    assert exposed_ports(descriptor) == [
        {"port": 443, "protocol": "tcp"}, {"port": 53, "protocol": "udp"}, {"port": 53, "protocol": "tcp"},
    ]


def test_substrate_ports_default_p2p_and_deduplicate():
    node = {"chain": {"name": "westend"}, "role": "rpc", "software": {"binary": "polkadot", "version": "1.20.2"},
            "base_path_gb": 10, "ports": {"p2p": 9944, "rpc": 9944, "prometheus": 9615}}
    ssh = {"port": 22, "protocol": "tcp"}
    assert exposed_ports(node_descriptor(node)) == [ssh, {"port": 9944, "protocol": "tcp"}, {"port": 9615, "protocol": "tcp"}]
    del node["ports"]
    assert exposed_ports(node_descriptor(node)) == [ssh, {"port": 30333, "protocol": "tcp"}]


@pytest.mark.parametrize("function", [exposed_ports, lambda d: node_args(d, {}), lambda d: user_data(d, KEYS, {})])
def test_an_unknown_type_is_refused(function):
    with pytest.raises(ValueError, match="unknown deployment type 'kubernetes-pod'"):
        function(dict(vm_descriptor(), type="kubernetes-pod"))


def test_bad_ports_are_refused():
    with pytest.raises(ValueError, match="tcp or udp"):
        exposed_ports(vm_descriptor(ports=[{"port": 80, "protocol": "sctp"}]))
    with pytest.raises(ValueError, match="1 to 65535"):
        exposed_ports(vm_descriptor(ports=[{"port": 0}]))
    with pytest.raises(ValueError, match="1 to 65535"):
        exposed_ports(vm_descriptor(ports=[{"port": True}]))


# --- node arguments --------------------------------------------------------------------


def test_node_args_of_westend_rpc():
    assert node_args(load("substrate-node/westend-rpc.json"), {}) == [
        "--name", "westend-rpc-1",
        "--base-path", "/var/lib/dinfra-node/data",
        "--chain", "westend",
        "--port", "30333",
        "--rpc-port", "9944", "--rpc-external", "--rpc-cors", "all",
        "--telemetry-url", "wss://telemetry.polkadot.io/submit/ 0",
    ]


def test_node_args_of_paseo_archive():
    assert node_args(load("substrate-node/paseo-archive.json")) == [
        "--name", "paseo-archive",
        "--base-path", "/var/lib/dinfra-node/data",
        "--chain", "paseo",
        "--port", "30333",
        "--state-pruning", "archive", "--blocks-pruning", "archive",
        "--rpc-port", "9944", "--rpc-external", "--rpc-cors", "all",
        "--prometheus-port", "9615", "--prometheus-external",
        "--no-telemetry",
    ]


def test_node_args_of_the_collator_image_example_leave_out_a_repeated_flag():
    # The example repeats --collator in extra_args; the node refuses a flag given twice.
    assert node_args(load("substrate-node/parachain-collator-image.json"), {}) == [
        "--name", "my-para-collator",
        "--base-path", "/data",
        "--chain", "/spec/chain-spec.json",
        "--port", "30333",
        "--collator",
        "--no-telemetry",
        "--pruning=1000",
    ]


def test_node_args_of_a_validator_binary_with_spec_and_telemetry():
    descriptor = node_descriptor({
        "chain": {"spec_cid": SPEC_CID},
        "role": "validator",
        "software": {"binary": "polkadot", "version": "stable2509-2"},
        "base_path_gb": 500,
        "ports": {"p2p": 30334, "prometheus": 9616},
        "telemetry": {"url": "wss://telemetry.example/submit/"},
        "extra_args": ["--in-peers=50", "--validator", "--sync=warp"],
    }, name="val-1")
    assert node_args(descriptor, {}) == [
        "--name", "val-1",
        "--base-path", "/var/lib/dinfra-node/data",
        "--chain", "/var/lib/dinfra-node/chain-spec.json",
        "--port", "30334",
        "--validator",
        "--prometheus-port", "9616", "--prometheus-external",
        "--telemetry-url", "wss://telemetry.example/submit/ 0",
        "--in-peers=50", "--sync=warp",
    ]


def test_node_args_of_an_archive_image_by_chain_name():
    descriptor = node_descriptor({
        "chain": {"name": "kusama"},
        "role": "archive",
        "software": {"image": IMAGE},
        "base_path_gb": 4000,
        "ports": {"rpc": 9944},
        "telemetry": {"url": "ws://127.0.0.1:8001/submit", "verbosity": 9},
    }, name="ksm-archive")
    assert node_args(descriptor, {}) == [
        "--name", "ksm-archive",
        "--base-path", "/data",
        "--chain", "kusama",
        "--port", "30333",
        "--state-pruning", "archive", "--blocks-pruning", "archive",
        "--rpc-port", "9944", "--rpc-external", "--rpc-cors", "all",
        "--telemetry-url", "ws://127.0.0.1:8001/submit 9",
    ]


def test_node_args_of_a_collator_binary():
    descriptor = node_descriptor({
        "chain": {"name": "asset-hub-westend"},
        "role": "collator",
        "software": {"binary": "polkadot-omni-node", "version": "polkadot-stable2506"},
        "base_path_gb": 100,
    }, name="ahw-collator")
    assert node_args(descriptor, {}) == [
        "--name", "ahw-collator", "--base-path", "/var/lib/dinfra-node/data", "--chain", "asset-hub-westend",
        "--port", "30333", "--collator", "--no-telemetry",
    ]


@pytest.mark.parametrize("bad", ["--foo=a\nb", "--foo=a\rb", "--foo=a\0b", "\n"])
def test_a_line_break_or_nul_in_an_extra_arg_is_refused(bad):
    descriptor = load("substrate-node/westend-rpc.json")
    descriptor["node"]["extra_args"] = ["--ok", bad]
    with pytest.raises(ValueError, match="node argument 16 contains"):
        node_args(descriptor, {})
    with pytest.raises(ValueError, match="one per line"):
        user_data(descriptor, KEYS, {})


def test_a_line_break_in_the_telemetry_url_is_refused():
    descriptor = load("substrate-node/westend-rpc.json")
    descriptor["node"]["telemetry"]["url"] = "wss://a/\n--unsafe-rpc-external"
    with pytest.raises(ValueError, match="contains '\\\\n'"):
        node_args(descriptor, {})


def test_a_non_string_extra_arg_is_refused():
    descriptor = load("substrate-node/westend-rpc.json")
    descriptor["node"]["extra_args"] = [5]
    with pytest.raises(ValueError, match="extra_args\\[0\\] is a string"):
        node_args(descriptor, {})


def test_node_args_are_for_substrate_nodes_only():
    with pytest.raises(ValueError, match="only for substrate-node"):
        node_args(load("cloudstack-vm/web-server.json"), {})


@pytest.mark.parametrize("version, tag", [
    ("stable2509-2", "polkadot-stable2509-2"),
    ("stable2412", "polkadot-stable2412"),
    ("polkadot-stable2509-2", "polkadot-stable2509-2"),
    ("1.20.2", "polkadot-v1.20.2"),
    ("v1.20.2", "polkadot-v1.20.2"),
])
def test_release_tags(version, tag):
    assert release_tag(version) == tag


# --- the provider's cloud-config -------------------------------------------------------


def test_cloudstack_vm_user_data_without_consumer_part():
    text = user_data(load("cloudstack-vm/small-by-offering.json"), KEYS, {})
    assert provider_config(text) == {
        "hostname": "web-1",
        "ssh_pwauth": False,
        "disable_root": True,
        "users": [{
            "name": "dinfra",
            "shell": "/bin/bash",
            "sudo": "ALL=(ALL) NOPASSWD:ALL",
            "lock_passwd": True,
            "ssh_authorized_keys": KEYS,
        }],
    }


def test_provider_extra_keys_are_merged_and_collisions_refused():
    extra = {"package_update": True, "timezone": "UTC", "ntp": {"enabled": True, "servers": ["ntp.example"]}}
    config = provider_config(user_data(vm_descriptor(), KEYS, {"extra": extra}))
    assert config["timezone"] == "UTC" and config["ntp"] == extra["ntp"] and config["package_update"] is True
    with pytest.raises(ValueError, match="settings.extra sets 'users'"):
        user_data(vm_descriptor(), KEYS, {"extra": {"timezone": "UTC", "users": []}})
    with pytest.raises(ValueError, match="settings.extra sets 'runcmd'"):
        user_data(load("substrate-node/westend-rpc.json"), KEYS, {"extra": {"runcmd": ["true"]}})
    # runcmd is the provider's own only for a substrate node.
    assert provider_config(user_data(vm_descriptor(), KEYS, {"extra": {"runcmd": ["true"]}}))["runcmd"] == ["true"]


def test_extra_settings_are_not_shared_with_the_caller():
    extra = {"bootcmd": ["echo hi"]}
    text = user_data(vm_descriptor(), KEYS, {"extra": extra})
    assert "&" not in text and "*" not in text  # no YAML anchors or aliases
    assert extra == {"bootcmd": ["echo hi"]}


def test_substrate_binary_user_data():
    descriptor = load("substrate-node/westend-rpc.json")
    config = provider_config(user_data(descriptor, KEYS[:1], {"data_device": "/dev/sdb"}))
    assert config["hostname"] == "westend-rpc-1"
    assert config["users"][0]["name"] == "dinfra"
    assert config["users"][0]["ssh_authorized_keys"] == KEYS[:1]
    assert config["fs_setup"] == [
        {"label": "dinfra-node", "filesystem": "ext4", "device": "/dev/sdb", "partition": "none", "overwrite": False},
    ]
    assert config["mounts"] == [["/dev/sdb", "/var/lib/dinfra-node", "ext4", "defaults,nofail", "0", "2"]]
    assert list(config["disk_setup"]) == ["/dev/sdb"]

    files = files_of(config)
    assert sorted(files) == [
        "/etc/dinfra/substrate-node.args",
        "/etc/systemd/system/dinfra-substrate-node.service",
        "/usr/local/sbin/dinfra-substrate-node",
    ]
    args = files["/etc/dinfra/substrate-node.args"]
    assert args["permissions"] == "0644"
    assert args["content"] == "\n".join(node_args(descriptor, {})) + "\n"
    launcher = files["/usr/local/sbin/dinfra-substrate-node"]
    assert launcher["permissions"] == "0755"
    assert launcher["content"].startswith("#!/bin/bash\n")
    assert "mapfile -t args < /etc/dinfra/substrate-node.args\n" in launcher["content"]
    assert launcher["content"].endswith('\nexec /usr/local/bin/polkadot "${args[@]}"\n')
    unit = files["/etc/systemd/system/dinfra-substrate-node.service"]["content"]
    for line in ("Restart=always", "ExecStart=/usr/local/sbin/dinfra-substrate-node", "WantedBy=multi-user.target"):
        assert line in unit.splitlines()

    runcmd = config["runcmd"]
    assert runcmd[-2:] == ["systemctl daemon-reload", "systemctl enable --now dinfra-substrate-node"]
    release = "https://github.com/paritytech/polkadot-sdk/releases/download/polkadot-stable2509-2/"
    downloads = runcmd[:-2]
    assert len(downloads) == 3  # polkadot and its two PVF workers
    for command, name in zip(downloads, ["polkadot", "polkadot-execute-worker", "polkadot-prepare-worker"]):
        words = shlex.split(command)
        assert release + name in words and release + name + ".sha256" in words
        assert f"/usr/local/bin/{name}.download" in words
        assert command.endswith(f"mv -f /usr/local/bin/{name}.download /usr/local/bin/{name} && rm -f /usr/local/bin/{name}.download.sha256")
    assert not any("ipfs" in command for command in runcmd)


def test_a_bare_stable_version_is_downloaded_from_its_polkadot_tag():
    descriptor = load("substrate-node/westend-rpc.json")
    descriptor["node"]["software"] = {"binary": "polkadot-parachain", "version": "stable2509-2"}
    runcmd = provider_config(user_data(descriptor, KEYS, {}))["runcmd"]
    assert len(runcmd) == 3
    assert "https://github.com/paritytech/polkadot-sdk/releases/download/polkadot-stable2509-2/polkadot-parachain" in shlex.split(runcmd[0])


def test_substrate_image_user_data_with_chain_spec():
    descriptor = load("substrate-node/parachain-collator-image.json")
    config = provider_config(user_data(descriptor, KEYS, {}))
    assert config["users"][0]["name"] == "ops"
    assert config["users"][0]["ssh_authorized_keys"] == KEYS
    assert config["runcmd"] == [
        f"podman pull {IMAGE}",
        f"curl -fsS --retry 5 --max-time 300 -o /var/lib/dinfra-node/chain-spec.json http://127.0.0.1:8080/ipfs/{SPEC_CID}",
        "systemctl daemon-reload",
        "systemctl enable --now dinfra-substrate-node",
    ]
    assert "podman" in config["packages"]
    launcher = files_of(config)["/usr/local/sbin/dinfra-substrate-node"]["content"]
    assert launcher.splitlines()[-1] == (
        "exec podman run --rm --replace --name dinfra-substrate-node --network host -v /var/lib/dinfra-node:/data:U "
        f'-v /var/lib/dinfra-node/chain-spec.json:/spec/chain-spec.json:ro {IMAGE} "${{args[@]}}"'
    )


def test_an_image_by_chain_name_mounts_no_spec():
    descriptor = load("substrate-node/parachain-collator-image.json")
    descriptor["node"]["chain"] = {"name": "westend"}
    config = provider_config(user_data(descriptor, KEYS, {}))
    assert "/spec/" not in files_of(config)["/usr/local/sbin/dinfra-substrate-node"]["content"]
    assert config["runcmd"] == [f"podman pull {IMAGE}", "systemctl daemon-reload", "systemctl enable --now dinfra-substrate-node"]


def test_hostile_settings_are_shell_quoted():
    descriptor = load("substrate-node/parachain-collator-image.json")
    gateway = "http://gw.example/x;touch /tmp/pwned;$(id)`id`"
    runcmd = provider_config(user_data(descriptor, KEYS, {"ipfs_gateway": gateway + "/"}))["runcmd"]
    url = f"{gateway}/ipfs/{SPEC_CID}"
    assert runcmd[1].endswith(" " + shlex.quote(url))
    assert shlex.split(runcmd[1])[-1] == url
    assert shlex.split(runcmd[1])[:-1] == ["curl", "-fsS", "--retry", "5", "--max-time", "300", "-o", "/var/lib/dinfra-node/chain-spec.json"]

    descriptor = load("substrate-node/westend-rpc.json")
    release = "https://dl.example/'$(reboot)'/{version}/{binary}; reboot"
    command = provider_config(user_data(descriptor, KEYS, {"release_url": release}))["runcmd"][0]
    words = shlex.split(command)
    assert "https://dl.example/'$(reboot)'/polkadot-stable2509-2/polkadot; reboot" in words
    assert "reboot" not in words


def test_the_verified_download_installs_only_a_matching_file(tmp_path):
    # The tools the VM runs it with; scripts/setup-system.sh installs them, so none may be missing.
    assert all(shutil.which(tool) for tool in ("bash", "curl", "sha256sum", "awk")), "needs bash, curl, sha256sum and awk"
    source = tmp_path / "release"
    source.mkdir()
    (source / "node").write_bytes(b"#!/bin/sh\necho node\n")
    digest = hashlib.sha256((source / "node").read_bytes()).hexdigest()
    (source / "node.sha256").write_text(f"{digest}  node\n")
    (source / "bad").write_bytes(b"tampered")
    (source / "bad.sha256").write_text(f"{digest}  bad\n")
    (source / "empty").write_bytes(b"")
    (source / "empty.sha256").write_text("")
    target = tmp_path / "bin"
    target.mkdir()

    def run(name):
        # pylint: disable-next=protected-access
        command = cloud_init._verified_download(f"file://{source}/{name}", str(target / name))
        return subprocess.run(["sh", "-c", command], check=False, capture_output=True).returncode

    assert run("node") == 0
    assert (target / "node").read_bytes() == (source / "node").read_bytes()
    assert (target / "node").stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in target.iterdir()) == ["node"]
    assert run("bad") != 0 and not (target / "bad").exists()
    assert run("empty") != 0 and not (target / "empty").exists()
    assert run("missing") != 0 and not (target / "missing").exists()


def test_the_launcher_passes_each_line_as_one_argument(tmp_path):
    assert shutil.which("bash"), "needs bash"
    descriptor = load("substrate-node/westend-rpc.json")
    config = provider_config(user_data(descriptor, KEYS, {}))
    files = files_of(config)
    args_file = tmp_path / "args"
    args_file.write_text(files["/etc/dinfra/substrate-node.args"]["content"])
    launcher = files["/usr/local/sbin/dinfra-substrate-node"]["content"]
    launcher = launcher.replace("/etc/dinfra/substrate-node.args", str(args_file))
    launcher = launcher.replace("exec /usr/local/bin/polkadot", "exec printf '<%s>\\n'")
    output = subprocess.run(["bash", "-c", launcher], check=True, capture_output=True, text=True).stdout
    assert output.splitlines() == [f"<{arg}>" for arg in node_args(descriptor, {})]


def test_the_yaml_is_plain_and_deterministic():
    descriptor = load("substrate-node/paseo-archive.json")
    extra_a = {"timezone": "UTC", "ntp": {"servers": ["a"], "enabled": True}}
    extra_b = {"ntp": {"enabled": True, "servers": ["a"]}, "timezone": "UTC"}
    first = user_data(descriptor, KEYS, {"extra": extra_a})
    assert first == user_data(copy.deepcopy(descriptor), list(KEYS), {"extra": extra_b})
    assert first.startswith("#cloud-config\n")
    assert first.isascii()
    assert yaml.safe_load(first) == cloud_init.cloud_config(descriptor, KEYS, {"extra": extra_a})
    # The scripts are readable literal blocks.
    assert "- content: |\n    #!/bin/bash\n" in first


def test_bad_keys_are_refused():
    with pytest.raises(ValueError, match="authorized_keys"):
        user_data(vm_descriptor(), "ssh-ed25519 AAAA", {})
    with pytest.raises(ValueError, match="one line"):
        user_data(vm_descriptor(), ["ssh-ed25519 AAAA\nssh-rsa BBBB"], {})


# --- the consumer's part ---------------------------------------------------------------


def test_multipart_with_the_web_server_example():
    descriptor = load("cloudstack-vm/web-server.json")
    text = user_data(descriptor, KEYS, {})
    boundary, parts = split_multipart(text)
    assert boundary.startswith("dinfra-") and len(boundary) == len("dinfra-") + 32
    assert len(parts) == 2
    (provider_headers, provider_body), (consumer_headers, consumer_body) = parts
    assert 'Content-Type: text/cloud-config; charset="utf-8"' in provider_headers
    assert not any(header.startswith("Merge-Type") for header in provider_headers)
    config = provider_config(provider_body)
    assert config["hostname"] == "shop-frontend"
    assert config["users"][0]["name"] == "shop"
    assert config["users"][0]["ssh_authorized_keys"] == KEYS
    assert provider_body == user_data(dict(descriptor, user_data=None), KEYS, {})
    assert 'Content-Type: text/cloud-config; charset="utf-8"' in consumer_headers
    assert f"Merge-Type: {CONSUMER_MERGE_TYPE}" in consumer_headers
    assert CONSUMER_MERGE_TYPE == "list(append)+dict(no_replace,recurse_list)+str()"
    assert consumer_body == descriptor["user_data"]
    assert boundary not in provider_body and boundary not in consumer_body
    assert text == user_data(copy.deepcopy(descriptor), list(KEYS), {})


def test_python_email_reads_both_parts_back_exactly():
    """cloud-init reads user data with the email package: each part decodes to what was put in."""
    descriptor = load("cloudstack-vm/web-server.json")
    text = user_data(descriptor, KEYS, {})
    message = email.message_from_string(text)
    assert message.is_multipart()
    parts = message.get_payload()
    assert [part.get_content_type() for part in parts] == ["text/cloud-config", "text/cloud-config"]
    assert parts[1]["Merge-Type"] == CONSUMER_MERGE_TYPE and parts[0]["Merge-Type"] is None
    assert parts[0].get_payload(decode=True).decode("utf-8") == user_data(dict(descriptor, user_data=None), KEYS, {})
    assert parts[1].get_payload(decode=True).decode("utf-8") == descriptor["user_data"]


ALIAS_BOMB = "#cloud-config\n" + "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8)
)


@pytest.mark.parametrize("consumer", [
    ALIAS_BOMB,
    "#cloud-config\nruncmd: [unclosed\n  : : - {\n\t\x01",
    "#cloud-config\n!!python/object/apply:os.system ['reboot']\n",
    "#cloud-config\nno trailing newline",
    "#cloud-config\n\n\n--looks-like-a-boundary\n--dinfra-\n\n",
])
def test_the_consumer_part_is_carried_unparsed(monkeypatch, consumer):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the consumer's YAML must not be parsed")

    for name in ("load", "safe_load", "full_load", "unsafe_load", "load_all", "safe_load_all", "compose", "parse", "scan"):
        monkeypatch.setattr(yaml, name, refuse)
    descriptor = vm_descriptor(user_data=consumer)
    text = user_data(descriptor, KEYS, {})
    monkeypatch.undo()
    boundary, parts = split_multipart(text)
    assert parts[1][1] == consumer
    assert provider_config(parts[0][1])["users"][0]["ssh_authorized_keys"] == KEYS
    assert email.message_from_string(text).get_payload()[1].get_payload(decode=True).decode("utf-8") == consumer
    assert boundary not in consumer


def test_a_non_ascii_consumer_part_is_base64_encoded():
    consumer = "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    content: Grüße, 世界 🚀\n"
    text = user_data(vm_descriptor(user_data=consumer), KEYS, {})
    assert text.isascii()
    _boundary, parts = split_multipart(text)
    assert "Content-Transfer-Encoding: base64" in parts[1][0]
    assert "Content-Transfer-Encoding: 7bit" in parts[0][0]
    assert base64.b64decode(parts[1][1]).decode("utf-8") == consumer
    assert email.message_from_string(text).get_payload()[1].get_payload(decode=True).decode("utf-8") == consumer


def test_the_boundary_depends_on_both_parts():
    first = split_multipart(user_data(vm_descriptor(user_data="#cloud-config\na: 1\n"), KEYS, {}))[0]
    assert first != split_multipart(user_data(vm_descriptor(user_data="#cloud-config\na: 2\n"), KEYS, {}))[0]
    assert first != split_multipart(user_data(vm_descriptor(user_data="#cloud-config\na: 1\n"), KEYS[:1], {}))[0]


def test_a_consumer_part_that_is_not_cloud_config_is_refused():
    with pytest.raises(ValueError, match="#cloud-config"):
        user_data(vm_descriptor(user_data="#!/bin/sh\nreboot\n"), KEYS, {})


# --- access info -----------------------------------------------------------------------


def test_access_info_is_compact_and_sorted():
    ports = [{"port": 443, "protocol": "tcp"}, {"port": 22, "protocol": "tcp"}, {"port": 80, "protocol": "tcp"},
             {"port": 22, "protocol": "tcp"}, {"port": 51820, "protocol": "udp"}, {"port": 53, "protocol": "udp"}]
    assert access_info("203.0.113.7", "shop", ports) == '{"ip":"203.0.113.7","user":"shop","tcp":[22,80,443],"udp":[53,51820]}'
    assert access_info("203.0.113.7", "dinfra", [{"port": 53, "protocol": "udp"}]) == '{"ip":"203.0.113.7","user":"dinfra","udp":[53]}'
    assert access_info("2001:db8::1", "dinfra", []) == '{"ip":"2001:db8::1","user":"dinfra"}'


def test_access_info_of_an_example():
    ports = exposed_ports(load("substrate-node/paseo-archive.json"))
    assert access_info("198.51.100.2", "dinfra", ports) == '{"ip":"198.51.100.2","user":"dinfra","tcp":[22,9615,9944,30333]}'


def test_access_info_over_256_bytes_is_refused():
    user = "u" * 32
    ports = [{"port": 10000 + i, "protocol": "tcp"} for i in range(32)]
    ip = "2001:0db8:85a3:0000:0000:8a2e:0370:7334"
    base = len(json.dumps({"ip": ip, "user": user, "tcp": [p["port"] for p in ports]}, separators=(",", ":")))
    assert base > 256
    with pytest.raises(ValueError, match=f"the access info is {base} bytes, more than the 256"):
        access_info(ip, user, ports)


def test_access_info_at_exactly_256_bytes_is_accepted():
    ports = [{"port": 10000 + i, "protocol": "tcp"} for i in range(30)]
    short = access_info("1", "u", ports)
    ip = "1" * (256 - len(short) + 1)
    assert len(access_info(ip, "u", ports)) == 256
    with pytest.raises(ValueError, match="257 bytes"):
        access_info(ip + "1", "u", ports)


def test_access_info_refuses_bad_ports():
    with pytest.raises(ValueError, match="tcp or udp"):
        access_info("203.0.113.7", "u", [{"port": 1, "protocol": "icmp"}])
    with pytest.raises(ValueError, match="1 to 65535"):
        access_info("203.0.113.7", "u", [{"port": 70000, "protocol": "tcp"}])
