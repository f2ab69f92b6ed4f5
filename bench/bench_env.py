"""The dev stack and the project's test helpers, for the benchmarks. The helpers are imported,
not copied: the benchmarks set up providers, deployments and reactor runs exactly as the
integration tests do."""
import importlib.util
import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_tests_conftest():
    """tests/conftest.py by its path: tests/integration/reactor has a conftest module too."""
    spec = importlib.util.spec_from_file_location("dinfra_tests_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# It also puts .dev/collections on sys.path: the checkout, importable as dinfra.chain.
dev_env = _load_tests_conftest().dev_env
sys.path.insert(0, str(ROOT / "tests" / "integration" / "reactor"))

import reactor_helpers  # noqa: E402  pylint: disable=wrong-import-position
from simulator_helpers import PrivateSimulator  # noqa: E402  pylint: disable=wrong-import-position


class BenchError(Exception):
    """A benchmark could not measure what it set out to (set-up failed, results are wrong)."""


def endpoints():
    """The dev stack's endpoints from .dev/env (or the environment)."""
    values = dev_env()
    wanted = {"node_url": "DINFRA_NODE_URL", "ipfs_api": "DINFRA_IPFS_API", "ipfs_gateway": "DINFRA_IPFS_GATEWAY"}
    missing = [name for name in wanted.values() if not values.get(name)]
    if missing:
        raise BenchError(f"{', '.join(missing)} not set and not in .dev/env: start the dev stack ('make dev-up', or run "
                         "'make bench', which starts it)")
    return {key: values[name] for key, name in wanted.items()}


def spread(values):
    """median, min and max of a list of seconds, rounded for reading."""
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2),
            "n": len(values)}


__all__ = ["BenchError", "PrivateSimulator", "ROOT", "dev_env", "endpoints", "reactor_helpers", "spread"]
