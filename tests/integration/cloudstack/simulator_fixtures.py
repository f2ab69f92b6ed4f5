"""Fixtures of the dev stack's CloudStack simulator, shared by every conftest that imports them:
a cs client, the admin API, and a simulator without faults before and after each test."""
import pytest

from simulator_helpers import Admin, client


@pytest.fixture(scope="session")
def cs_api(cloudstack_env):
    return client(cloudstack_env)


@pytest.fixture(scope="session")
def simulator(cloudstack_env):
    """The dev stack's simulator's admin API (faults, reset)."""
    return Admin(cloudstack_env["CLOUDSTACK_ENDPOINT"], cloudstack_env["CLOUDSTACK_SECRET"])


@pytest.fixture(autouse=True)
def no_faults(simulator):  # pylint: disable=redefined-outer-name
    """Every test starts and ends with a healthy simulator whose jobs finish at once."""
    simulator.clear_faults()
    yield
    simulator.clear_faults()
