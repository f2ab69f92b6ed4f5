"""The facts a benchmark figure means nothing without: the machine, its load, the software."""
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def load_average():
    """The 1, 5 and 15 minute load averages."""
    return [float(value) for value in pathlib.Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]]


def cpu():
    """(model, logical CPUs) from /proc/cpuinfo."""
    models = [line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
              if line.startswith("model name")]
    return (models[0] if models else platform.processor() or "unknown"), (len(models) or os.cpu_count())


def memory_gib():
    for line in pathlib.Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2**20, 1)
    return None


def ansible_core_version():
    proc = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible"), "--version"], capture_output=True,
                          text=True, check=False)
    first = proc.stdout.splitlines()[0] if proc.returncode == 0 and proc.stdout else ""
    # "ansible [core 2.19.14]"
    return first.split("core", 1)[1].strip(" ]") if "core" in first else first or "unknown"


def chopsticks_version():
    package = ROOT / "chain/devchain/node_modules/@acala-network/chopsticks/package.json"
    try:
        return json.loads(package.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


def git_commit():
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True, check=False)
    return {"commit": head.stdout.strip() or "unknown", "dirty": bool(dirty.stdout.strip())}


def facts():
    model, count = cpu()
    return {
        "cpu_model": model, "cpu_count": count, "memory_gib": memory_gib(), "kernel": platform.release(),
        "python": platform.python_version(), "ansible_core": ansible_core_version(),
        "chopsticks": chopsticks_version(), "git": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def other_pytest_runs():
    """How many pytest processes run besides this one: another engineer's tests share the machine
    (and the dev stack), which the figures must say."""
    count = 0
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue  # the process ended while we looked
        if b"pytest" in cmdline:
            count += 1
    return count


class LoadSampler:
    """Samples the 1-minute load average and concurrent pytest processes in the background, so
    that the results show what else ran while they were measured, not only at the ends."""

    def __init__(self, interval=5.0):
        self.interval, self.samples = interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while True:
            self.samples.append((time.monotonic(), load_average()[0], other_pytest_runs()))
            if self._stop.wait(self.interval):
                return

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()

    def window(self, since, until=None):
        """The load between two time.monotonic() readings: mean and max of the 1-minute average,
        and the share of samples that saw another pytest running."""
        chosen = [s for s in self.samples if since <= s[0] <= (until or float("inf"))]
        if not chosen:
            return None
        loads = [s[1] for s in chosen]
        return {"load1_mean": round(statistics.mean(loads), 2), "load1_max": max(loads),
                "samples": len(chosen), "with_other_pytest": sum(1 for s in chosen if s[2])}
