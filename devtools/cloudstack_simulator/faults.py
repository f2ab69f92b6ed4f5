"""Faults a test can switch on through the admin API (POST /_simulator/faults), and how long
async jobs stay pending. They live in memory: a restart of the simulator clears them, while
CloudStack's own state (in SQLite) survives."""
import contextlib
import threading

DOWN_MODES = ("503", "close")


class FaultError(ValueError):
    """A fault description the simulator cannot apply; its message says why."""


def _number(name, value, minimum=0.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise FaultError(f"{name} must be a number >= {minimum}")
    return value


def _count(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaultError(f"{name} must be an integer >= 0")
    return value


def _rules(name, value, default_code, default_text):
    """A list of {command, count, errorcode?, errortext?}: the next ``count`` calls (or jobs) of
    ``command`` (or of any command if it is "*") fail with that error."""
    if not isinstance(value, list):
        raise FaultError(f"{name} must be a list of {{command, count, errorcode, errortext}}")
    rules = []
    for rule in value:
        if not isinstance(rule, dict) or not isinstance(rule.get("command"), str) or not rule["command"]:
            raise FaultError(f"each {name} entry needs a command (a CloudStack API command name, or \"*\")")
        unknown = set(rule) - {"command", "count", "errorcode", "errortext"}
        if unknown:
            raise FaultError(f"unknown keys in {name} entry: {', '.join(sorted(unknown))}")
        code = rule.get("errorcode", default_code)
        if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 599:
            raise FaultError(f"{name}.errorcode must be an HTTP-range error code such as 431 or 530")
        text = rule.get("errortext", default_text)
        if not isinstance(text, str) or not text:
            raise FaultError(f"{name}.errortext must be a non-empty string")
        rules.append({"command": rule["command"], "count": _count(f"{name}.count", rule.get("count", 1)),
                      "errorcode": code, "errortext": text})
    return rules


class Faults:
    """The switchable faults; every method is safe to call from any request thread."""

    def __init__(self, job_pending_polls=0, job_pending_seconds=30.0):
        self._defaults = {"job_pending_polls": job_pending_polls, "job_pending_seconds": job_pending_seconds}
        self._lock = threading.Lock()
        self._state = {}
        # Delayed requests not answered yet, by command: the calls "in flight". Not a fault, so
        # clear() leaves it: a request held before the faults were cleared is still held.
        self._held = {}
        self.clear()

    def clear(self):
        with self._lock:
            self._state = {
                "delay_seconds": 0.0,
                "delay_commands": [],
                "down": None,
                "fail_jobs": [],
                "fail_api": [],
                **self._defaults,
            }

    def snapshot(self):
        with self._lock:
            state = {key: (list(map(dict, value)) if key.startswith("fail_") else value) for key, value in self._state.items()}
            state["held"] = dict(self._held)
            return state

    @contextlib.contextmanager
    def holding(self, command):
        """Counts a delayed request of ``command`` as held until it has been answered (applied),
        so that a test can act while a write is in flight, and wait until it has landed."""
        with self._lock:
            self._held[command] = self._held.get(command, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._held[command] -= 1
                if not self._held[command]:
                    del self._held[command]

    def update(self, changes):
        """Applies the keys of ``changes`` (the rest stay as they are); all or nothing."""
        if not isinstance(changes, dict):
            raise FaultError("the body must be a JSON object")
        new = {}
        for key, value in changes.items():
            if key == "delay_seconds":
                new[key] = float(_number(key, value))
            elif key == "delay_commands":
                if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
                    raise FaultError("delay_commands must be a list of command names (empty: every command)")
                new[key] = list(value)
            elif key == "down":
                if value is not None and value not in DOWN_MODES:
                    raise FaultError('down must be null, "503" (answer HTTP 503) or "close" (close the connection)')
                new[key] = value
            elif key == "fail_jobs":
                new[key] = _rules(key, value, 530, "Job failed (injected by the CloudStack simulator)")
            elif key == "fail_api":
                new[key] = _rules(key, value, 530, "Internal error executing command, please contact your system administrator")
            elif key == "job_pending_polls":
                new[key] = _count(key, value)
            elif key == "job_pending_seconds":
                new[key] = float(_number(key, value))
            else:
                raise FaultError(f"unknown fault {key!r}; known: delay_seconds, delay_commands, down, fail_jobs, fail_api, "
                                 "job_pending_polls, job_pending_seconds")
        with self._lock:
            self._state.update(new)

    def down(self):
        with self._lock:
            return self._state["down"]

    def delay(self, command):
        with self._lock:
            commands = self._state["delay_commands"]
            if commands and command not in commands:
                return 0.0
            return self._state["delay_seconds"]

    def job_pending(self):
        with self._lock:
            return self._state["job_pending_polls"], self._state["job_pending_seconds"]

    def _take(self, key, command):
        with self._lock:
            for rule in self._state[key]:
                if rule["count"] > 0 and rule["command"] in (command, "*"):
                    rule["count"] -= 1
                    return rule["errorcode"], rule["errortext"]
        return None

    def take_job_failure(self, command):
        """(errorcode, errortext) if the next job of ``command`` is to fail, else None."""
        return self._take("fail_jobs", command)

    def take_api_failure(self, command):
        """(errorcode, errortext) if this call of ``command`` is to fail at once, else None."""
        return self._take("fail_api", command)
