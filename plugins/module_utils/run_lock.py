# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""A lock held for the lifetime of one run: its owner (the ansible-playbook process of a
reactor run) and, when the run is marked, every process the run forked. A small detached holder
process takes an flock on a file and exits when the run is over or on SIGTERM; the kernel then
releases the flock, whatever the way the holder ends.

Why the whole run: ansible-core's workers call ``os.setsid()``, so a run killed by its process
group (a timer's stop, Ctrl-C, ``kill -- -PGID``) leaves its workers and their modules running,
and a module may still be writing to the cloud. The next run must not act before they end.

How a run is marked (``mark_run``, called by the dinfra.chain.deployments inventory in the
ansible-playbook process, before any worker is forked):
- a pipe whose write end every worker inherits (a fork copies descriptors): its reader sees
  end-of-file only when the owner and every worker have exited;
- an environment variable that every module and its children inherit (the local connection
  runs them with the worker's environment): the holder waits until no process carries it.
A run without the mark (another inventory) is covered by its owner alone, as before.

The holder runs this file as a script (``python -I run_lock.py hold <json>``), where
ansible_collections may not be importable: standard library only.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time

try:
    import fcntl
except ImportError:  # not POSIX; unsupported() says so
    fcntl = None

MAX_WAIT = 3600
POLL = 0.5  # how often the holder looks at its owner and leftovers: how late a finished run's lock frees
RUN_ENV = "DINFRA_REACTOR_RUN"
MAX_LEFTOVERS_SHOWN = 5
MAX_NAMES_SHOWN = 3  # of a leftover's command line
RETRY = 0.1  # how often a waiting holder tries the lock
HANDSHAKE_MARGIN = 30  # seconds beyond `wait` for the holder to start and answer
RELEASE_TIMEOUT = 10
SCRIPT = "run_lock.py"


class LockError(Exception):
    """The lock could not be taken or released (not busy: something is wrong)."""


class _Terminated(Exception):
    """SIGTERM reached the holder."""


def unsupported():
    """Why the lock cannot work here, or None: it needs /proc (process identity) and flock."""
    if fcntl is None or not os.path.isdir("/proc/self"):
        return "the reactor lock needs a Linux controller (/proc and fcntl.flock)"
    return None


def default_lock_dir(environ):
    if environ.get("DINFRA_LOCK_DIR"):
        return environ["DINFRA_LOCK_DIR"]
    if environ.get("XDG_RUNTIME_DIR"):
        return os.path.join(environ["XDG_RUNTIME_DIR"], "dinfra")
    return os.path.join(os.path.expanduser("~"), ".cache", "dinfra", "locks")


def lock_path(lock_dir, name):
    """Only a hash of the name is in the file name: names hold URLs and addresses."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return os.path.join(lock_dir, f"reactor-{digest}.lock")


# The run's mark, in the process that made it: (pid, token, read end, write end).
_RUN = None


def mark_run():
    """Marks this process (ansible-playbook) as a reactor run, once: every process it forks
    from now on keeps a lock taken by the run. Idempotent; returns the run's token."""
    global _RUN  # pylint: disable=global-statement  # one mark per process, by design
    if _RUN is not None and _RUN[0] == os.getpid():
        return _RUN[1]
    if unsupported():
        return None
    read_end, write_end = os.pipe()  # close-on-exec: forks inherit them, executed programs do not
    token = f"{os.getpid()}-{process_start(os.getpid())}-{os.urandom(6).hex()}"
    os.environ[RUN_ENV] = token
    _RUN = (os.getpid(), token, read_end, write_end)
    return token


def run_mark(owner_pid):
    """(token, read end) of the run ``owner_pid`` marked, as a worker forked from it sees it;
    None when the owner made no mark (the lock then covers the owner alone)."""
    if _RUN is None or _RUN[0] != owner_pid or os.environ.get(RUN_ENV) != _RUN[1]:
        return None
    return _RUN[1], _RUN[2]


def _has_pipe(pid, pipe):
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(f"/proc/{pid}/fd/{descriptor}") == pipe:
                return True
        except OSError:
            continue
    return False


def marked_processes(token, pipe_inode=None, exclude=()):
    """[(pid, command)] of the live processes of a marked run: those whose environment carries
    its token (its modules and what they started) and, given the pipe's inode, those holding
    the pipe (its workers, whose environment on /proc is still the one ansible-playbook
    started with). Processes of other users cannot be read and are not ours to wait for."""
    needle = f"{RUN_ENV}={token}".encode()
    pipe = f"pipe:[{pipe_inode}]" if pipe_inode is not None else None
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                marked = needle in environ.read().split(b"\0")
            if not marked and not (pipe and _has_pipe(entry, pipe)):
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
        if process_start(int(entry)) is not None:  # not a zombie
            found.append((int(entry), short_command(command)))
    return found


def short_command(command):
    """What a process runs, by name only: the program, then the names of the first absolute
    paths it was given (``sh python3 AnsiballZ_cs_instance.py``, ``python3 ansible-playbook
    deployments.dinfra.yml``). Never an argument's value: a command line may hold a secret
    (``-e cloudstack_secret=...``, a ``//seed``), and this text goes into another run's output."""
    words = re.findall(r"[^\s'\"]+", command)
    names = [os.path.basename(w) for w in words[1:] if w.startswith("/") and not w.startswith("//")]
    return " ".join([os.path.basename(words[0]) if words else "?"] + names[:MAX_NAMES_SHOWN])


def process_start(pid):
    """The start time of process ``pid`` (clock ticks after boot, /proc/<pid>/stat field 22),
    which tells it from a later process given the same pid; None if there is no such process
    or it has ended (a zombie that its parent has not reaped yet)."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as stat:
            text = stat.read().decode("ascii", "replace")
    except (OSError, ValueError):
        return None
    # The command name (field 2) may hold spaces and parentheses; the fields after it do not.
    fields = text[text.rfind(")") + 2:].split()
    if len(fields) < 20 or fields[0] in ("Z", "X", "x"):
        return None
    return int(fields[19])


def _is_holder(pid, start):
    """Whether ``pid`` is still the holder that started at ``start``: never signal anything else."""
    if start is None or process_start(pid) != start:
        return False
    try:
        with open(f"/proc/{int(pid)}/cmdline", "rb") as cmdline:
            args = cmdline.read().split(b"\0")
    except (OSError, ValueError):
        return False
    return b"hold" in args and any(arg.endswith(SCRIPT.encode()) for arg in args)


def read_owner(path):
    """The owner info in the lock file, or None (no file, empty after a release, half written)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = os.read(descriptor, 65536)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    try:
        info = json.loads(data.decode("utf-8"))
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def _same_owner(info, owner_pid, owner_start):
    return info.get("pid") == owner_pid and info.get("pid_start") == owner_start


def held_by(path, owner_pid, owner_start):
    """The owner info if a live holder holds ``path`` for this owner, else None."""
    info = read_owner(path)
    if info is None or not _same_owner(info, owner_pid, owner_start):
        return None
    if not _is_holder(info.get("holder_pid"), info.get("holder_start")):
        return None
    return info


def busy_message(report):
    owner, waited = report.get("owner"), report["waited"]
    if not owner:
        who = f"another process (its lock file {report['lock_path']} says nothing yet)"
    else:
        who = f"ansible-playbook pid {owner.get('pid')} on host {owner.get('host')} since {owner.get('since')}"
        leftovers = owner.get("leftovers")
        if leftovers:
            shown = "; ".join(f"pid {p['pid']}: {p['command']}" for p in leftovers[:MAX_LEFTOVERS_SHOWN])
            who += (f", which has ended, but {len(leftovers)} of its processes still run and may still be "
                    f"writing ({shown})")
    return f'another reactor run holds the lock "{report["name"]}": {who} (waited {waited} s)'


def check_wait(wait):
    if not 0 <= wait <= MAX_WAIT:
        raise LockError(f"wait must be between 0 and {MAX_WAIT} seconds, not {wait}")


# The holder: a separate process, from `python -I run_lock.py hold <json>`.


def _open_lock(path):
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)


def _replaced(descriptor, path):
    """Whether ``path`` is no longer the file we locked (deleted or replaced meanwhile)."""
    try:
        now = os.stat(path, follow_symlinks=False)
    except OSError:
        return True
    locked = os.fstat(descriptor)
    return (now.st_dev, now.st_ino) != (locked.st_dev, locked.st_ino)


def _take(path, config, deadline):
    """The locked descriptor, or a report saying why not (busy, held by this owner already)."""
    owner_pid, owner_start = config["owner_pid"], config["owner_start"]
    descriptor = _open_lock(path)
    while True:
        if process_start(owner_pid) != owner_start:
            os.close(descriptor)
            raise LockError(f"the owner process {owner_pid} is gone")
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Held for this owner already: taken again, or first by another of its workers
            # (several hosts, forks).
            mine = held_by(path, owner_pid, owner_start)
            if mine:
                os.close(descriptor)
                return None, {"status": "held", "owner": mine}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.close(descriptor)
                return None, {"status": "busy", "owner": read_owner(path)}
            time.sleep(min(RETRY, remaining))
            continue
        if _replaced(descriptor, path):
            os.close(descriptor)
            descriptor = _open_lock(path)
            continue
        return descriptor, None


def _detach_stdio():
    """After the report: nobody reads the pipe any more, and its closing is the reader's EOF."""
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)
    # Last, so that when the reader sees EOF no other descriptor is left open.
    os.dup2(0, 1)
    os.dup2(0, 2)


