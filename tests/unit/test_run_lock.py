"""The reactor lock's holder with real processes and no Ansible: a `sleep` process stands for
the ansible-playbook run that owns the lock."""
import datetime
import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

from conftest import COLLECTIONS
from ansible_collections.dinfra.chain.plugins.module_utils import run_lock
from ansible_collections.dinfra.chain.plugins.module_utils.run_lock import LockError, acquire, process_start, read_owner, release

NAME = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY ws://127.0.0.1:9944"


@pytest.fixture
def owner():
    """Starts stand-ins for ansible-playbook runs; kills them at the end, and with them their holders."""
    started = []

    def start():
        proc = subprocess.Popen(["sleep", "600"])
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


@pytest.fixture
def lock_dir(tmp_path):
    return str(tmp_path / "locks")


def gone_within(pid, start, seconds):
    deadline = time.monotonic() + seconds
    while process_start(pid) == start:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def holder_of(report):
    return report["owner"]["holder_pid"], report["owner"]["holder_start"]


def test_a_holder_acquires_and_describes_its_owner(owner, lock_dir):
    run = owner()
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    report = acquire(lock_dir, NAME, run.pid, 5)
    assert report["status"] == "acquired"
    info = report["owner"]
    assert info["name"] == NAME and info["pid"] == run.pid and info["pid_start"] == process_start(run.pid)
    assert info["host"] == socket.gethostname()
    since = datetime.datetime.strptime(info["since"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert before <= since <= datetime.datetime.now(datetime.timezone.utc)
    holder, holder_start = holder_of(report)
    assert holder not in (os.getpid(), run.pid) and process_start(holder) == holder_start
    # Only a hash of the name, which holds an address and a URL, is in the file name.
    digest = hashlib.sha256(NAME.encode()).hexdigest()[:16]
    assert report["lock_path"] == os.path.join(lock_dir, f"reactor-{digest}.lock")
    assert read_owner(report["lock_path"]) == info
    assert stat.S_IMODE(os.stat(lock_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(report["lock_path"]).st_mode) == 0o600


def test_the_holder_is_detached(owner, lock_dir):
    report = acquire(lock_dir, NAME, owner().pid, 5)
    holder = report["owner"]["holder_pid"]
    # Its own session: Ctrl-C in the playbook's terminal does not reach it.
    assert os.getsid(holder) == holder
    # Nothing inherited: stdio on /dev/null (the report pipe is closed), the lock file, no other fd.
    # Every 0.5 s the holder reads its owner's /proc/<pid>/stat for an instant; look between reads.
    for _attempt in range(50):
        targets = sorted(os.readlink(f"/proc/{holder}/fd/{fd}") for fd in os.listdir(f"/proc/{holder}/fd"))
        if not any(target.startswith("/proc/") for target in targets):
            break
        time.sleep(0.02)
    assert targets == sorted([os.devnull] * 3 + [report["lock_path"]])
    assert os.readlink(f"/proc/{holder}/cwd") == "/"


def test_the_same_owner_holds_it_already(owner, lock_dir):
    run = owner()
    first = acquire(lock_dir, NAME, run.pid, 5)
    again = acquire(lock_dir, NAME, run.pid, 0)
    assert again["status"] == "held"
    assert again["owner"] == first["owner"]


def test_a_second_run_is_busy_after_its_wait_and_says_who_holds_it(owner, lock_dir):
    first = acquire(lock_dir, NAME, owner().pid, 5)
    started = time.monotonic()
    busy = acquire(lock_dir, NAME, owner().pid, 1)
    waited = time.monotonic() - started
    assert busy["status"] == "busy"
    assert 1 <= waited < 5
    assert busy["owner"] == first["owner"] and busy["waited"] == 1
    info = first["owner"]
    assert run_lock.busy_message(busy) == (
        f'another reactor run holds the lock "{NAME}": ansible-playbook pid {info["pid"]} on host {info["host"]} '
        f'since {info["since"]} (waited 1 s)'
    )
    # The waiting holder gave up and is gone; the first still holds the lock.
    assert process_start(first["owner"]["holder_pid"]) == first["owner"]["holder_start"]
    assert read_owner(first["lock_path"]) == first["owner"]


def test_wait_zero_tries_once(owner, lock_dir):
    acquire(lock_dir, NAME, owner().pid, 5)
    started = time.monotonic()
    assert acquire(lock_dir, NAME, owner().pid, 0)["status"] == "busy"
    assert time.monotonic() - started < 1


def test_a_waiting_run_gets_the_lock_once_it_is_free(owner, lock_dir):
    first_run = owner()
    first = acquire(lock_dir, NAME, first_run.pid, 5)
    waiter = subprocess.Popen([
        sys.executable, "-c",
        "import json, sys; from ansible_collections.dinfra.chain.plugins.module_utils.run_lock import acquire; "
        f"print(json.dumps(acquire({lock_dir!r}, {NAME!r}, int(sys.argv[1]), 20)))",
        str(owner().pid),
    ], stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    time.sleep(1)
    first_run.kill()
    out = waiter.communicate(timeout=30)[0]
    second = json.loads(out)
    assert second["status"] == "acquired" and second["owner"]["pid"] != first["owner"]["pid"]


def test_a_different_name_is_independent(owner, lock_dir):
    first = acquire(lock_dir, NAME, owner().pid, 5)
    other = acquire(lock_dir, NAME + " again", owner().pid, 0)
    assert other["status"] == "acquired" and other["lock_path"] != first["lock_path"]


def test_the_lock_frees_when_its_owner_is_killed(owner, lock_dir):
    run = owner()
    first = acquire(lock_dir, NAME, run.pid, 5)
    # Not reaped: a zombie owner is a dead owner too.
    run.send_signal(signal.SIGKILL)
    assert gone_within(*holder_of(first), 2)
    assert read_owner(first["lock_path"]) is None
    started = time.monotonic()
    assert acquire(lock_dir, NAME, owner().pid, 0)["status"] == "acquired"
    assert time.monotonic() - started < 2


def test_sigterm_releases(owner, lock_dir):
    first = acquire(lock_dir, NAME, owner().pid, 5)
    os.kill(first["owner"]["holder_pid"], signal.SIGTERM)
    assert gone_within(*holder_of(first), 2)
    assert acquire(lock_dir, NAME, owner().pid, 0)["status"] == "acquired"


def test_terminal_signals_do_not_release(owner, lock_dir):
    first = acquire(lock_dir, NAME, owner().pid, 5)
    for signum in (signal.SIGINT, signal.SIGHUP):
        os.kill(first["owner"]["holder_pid"], signum)
    assert not gone_within(*holder_of(first), 1)
    assert acquire(lock_dir, NAME, owner().pid, 0)["status"] == "busy"


def test_release_ends_only_the_owners_holder(owner, lock_dir):
    run, other = owner(), owner()
    first = acquire(lock_dir, NAME, run.pid, 5)
    assert release(lock_dir, NAME, other.pid) is None
    assert process_start(first["owner"]["holder_pid"]) == first["owner"]["holder_start"]
    assert release(lock_dir, NAME, run.pid) == first["owner"]
    assert process_start(first["owner"]["holder_pid"]) is None
    assert release(lock_dir, NAME, run.pid) is None
    assert acquire(lock_dir, NAME, other.pid, 0)["status"] == "acquired"
    # Released and taken again by the same run.
    assert acquire(lock_dir, NAME, run.pid, 0)["status"] == "busy"
    assert release(lock_dir, NAME, other.pid)["pid"] == other.pid
    assert acquire(lock_dir, NAME, run.pid, 0)["status"] == "acquired"


def test_a_stale_lock_file_does_not_block(owner, lock_dir):
    dead = subprocess.Popen(["true"])
    dead.wait()
    path = run_lock.lock_path(lock_dir, NAME)
    os.makedirs(lock_dir, mode=0o700)
    stale = {"name": NAME, "pid": dead.pid, "pid_start": 1, "holder_pid": dead.pid, "holder_start": 1,
             "host": "gone", "since": "2020-01-01T00:00:00Z"}
    with open(path, "w", encoding="utf-8") as lock_file:
        json.dump(stale, lock_file)
    report = acquire(lock_dir, NAME, owner().pid, 0)
    assert report["status"] == "acquired" and read_owner(path) == report["owner"]


def test_a_killed_holder_is_replaced_for_the_same_owner(owner, lock_dir):
    run = owner()
    first = acquire(lock_dir, NAME, run.pid, 5)
    os.kill(first["owner"]["holder_pid"], signal.SIGKILL)
    assert gone_within(*holder_of(first), 2)
    # Its info is still in the file, but its holder is gone: not "held", a new holder.
    assert read_owner(first["lock_path"]) == first["owner"]
    again = acquire(lock_dir, NAME, run.pid, 0)
    assert again["status"] == "acquired" and again["owner"]["holder_pid"] != first["owner"]["holder_pid"]


@pytest.mark.parametrize("wait", [-1, 3601])
def test_wait_bounds_are_enforced(owner, lock_dir, wait):
    with pytest.raises(LockError, match="wait must be between 0 and 3600"):
        acquire(lock_dir, NAME, owner().pid, wait)
    assert not os.path.exists(lock_dir)


def test_the_holder_enforces_the_bound_itself(owner, lock_dir):
    run = owner()
    config = {"lock_dir": lock_dir, "name": NAME, "owner_pid": run.pid, "owner_start": process_start(run.pid), "wait": 86400}
    holder = subprocess.run([sys.executable, "-I", run_lock.__file__, "hold", json.dumps(config)],
                            capture_output=True, text=True, timeout=30, check=False)
    assert holder.returncode == 2
    report = json.loads(holder.stdout)
    assert report["status"] == "error" and "wait must be between 0 and 3600" in report["msg"]


def test_the_handshake_is_bounded():
    silent = subprocess.Popen(["sleep", "60"], stdout=subprocess.PIPE)
    started = time.monotonic()
    with pytest.raises(LockError, match="did not answer within 1 s"):
        run_lock._read_report(silent, 1)  # pylint: disable=protected-access
    assert time.monotonic() - started < 5
    assert silent.poll() == -signal.SIGKILL


def test_a_gone_owner_is_refused(lock_dir):
    dead = subprocess.Popen(["true"])
    dead.wait()
    with pytest.raises(LockError, match=f"owner process {dead.pid} is gone"):
        acquire(lock_dir, NAME, dead.pid, 0)


def test_an_unusable_lock_dir_is_an_error(owner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(LockError, match="cannot take the lock"):
        acquire(str(blocker / "locks"), NAME, owner().pid, 0)


def test_a_relative_lock_dir_is_the_callers(owner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = acquire("relative", NAME, owner().pid, 0)
    assert report["lock_path"] == str(tmp_path / "relative" / os.path.basename(report["lock_path"]))
    assert os.path.exists(report["lock_path"])


@pytest.mark.parametrize("environ, expected", [
    ({"DINFRA_LOCK_DIR": "/srv/locks", "XDG_RUNTIME_DIR": "/run/user/7"}, "/srv/locks"),
    ({"XDG_RUNTIME_DIR": "/run/user/7"}, "/run/user/7/dinfra"),
    ({}, os.path.expanduser("~/.cache/dinfra/locks")),
])
def test_the_default_lock_dir(environ, expected):
    assert run_lock.default_lock_dir(environ) == expected


def test_process_start_tells_processes_apart():
    assert process_start(os.getpid()) > 0
    dead = subprocess.Popen(["true"])
    dead.wait()
    assert process_start(dead.pid) is None


# A marked run without Ansible: a stand-in for ansible-playbook marks itself as the deployments
# inventory does, then forks a "worker" that takes the lock as the action plugin does and
# starts a "module" (a separate program, with the worker's environment and none of its
# descriptors, as the local connection runs modules). Each waits for a file of the test's.
MARKED_RUN = r"""
import json, os, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
from ansible_collections.dinfra.chain.plugins.module_utils import run_lock
lock_dir, name, worker_go, module_go = sys.argv[2:6]
run_lock.mark_run()
if os.fork() == 0:
    os.setsid()  # as ansible-core's workers do: out of the run's process group
    report = run_lock.acquire(lock_dir, name, os.getppid(), 5)
    module = subprocess.Popen([sys.executable, "-c", "import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.05)",
                               module_go])
    print(json.dumps({"report": report, "worker": os.getpid(), "module": module.pid,
                      "mark": run_lock.run_mark(os.getppid()) is not None}), flush=True)
    while not os.path.exists(worker_go):
        time.sleep(0.05)
    os._exit(0)
time.sleep(600)
"""


@pytest.fixture
def marked_run(tmp_path, lock_dir):
    """Starts a marked run (see MARKED_RUN); returns (process, its first line, worker go, module go)."""
    started = []

    def start():
        worker_go, module_go = tmp_path / "worker.go", tmp_path / "module.go"
        proc = subprocess.Popen([sys.executable, "-c", MARKED_RUN, str(COLLECTIONS), lock_dir, NAME, str(worker_go), str(module_go)],
                                stdout=subprocess.PIPE, text=True, start_new_session=True)
        started.append((proc, worker_go, module_go))
        return proc, json.loads(proc.stdout.readline()), worker_go, module_go

    yield start
    for proc, worker_go, module_go in started:
        worker_go.touch()
        module_go.touch()
        proc.kill()
        proc.wait()


def busy_now(lock_dir, other):
    report = acquire(lock_dir, NAME, other.pid, 0)
    assert report["status"] == "busy", report
    return run_lock.busy_message(report)


def test_a_marked_run_holds_the_lock_until_its_last_worker_and_module_have_exited(marked_run, owner, lock_dir):
    """The kill a timer's stop or Ctrl-C does: the run's process group, not the workers'."""
    run, first, worker_go, module_go = marked_run()
    assert first["report"]["status"] == "acquired" and first["mark"] is True
    holder = holder_of(first["report"])
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    other = owner()

    # The run's main process is gone; its worker and module are not: still held, and the
    # waiting run is told who is left.
    time.sleep(2 * run_lock.POLL)
    message = busy_now(lock_dir, other)
    assert f"ansible-playbook pid {run.pid}" in message and "which has ended, but 2 of its processes still run" in message
    assert f"pid {first['worker']}: " in message and f"pid {first['module']}: {os.path.basename(sys.executable)} module.go" in message

    worker_start = process_start(first["worker"])
    worker_go.touch()  # the worker ends; its module runs on
    assert gone_within(first["worker"], worker_start, 10)
    deadline = time.monotonic() + 10
    while f"pid {first['worker']}: " in message:
        assert time.monotonic() < deadline, message
        time.sleep(0.1)
        message = busy_now(lock_dir, other)
    assert "1 of its processes still run" in message and f"pid {first['module']}: {os.path.basename(sys.executable)} module.go" in message
    assert process_start(holder[0]) == holder[1]

    module_go.touch()  # the last process of the run ends: the lock is free
    assert gone_within(*holder, 10)
    assert acquire(lock_dir, NAME, other.pid, 5)["status"] == "acquired"


def test_a_marked_run_killed_whole_frees_the_lock(marked_run, owner, lock_dir):
    run, first, _worker_go, _module_go = marked_run()
    holder = holder_of(first["report"])
    for pid in (first["module"], first["worker"], run.pid):
        os.kill(pid, signal.SIGKILL)
    run.wait()
    assert gone_within(*holder, 10)
    assert acquire(lock_dir, NAME, owner().pid, 5)["status"] == "acquired"


def command_of(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return cmdline.read()


def test_only_the_process_that_marked_the_run_and_its_children_see_the_mark(monkeypatch):
    monkeypatch.setattr(run_lock, "_RUN", None)
    monkeypatch.delenv(run_lock.RUN_ENV, raising=False)
    token = run_lock.mark_run()
    try:
        assert os.environ[run_lock.RUN_ENV] == token and run_lock.mark_run() == token  # once per process
        assert token.startswith(f"{os.getpid()}-{process_start(os.getpid())}-")
        # The owner is this process: a worker forked from it sees the mark; nobody else does.
        assert run_lock.run_mark(os.getpid())[0] == token
        assert run_lock.run_mark(os.getppid()) is None
        # A program it starts carries the token, and is found by it, once it runs: between the
        # fork and the exec /proc still shows the environment this process started with (the
        # holder never scans then: such a child still holds the run's pipe).
        child = subprocess.Popen(["sleep", "30"])
        try:
            deadline = time.monotonic() + 10
            while not command_of(child.pid).startswith(b"sleep"):
                assert time.monotonic() < deadline, "sleep never started"
                time.sleep(0.01)
            assert [pid for pid, _command in run_lock.marked_processes(token)] == [child.pid]
        finally:
            child.kill()
            child.wait()
        assert not run_lock.marked_processes(token)
    finally:
        os.close(run_lock._RUN[2])  # pylint: disable=protected-access
        os.close(run_lock._RUN[3])  # pylint: disable=protected-access


@pytest.mark.parametrize("command, shown", [
    ("/bin/sh -c /bin/sh -c '/venv/bin/python3 /root/.ansible/tmp/ansible-tmp-1-2-3/AnsiballZ_cs_instance.py && sleep 0'",
     "sh sh python3 AnsiballZ_cs_instance.py"),
    ("/venv/bin/python3 /venv/bin/ansible-playbook -i /tmp/w/deployments.dinfra.yml dinfra.chain.reconcile "
     "-e cloudstack_secret=s3cr/et -e signer_secret=//Alice -e @/tmp/w/vars.json //Bob",
     "python3 ansible-playbook deployments.dinfra.yml"),
    ("", "?"),
])
def test_a_leftover_is_shown_by_name_and_never_with_its_arguments(command, shown):
    """Another run's output shows it: a value given on the command line may be a secret."""
    assert run_lock.short_command(command) == shown
