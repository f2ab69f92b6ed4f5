"""python -m cloudstack_simulator --db PATH --credentials-file PATH [--host H] [--port N]"""
import argparse
import json
import logging
import os
import secrets
import signal
import sys

from . import __version__, commands, seed  # noqa: F401  pylint: disable=unused-import  # commands registers the API
from .faults import Faults
from .server import Simulator
from .store import Store, StoreError


def load_credentials(path):
    """The admin user's API key and secret: read from ``path``, or made once and written there
    (mode 0600), so that they stay with the state file they belong to."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict) or not data.get("apikey") or not data.get("secretkey"):
            raise ValueError(f"{path} must hold a JSON object with apikey and secretkey")
        return data
    data = {"apikey": secrets.token_urlsafe(64), "secretkey": secrets.token_urlsafe(64)}
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)
    return data


def main(argv=None):
    parser = argparse.ArgumentParser(prog="cloudstack_simulator", description="A CloudStack API simulator for tests and demos.")
    parser.add_argument("--db", required=True, help="SQLite file holding the simulated cloud (made and seeded if missing)")
    parser.add_argument("--credentials-file", required=True, help="JSON {apikey, secretkey} of the admin user (made if missing)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--job-pending-polls", type=int, default=0,
                        help="queryAsyncJobResult polls a new async job stays pending for (0: jobs finish at once)")
    parser.add_argument("--job-pending-seconds", type=float, default=30.0, help="a pending job finishes after this long anyway")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("cloudstack_simulator")
    try:
        credentials = load_credentials(args.credentials_file)
        store = Store(args.db)
    except (OSError, ValueError, StoreError) as e:
        print(f"cloudstack_simulator: {e}", file=sys.stderr)
        return 2
    seed.ensure_seeded(store)
    try:
        server = Simulator((args.host, args.port), store, Faults(args.job_pending_polls, args.job_pending_seconds),
                           {credentials["apikey"]: credentials["secretkey"]})
    except OSError as e:
        print(f"cloudstack_simulator: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    log.info("CloudStack simulator %s on http://%s:%d/client/api, state in %s", __version__, args.host, args.port, args.db)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.server_close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
