"""Fixtures for the CloudStack simulator's tests: real clients (cs, ansible-playbook with
ngine_io.cloudstack) against the simulator the dev stack runs, and private simulators for
the restart tests."""
import pathlib
import sys
import uuid

import pytest

# tests/integration/collection's helpers for running the real ansible CLIs.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "collection"))

from simulator_fixtures import cs_api, no_faults, simulator  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
from simulator_helpers import PrivateSimulator  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def zone(cs_api):
    return cs_api.listZones(name="Sandbox-simulator")["zone"][0]


@pytest.fixture
def prefix():
    """A name prefix no other test (or earlier run) uses."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def private_simulator(tmp_path):
    """Starts simulators of the test's own (on a free port; on a state file of the test's own
    unless given one) and stops them afterwards."""
    started = []

    def start(db=None, credentials=None, *args):
        sim = PrivateSimulator(db or tmp_path / "state.sqlite", credentials or tmp_path / "credentials.json", tmp_path, *args)
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()
