"""Shared pytest settings: where the dev stack is."""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".dev" / "collections"

# The checkout, importable as ansible_collections.dinfra.chain (scripts/setup-collection.sh).
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


def dev_env() -> dict:
    """The endpoints `make dev-up` wrote to .dev/env, overridden by the real environment."""
    values = {}
    env_file = ROOT / ".dev" / "env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            line = line.strip()
            if line.startswith("export "):
                key, _sep, value = line[len("export "):].partition("=")
                values[key] = value
    values.update({k: v for k, v in os.environ.items() if k.startswith("DINFRA_")})
    return values


@pytest.fixture(scope="session")
def node_url() -> str:
    url = dev_env().get("DINFRA_NODE_URL")
    if not url:
        pytest.fail("DINFRA_NODE_URL is not set and .dev/env is missing: run 'make dev-up' first")
    return url


def _endpoint(name, what):
    url = dev_env().get(name)
    if not url:
        pytest.fail(f"{name} ({what}) is not set and .dev/env is missing: run 'make dev-up' first")
    return url


@pytest.fixture(scope="module")
def chain(node_url):
    """A substrate-interface connection to the dev chain, for setting up and checking state."""
    from substrateinterface import SubstrateInterface  # pylint: disable=import-outside-toplevel  # unit tests need none

    substrate = SubstrateInterface(url=node_url, ws_options={"timeout": 30})
    yield substrate
    substrate.close()


@pytest.fixture(scope="session")
def ipfs_api() -> str:
    return _endpoint("DINFRA_IPFS_API", "Kubo's RPC")


@pytest.fixture(scope="session")
def ipfs_gateway() -> str:
    return _endpoint("DINFRA_IPFS_GATEWAY", "Kubo's gateway")


@pytest.fixture(scope="session")
def cloudstack_env() -> dict:
    """The CloudStack simulator of the dev stack, as ngine_io.cloudstack and the cs client read
    it (CLOUDSTACK_ENDPOINT, _KEY, _SECRET, _TIMEOUT), plus where its state lives
    (DINFRA_CLOUDSTACK_DB); from .dev/env, overridden by the real environment."""
    values = dev_env()
    values.update({k: v for k, v in os.environ.items() if k.startswith("CLOUDSTACK_")})
    env = {k: values.get(k) for k in ("CLOUDSTACK_ENDPOINT", "CLOUDSTACK_KEY", "CLOUDSTACK_SECRET", "DINFRA_CLOUDSTACK_DB")}
    missing = [k for k, v in env.items() if not v]
    if missing:
        pytest.fail(f"{', '.join(missing)} (the CloudStack simulator) not set and not in .dev/env: run 'make dev-up' first")
    env["CLOUDSTACK_TIMEOUT"] = values.get("CLOUDSTACK_TIMEOUT", "10")
    return env
