"""`python -m dinfra_api`: serves the API with uvicorn, configured from the environment
(docs/api.md): DINFRA_API_HOST (127.0.0.1), DINFRA_API_PORT (8620), DINFRA_API_LOG_LEVEL (info),
and for TLS without a reverse proxy DINFRA_API_TLS_CERT and DINFRA_API_TLS_KEY. Logs are JSON
lines on stderr."""
import os
import sys

import uvicorn

from .app import create_app
from .logs import log_config
from .settings import SettingsError, settings_from


def main():
    try:
        settings = settings_from()
        port = int(os.environ.get("DINFRA_API_PORT", "8620"))
    except (SettingsError, ValueError) as exc:
        print(f"dinfra_api: {exc}", file=sys.stderr)
        return 2
    tls = {"ssl_certfile": os.environ.get("DINFRA_API_TLS_CERT"), "ssl_keyfile": os.environ.get("DINFRA_API_TLS_KEY")}
    uvicorn.run(create_app(settings), host=os.environ.get("DINFRA_API_HOST", "127.0.0.1"), port=port,
                # Bounded: slow or idle clients cannot hold connections for ever.
                timeout_keep_alive=15, limit_concurrency=64, h11_max_incomplete_event_size=16 * 1024,
                server_header=False, log_config=log_config(os.environ.get("DINFRA_API_LOG_LEVEL", "info")),
                **{k: v for k, v in tls.items() if v})
    return 0


if __name__ == "__main__":
    sys.exit(main())
