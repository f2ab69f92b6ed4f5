# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""The cloud-init user data of a deployment's machine, and the ports it exposes.

Pure functions of a validated descriptor (descriptors/cloudstack-vm, descriptors/substrate-node)
and the provider's settings: no network, no clock, no randomness. The same input always gives
byte-identical output, so a provider can compare what it would send with what it sent.

The consumer's own ``user_data`` is attacker-controlled YAML: it is never parsed here, only
carried as the second part of a MIME multipart document, after the provider's part. The
``Merge-Type`` of that part makes cloud-init append the consumer's lists to the provider's and
keep the provider's keys.

Every value that ends up in a shell command is quoted with ``shlex.quote``; the node's
arguments are written one per line to a file, so none may contain a line break or NUL.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shlex

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the callers
    HAS_YAML = False
    YAML_IMPORT_ERROR = exc

CLOUDSTACK_VM = "cloudstack-vm"
SUBSTRATE_NODE = "substrate-node"
TYPES = (CLOUDSTACK_VM, SUBSTRATE_NODE)

DEFAULT_USER = "dinfra"
SSH_PORT = 22
DEFAULT_P2P_PORT = 30333
DEFAULT_RELEASE_URL = "https://github.com/paritytech/polkadot-sdk/releases/download/{version}/{binary}"
DEFAULT_IPFS_GATEWAY = "http://127.0.0.1:8080"
DEFAULT_DATA_DEVICE = "/dev/vdb"
MAX_ACCESS_INFO_BYTES = 256

CLOUD_CONFIG_HEADER = "#cloud-config\n"
CONSUMER_MERGE_TYPE = "list(append)+dict(no_replace,recurse_list)+str()"

NODE_DIR = "/var/lib/dinfra-node"
NODE_LABEL = "dinfra-node"
NODE_SERVICE = "dinfra-substrate-node"
ARGS_FILE = "/etc/dinfra/substrate-node.args"
LAUNCHER = "/usr/local/sbin/dinfra-substrate-node"
UNIT_FILE = f"/etc/systemd/system/{NODE_SERVICE}.service"
BINARY_DIR = "/usr/local/bin"
SPEC_FILE = f"{NODE_DIR}/chain-spec.json"
BINARY_BASE_PATH = f"{NODE_DIR}/data"
IMAGE_BASE_PATH = "/data"
IMAGE_SPEC_FILE = "/spec/chain-spec.json"
# The polkadot binary runs PVF workers shipped as separate release assets next to it (needed
# by validators; small, and from the same release, so always installed with it).
PVF_WORKERS = {"polkadot": ("polkadot-execute-worker", "polkadot-prepare-worker")}

_PROTOCOLS = ("tcp", "udp")
_FORBIDDEN_IN_ARGS = ("\n", "\r", "\0")
# Large enough that PyYAML never folds a line (a folded scalar still parses, but is harder to read).
_YAML_WIDTH = 1 << 30


# --- descriptors -----------------------------------------------------------------------


def _type_of(descriptor):
    if not isinstance(descriptor, dict):
        raise ValueError(f"a descriptor is a JSON object, not {type(descriptor).__name__}")
    kind = descriptor.get("type")
    if kind not in TYPES:
        raise ValueError(f"unknown deployment type {kind!r}: cloud-init user data is made for {', '.join(TYPES)}")
    return kind


def _node(descriptor):
    if _type_of(descriptor) != SUBSTRATE_NODE:
        raise ValueError(f"node arguments exist only for {SUBSTRATE_NODE} descriptors, not {descriptor['type']}")
    node = descriptor.get("node")
    if not isinstance(node, dict):
        raise ValueError("a substrate-node descriptor has a node object")
    return node


