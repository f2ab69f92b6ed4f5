"""Structured logs: one JSON object a line, for journald and log shippers. uvicorn's access
lines become {client, method, path, status}; request headers, where the bearer token travels,
are never logged."""
import datetime
import json
import logging


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {"time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(),
                 "level": record.levelname.lower(), "logger": record.name}
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            entry.update(client=client, method=method, path=path, status=status)
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_config(level="info"):
    """uvicorn's log_config: every logger of the service and of uvicorn, as JSON on stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": {name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dinfra_api")},
    }