def _report(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()
    _detach_stdio()


def _raise_terminated(signum, frame):
    del signum, frame
    raise _Terminated()


def hold(config):
    """The holder's life: take the lock, report, hold it while the owner lives. Returns the
    exit code (0 acquired or held already, 1 busy, 2 error)."""
    signal.signal(signal.SIGTERM, _raise_terminated)
    # Our own session keeps terminal signals off the holder; ignoring them also covers a signal
    # sent to a process group by hand. Only the owner's end (or SIGTERM) releases the lock.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    started = time.monotonic()
    path = lock_path(config["lock_dir"], config["name"])
    base = {"name": config["name"], "lock_path": path}
    try:
        reason = unsupported()
        if reason:
            raise LockError(reason)
        check_wait(config["wait"])
        os.makedirs(config["lock_dir"], mode=0o700, exist_ok=True)
        descriptor, outcome = _take(path, config, started + config["wait"])
    except (LockError, OSError, _Terminated) as exc:
        _report(dict(base, status="error", msg=f"cannot take the lock {path}: {str(exc) or 'terminated'}"))
        return 2
    if outcome is not None:
        _report(dict(base, waited=int(round(time.monotonic() - started)), **outcome))
        return 1 if outcome["status"] == "busy" else 0
    code = 0
    try:
        info = {
            "name": config["name"],
            "pid": config["owner_pid"],
            "pid_start": config["owner_start"],
            "holder_pid": os.getpid(),
            "holder_start": process_start(os.getpid()),
            "host": socket.gethostname(),
            "since": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        _write_info(descriptor, info)
        _report(dict(base, status="acquired", owner=info))
        _hold_while_the_run_lives(config, descriptor, info)
    except _Terminated:
        code = 0  # a release
    except OSError:
        code = 2  # the info or the report could not be written (the reader is gone): give it up
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Cleared while still locked, so that the next holder's info is never wiped.
    with contextlib.suppress(OSError):
        os.ftruncate(descriptor, 0)
    os.close(descriptor)
    return code


def _write_info(descriptor, info):
    data = json.dumps(info).encode()
    os.pwrite(descriptor, data, 0)
    os.ftruncate(descriptor, len(data))


def _hold_while_the_run_lives(config, descriptor, info):
    """Returns when the run is over: its owner has exited and, for a marked run, every worker
    (the pipe's end-of-file) and every module (no process carries the token). While only
    leftovers of a dead owner run, the lock file names them, for the next run's message."""
    token, run_fd = config.get("run_token"), config.get("run_fd")
    if token is None:
        while process_start(config["owner_pid"]) == config["owner_start"]:
            time.sleep(POLL)
        return
    pipe_inode = os.fstat(run_fd).st_ino
    with selectors.DefaultSelector() as selector:
        selector.register(run_fd, selectors.EVENT_READ)
        while True:
            # Nobody writes to the pipe: it is readable only at end-of-file.
            if selector.select(POLL) and not os.read(run_fd, 1):
                break
            if process_start(config["owner_pid"]) != config["owner_start"]:
                _note_leftovers(descriptor, info, token, pipe_inode)
    os.close(run_fd)
    while True:
        if not _note_leftovers(descriptor, info, token):
            return
        time.sleep(POLL)


def _note_leftovers(descriptor, info, token, pipe_inode=None):
    """Writes the dead owner's live processes into the lock file; returns them."""
    leftovers = [{"pid": pid, "command": command}
                 for pid, command in marked_processes(token, pipe_inode, exclude=(os.getpid(),))]
    if leftovers != info.get("leftovers"):
        info["leftovers"] = leftovers
        _write_info(descriptor, info)
    return leftovers


# The side of the owner's worker (the action plugin): start a holder, read its report, signal it.


def _read_report(proc, timeout):
    """The holder's report: everything it writes until it detaches its stdout (EOF), bounded by
    ``timeout``. Its last line is the JSON report; anything before is a traceback."""
    deadline = time.monotonic() + timeout
    chunks = []
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                proc.kill()
                proc.wait(RELEASE_TIMEOUT)
                raise LockError(f"the lock holder did not answer within {timeout} s")
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            chunks.append(chunk)
    proc.stdout.close()
    text = b"".join(chunks).decode("utf-8", "replace").strip()
    try:
        report = json.loads(text.splitlines()[-1])
    except (ValueError, IndexError):
        report = None
    if not isinstance(report, dict) or "status" not in report:
        proc.kill()
        raise LockError(f"the lock holder failed (exit code {proc.wait(RELEASE_TIMEOUT)}): {text or 'no output'}")
    return report


def acquire(lock_dir, name, owner_pid, wait):
    """Takes the lock ``name`` for process ``owner_pid``, waiting up to ``wait`` seconds.
    Returns the report: ``status`` acquired (a holder now holds it), held (this owner held it
    already) or busy (``owner``: who holds it, when known); raises LockError otherwise."""
    reason = unsupported()
    if reason:
        raise LockError(reason)
    check_wait(wait)
    # The holder runs in /, the caller anywhere: both must name the same file.
    lock_dir = os.path.abspath(lock_dir)
    owner_start = process_start(owner_pid)
    if owner_start is None:
        raise LockError(f"the owner process {owner_pid} is gone")
    config = {"lock_dir": lock_dir, "name": name, "owner_pid": owner_pid, "owner_start": owner_start, "wait": wait}
    mark = run_mark(owner_pid)
    if mark:
        config.update(run_token=mark[0], run_fd=mark[1])
    # -I: the script's directory (module_utils) must not shadow the standard library. A new
    # session: the holder outlives this worker and ignores the playbook's terminal. A minimal
    # environment: it lives as long as the run, and needs none of the run's secrets (nor the
    # run's token: it is not one of the processes it waits for). Of the run's pipe it gets
    # the read end only, so that its end-of-file means every worker has gone.
    proc = subprocess.Popen(
        [sys.executable, "-I", os.path.abspath(__file__), "hold", json.dumps(config)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        cwd="/", env={"PATH": os.defpath}, close_fds=True, pass_fds=(mark[1],) if mark else (),
        start_new_session=True,
    )
    report = _read_report(proc, wait + HANDSHAKE_MARGIN)
    if report["status"] != "acquired":
        proc.wait(RELEASE_TIMEOUT)
    if report["status"] == "error":
        raise LockError(report.get("msg", "the lock holder failed"))
    return report


def _wait_gone(pid, start, timeout):
    deadline = time.monotonic() + timeout
    while process_start(pid) == start:
        if time.monotonic() >= deadline:
            return False
        time.sleep(RETRY)
    return True


def release(lock_dir, name, owner_pid):
    """Releases the lock ``name`` if a holder holds it for ``owner_pid``; returns the owner info
    it had, or None when this owner did not hold it (someone else's holder is never touched)."""
    reason = unsupported()
    if reason:
        raise LockError(reason)
    owner_start = process_start(owner_pid)
    path = lock_path(os.path.abspath(lock_dir), name)
    info = held_by(path, owner_pid, owner_start) if owner_start is not None else None
    if info is None:
        return None
    holder, holder_start = info["holder_pid"], info["holder_start"]
    os.kill(holder, signal.SIGTERM)
    if _wait_gone(holder, holder_start, RELEASE_TIMEOUT):
        return info
    # It did not end in time (stopped, swapped out): it is ours, so end it for sure.
    if _is_holder(holder, holder_start):
        os.kill(holder, signal.SIGKILL)
    if not _wait_gone(holder, holder_start, 2):
        raise LockError(f"the lock holder {holder} of {path} did not end")
    return info


def main(argv):
    if len(argv) != 2 or argv[0] != "hold":
        sys.stderr.write(f"usage: {SCRIPT} hold <json config>\n")
        return 2
    return hold(json.loads(argv[1]))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