def _port_number(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(f"{what} is a port number from 1 to 65535, not {value!r}")
    return value


def _software(node):
    """('image', reference) or ('binary', (binary, version)) of a node section."""
    software = node.get("software")
    if not isinstance(software, dict):
        raise ValueError("node.software is an object with an image, or a binary and a version")
    if "image" in software:
        return "image", software["image"]
    if "binary" in software and "version" in software:
        return "binary", (software["binary"], software["version"])
    raise ValueError("node.software names an image, or a binary and a version")


def _chain(node):
    """('name', chain name) or ('spec_cid', CID) of a node section."""
    chain = node.get("chain")
    if isinstance(chain, dict):
        if "name" in chain:
            return "name", chain["name"]
        if "spec_cid" in chain:
            return "spec_cid", chain["spec_cid"]
    raise ValueError("node.chain is an object with a name or a spec_cid")


def release_tag(version):
    """The polkadot-sdk release tag of a descriptor's version: ``stable2509-2`` is tagged
    ``polkadot-stable2509-2``, ``1.20.2`` is ``polkadot-v1.20.2``; a full tag is used as given."""
    if version.startswith("stable"):
        return f"polkadot-{version}"
    # polkadot-sdk tagged its 1.x releases polkadot-v1.x.y.
    if version[:1].isdigit() or (version[:1] == "v" and version[1:2].isdigit()):
        return "polkadot-v" + version.lstrip("v")
    return version


def _settings(settings):
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise ValueError(f"settings is a dict, not {type(settings).__name__}")
    return settings


def _setting(settings, key, default):
    value = settings.get(key, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"settings.{key} is a non-empty string")
    return value


# --- ports -----------------------------------------------------------------------------


def exposed_ports(descriptor):
    """The ports a deployment exposes, as ``[{"port": int, "protocol": "tcp"|"udp"}]``, each
    once, in the order the descriptor first names them. A substrate node always exposes SSH
    (22, its descriptor has no port list and its consumer must be able to log in) and its p2p
    port (30333 unless set), and its rpc and prometheus ports when set."""
    kind = _type_of(descriptor)
    found = []
    if kind == CLOUDSTACK_VM:
        ports = descriptor.get("ports", [])
        if not isinstance(ports, list):
            raise ValueError("ports is a list")
        for index, entry in enumerate(ports):
            if not isinstance(entry, dict):
                raise ValueError(f"ports[{index}] is an object with a port and a protocol")
            protocol = entry.get("protocol", "tcp")
            if protocol not in _PROTOCOLS:
                raise ValueError(f"ports[{index}].protocol is tcp or udp, not {protocol!r}")
            found.append({"port": _port_number(entry.get("port"), f"ports[{index}].port"), "protocol": protocol})
    else:
        ports = _node(descriptor).get("ports", {})
        if not isinstance(ports, dict):
            raise ValueError("node.ports is an object")
        found.append({"port": SSH_PORT, "protocol": "tcp"})
        found.append({"port": _port_number(ports.get("p2p", DEFAULT_P2P_PORT), "node.ports.p2p"), "protocol": "tcp"})
        for name in ("rpc", "prometheus"):
            if ports.get(name) is not None:
                found.append({"port": _port_number(ports[name], f"node.ports.{name}"), "protocol": "tcp"})
    unique = []
    for entry in found:
        if entry not in unique:
            unique.append(entry)
    return unique


# --- the node's command line -----------------------------------------------------------


def node_args(descriptor, settings=None):
    """The arguments (without the binary) a substrate node runs with. Each is a string without
    a line break or NUL (they are written one per line to a file); ValueError otherwise.

    An extra argument that repeats a bare flag already given (``--collator`` with the collator
    role) is left out: the node's command line parser refuses a flag given twice."""
    _settings(settings)
    node = _node(descriptor)
    mode = _software(node)[0]
    ports = node.get("ports") or {}
    args = ["--name", descriptor.get("name"), "--base-path", IMAGE_BASE_PATH if mode == "image" else BINARY_BASE_PATH]

    chain_kind, chain_value = _chain(node)
    if chain_kind == "name":
        args += ["--chain", chain_value]
    else:
        args += ["--chain", IMAGE_SPEC_FILE if mode == "image" else SPEC_FILE]

    args += ["--port", str(_port_number(ports.get("p2p", DEFAULT_P2P_PORT), "node.ports.p2p"))]

    role = node.get("role")
    if role == "archive":
        args += ["--state-pruning", "archive", "--blocks-pruning", "archive"]
    elif role == "validator":
        args.append("--validator")
    elif role == "collator":
        args.append("--collator")
    elif role != "rpc":
        raise ValueError(f"node.role is rpc, archive, validator or collator, not {role!r}")

    if ports.get("rpc") is not None:
        args += ["--rpc-port", str(_port_number(ports["rpc"], "node.ports.rpc")), "--rpc-external", "--rpc-cors", "all"]
    if ports.get("prometheus") is not None:
        args += ["--prometheus-port", str(_port_number(ports["prometheus"], "node.ports.prometheus")), "--prometheus-external"]

    telemetry = node.get("telemetry")
    if telemetry:
        verbosity = telemetry.get("verbosity", 0)
        if isinstance(verbosity, bool) or not isinstance(verbosity, int):
            raise ValueError("node.telemetry.verbosity is an integer")
        if not isinstance(telemetry.get("url"), str):
            raise ValueError("node.telemetry.url is a string")
        args += ["--telemetry-url", f"{telemetry.get('url')} {verbosity}"]
    else:
        args.append("--no-telemetry")

    extra = node.get("extra_args", [])
    if not isinstance(extra, list):
        raise ValueError("node.extra_args is a list of strings")
    for index, value in enumerate(extra):
        if not isinstance(value, str):
            raise ValueError(f"node.extra_args[{index}] is a string, not {type(value).__name__}")
        if value.startswith("--") and "=" not in value and value in args:
            continue
        args.append(value)

    for index, value in enumerate(args):
        if not isinstance(value, str):
            raise ValueError(f"node argument {index} is not a string: {type(value).__name__}")
        for character in _FORBIDDEN_IN_ARGS:
            if character in value:
                raise ValueError(f"node argument {index} contains {character!r}: arguments are written one per line")
    return args


# --- cloud-config ----------------------------------------------------------------------


def _launcher(mode, software, chain_kind):
    lines = [
        "#!/bin/bash",
        f"# Managed by DINFRA: runs the substrate node with the arguments in {ARGS_FILE}, one per line.",
        "set -euo pipefail",
        f"mapfile -t args < {ARGS_FILE}",
    ]
    if mode == "image":
        command = ["exec", "podman", "run", "--rm", "--replace", "--name", NODE_SERVICE, "--network", "host",
                   "-v", f"{NODE_DIR}:{IMAGE_BASE_PATH}:U"]
        if chain_kind == "spec_cid":
            command += ["-v", f"{SPEC_FILE}:{IMAGE_SPEC_FILE}:ro"]
        command.append(software)
    else:
        command = ["exec", f"{BINARY_DIR}/{software[0]}"]
    lines.append(" ".join(shlex.quote(word) for word in command) + ' "${args[@]}"')
    return "\n".join(lines) + "\n"


def _unit():
    return "\n".join([
        "[Unit]",
        "Description=DINFRA substrate node",
        "Wants=network-online.target",
        "After=network-online.target",
        f"RequiresMountsFor={NODE_DIR}",
        "",
        "[Service]",
        f"ExecStart={LAUNCHER}",
        "Restart=always",
        "RestartSec=10",
        "TimeoutStopSec=120",
        "LimitNOFILE=65536",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


def _verified_download(url, destination):
    """A shell command that downloads ``url`` and its ``.sha256`` sidecar and installs the file
    at ``destination`` (mode 0755) only when the sidecar's first field is the file's SHA-256."""
    download = f"{destination}.download"
    sidecar = f"{download}.sha256"
    quoted_download, quoted_sidecar = shlex.quote(download), shlex.quote(sidecar)
    return " && ".join([
        f"curl -fsSL --retry 5 --max-time 1800 -o {quoted_download} {shlex.quote(url)}",
        f"curl -fsSL --retry 5 --max-time 300 -o {quoted_sidecar} {shlex.quote(url + '.sha256')}",
        f"test \"$(awk 'NR == 1 {{print $1}}' {quoted_sidecar})\" = \"$(sha256sum {quoted_download} | awk '{{print $1}}')\"",
        f"chmod 0755 {quoted_download}",
        f"mv -f {quoted_download} {shlex.quote(destination)}",
        f"rm -f {quoted_sidecar}",
    ])


def _node_config(descriptor, settings):
    """The cloud-config keys that install and start a substrate node."""
    node = _node(descriptor)
    mode, software = _software(node)
    chain_kind, chain_value = _chain(node)
    device = _setting(settings, "data_device", DEFAULT_DATA_DEVICE)
    args = node_args(descriptor, settings)

    runcmd = []
    if mode == "image":
        packages = ["curl", "podman"]
        runcmd.append(f"podman pull {shlex.quote(software)}")
    else:
        packages = ["curl"]
        binary, version = software
        release_url = _setting(settings, "release_url", DEFAULT_RELEASE_URL)
        for name in (binary,) + PVF_WORKERS.get(binary, ()):
            url = release_url.replace("{version}", release_tag(version)).replace("{binary}", name)
            runcmd.append(_verified_download(url, f"{BINARY_DIR}/{name}"))
    if chain_kind == "spec_cid":
        gateway = _setting(settings, "ipfs_gateway", DEFAULT_IPFS_GATEWAY).rstrip("/")
        runcmd.append(f"curl -fsS --retry 5 --max-time 300 -o {shlex.quote(SPEC_FILE)} {shlex.quote(f'{gateway}/ipfs/{chain_value}')}")
    runcmd += ["systemctl daemon-reload", f"systemctl enable --now {NODE_SERVICE}"]

    return {
        "packages": packages,
        "disk_setup": {device: {"table_type": "gpt", "layout": False, "overwrite": False}},
        "fs_setup": [{"label": NODE_LABEL, "filesystem": "ext4", "device": device, "partition": "none", "overwrite": False}],
        "mounts": [[device, NODE_DIR, "ext4", "defaults,nofail", "0", "2"]],
        "write_files": [
            {"path": ARGS_FILE, "permissions": "0644", "owner": "root:root", "content": "\n".join(args) + "\n"},
            {"path": LAUNCHER, "permissions": "0755", "owner": "root:root", "content": _launcher(mode, software, chain_kind)},
            {"path": UNIT_FILE, "permissions": "0644", "owner": "root:root", "content": _unit()},
        ],
        "runcmd": runcmd,
    }


def cloud_config(descriptor, authorized_keys, settings=None):
    """The provider's cloud-config (a dict) for a descriptor: host name, the login user with
    ``authorized_keys`` (OpenSSH public key lines), no passwords, no root login, the
    provider's ``extra`` keys, and for a substrate node its disk, files and commands."""
    kind = _type_of(descriptor)
    settings = _settings(settings)
    if not isinstance(authorized_keys, (list, tuple)) or not all(isinstance(key, str) for key in authorized_keys):
        raise ValueError("authorized_keys is a list of OpenSSH public key lines")
    for key in authorized_keys:
        if any(character in key for character in _FORBIDDEN_IN_ARGS):
            raise ValueError("an authorized key is one line")
    ssh = descriptor.get("ssh") or {}
    config = {
        "hostname": descriptor.get("name"),
        "ssh_pwauth": False,
        "disable_root": True,
        "users": [{
            "name": ssh.get("user", DEFAULT_USER),
            "shell": "/bin/bash",
            "sudo": "ALL=(ALL) NOPASSWD:ALL",
            "lock_passwd": True,
            "ssh_authorized_keys": list(authorized_keys),
        }],
    }
    if kind == SUBSTRATE_NODE:
        config.update(_node_config(descriptor, settings))
    extra = settings.get("extra") or {}
    if not isinstance(extra, dict):
        raise ValueError(f"settings.extra is a dict of cloud-config keys, not {type(extra).__name__}")
    for key in sorted(extra, key=str):
        if not isinstance(key, str):
            raise ValueError(f"settings.extra has a key that is not a string: {key!r}")
        if key in config:
            raise ValueError(f"settings.extra sets {key!r}, which the provider's cloud-config for {kind} already sets")
        config[key] = copy.deepcopy(extra[key])
    return config


if HAS_YAML:
    class _Dumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
        """SafeDumper that never writes anchors or aliases, and writes multi-line strings
        (scripts, unit files) as literal blocks where YAML allows it."""

        def ignore_aliases(self, data):
            return True

    def _represent_str(dumper, value):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _represent_str)


def dump_cloud_config(config):
    """``#cloud-config`` and the YAML of ``config``: deterministic (sorted keys, no line folding)."""
    if not HAS_YAML:
        raise ValueError(f"PyYAML is required to write cloud-config: {YAML_IMPORT_ERROR}")
    try:
        text = yaml.dump(config, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=_YAML_WIDTH,
                         allow_unicode=False)
    except yaml.YAMLError as error:
        raise ValueError(f"the cloud-config cannot be written as YAML: {error}") from None
    return CLOUD_CONFIG_HEADER + text


def _mime_part(text, headers):
    """A MIME part: headers, a blank line and the text; base64 when the text is not ASCII
    (cloud-init reads 7-bit parts as Latin-1-ish bytes, which would mangle UTF-8)."""
    lines = ['Content-Type: text/cloud-config; charset="utf-8"', "MIME-Version: 1.0"] + headers
    if text.isascii():
        lines.append("Content-Transfer-Encoding: 7bit")
        body = text
    else:
        lines.append("Content-Transfer-Encoding: base64")
        encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
        body = "\n".join(encoded[start:start + 76] for start in range(0, len(encoded), 76)) + "\n"
    return "\n".join(lines) + "\n\n" + body


def multipart(provider_part, consumer_part):
    """A MIME multipart/mixed document of the provider's cloud-config and the consumer's, the
    consumer's carried as given (never parsed) with a Merge-Type that appends its lists and
    keeps the provider's keys. The boundary is derived from both parts, so the document is
    deterministic; it appears in neither."""
    digest = hashlib.sha256()
    for part in (provider_part, consumer_part):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big") + data)
    boundary = "dinfra-" + digest.hexdigest()[:32]
    if boundary in provider_part or boundary in consumer_part:
        raise ValueError("the MIME boundary appears in the user data")  # pragma: no cover - a SHA-256 preimage
    parts = [
        _mime_part(provider_part, ['Content-Disposition: attachment; filename="dinfra-provider.cfg"']),
        _mime_part(consumer_part, ['Content-Disposition: attachment; filename="consumer.cfg"',
                                   f"Merge-Type: {CONSUMER_MERGE_TYPE}"]),
    ]
    # The line break before a delimiter belongs to the delimiter: each part's text is kept exactly.
    document = f'Content-Type: multipart/mixed; boundary="{boundary}"\nMIME-Version: 1.0\n\n'
    for part in parts:
        document += f"--{boundary}\n{part}\n"
    return document + f"--{boundary}--\n"


def user_data(descriptor, authorized_keys, settings=None):
    """The cloud-init user data of a descriptor's machine: the provider's ``#cloud-config``,
    or, when the descriptor has its own ``user_data``, a MIME multipart document of the
    provider's part and the consumer's (which is not parsed here)."""
    provider_part = dump_cloud_config(cloud_config(descriptor, authorized_keys, settings))
    consumer_part = descriptor.get("user_data")
    if consumer_part is None:
        return provider_part
    if not isinstance(consumer_part, str) or not consumer_part.startswith(CLOUD_CONFIG_HEADER):
        raise ValueError("the descriptor's user_data is a string that starts with the line #cloud-config")
    return multipart(provider_part, consumer_part)


# --- what a provider reports -----------------------------------------------------------


def access_info(address, user, ports):
    """The compact public JSON a provider reports on chain for a running deployment:
    ``{"ip":..,"user":..,"tcp":[..],"udp":[..]}`` with sorted ports, an empty list left out.
    ValueError when it is longer than 256 bytes."""
    if not isinstance(address, str) or not address:
        raise ValueError("the address is a non-empty string")
    if not isinstance(user, str) or not user:
        raise ValueError("the user is a non-empty string")
    by_protocol = {protocol: set() for protocol in _PROTOCOLS}
    for index, entry in enumerate(ports or []):
        if not isinstance(entry, dict):
            raise ValueError(f"ports[{index}] is an object with a port and a protocol")
        protocol = entry.get("protocol", "tcp")
        if protocol not in by_protocol:
            raise ValueError(f"ports[{index}].protocol is tcp or udp, not {protocol!r}")
        by_protocol[protocol].add(_port_number(entry.get("port"), f"ports[{index}].port"))
    info = {"ip": address, "user": user}
    for protocol in _PROTOCOLS:
        if by_protocol[protocol]:
            info[protocol] = sorted(by_protocol[protocol])
    text = json.dumps(info, separators=(",", ":"))
    length = len(text.encode("utf-8"))
    if length > MAX_ACCESS_INFO_BYTES:
        raise ValueError(f"the access info is {length} bytes, more than the {MAX_ACCESS_INFO_BYTES} a provider may report")
    return text
