"""dinfra.chain.reactor_lock through the real ansible-playbook and
ansible-runner on localhost: concurrent runs, a killed run, release and re-acquire, check mode.
No chain needed."""
import json
import os
import signal
import socket
import subprocess
import time
import uuid

import pytest

from ansible_cli import BIN, CONTROLLERS, ansible_env, run
from ansible_collections.dinfra.chain.plugins.module_utils.run_lock import lock_path, process_start

NAME = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY ws://127.0.0.1:9944"

# Takes the lock, says so in <out>.held, holds it until <go> exists, releases it; <out> gets
# what the lock tasks returned, also when one failed (the run still fails).
HOLD = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Hold the lock
      block:
        - name: Take the lock
          dinfra.chain.reactor_lock:
            name: "{{ lock_name }}"
            lock_dir: "{{ lock_dir }}"
            wait: "{{ lock_wait }}"
          register: taken
        - name: Say it is held
          ansible.builtin.copy:
            content: "{{ taken | to_json }}"
            dest: "{{ out }}.held"
          check_mode: false
        - name: Hold it until the test says go
          ansible.builtin.wait_for:
            path: "{{ go }}"
            timeout: 120
        - name: Release it
          dinfra.chain.reactor_lock:
            name: "{{ lock_name }}"
            lock_dir: "{{ lock_dir }}"
            state: released
          register: released
      always:
        - name: Keep the results
          ansible.builtin.copy:
            content: "{{ {'taken': taken | default(None), 'released': released | default(None)} | to_json }}"
            dest: "{{ out }}"
          check_mode: false
"""

# One run: take, take again, release, release again, take again (the run's end frees it).
CYCLE = """\
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    dinfra.chain.reactor_lock:
      name: "{{ lock_name }}"
      lock_dir: "{{ lock_dir }}"
      wait: 5
  tasks:
    - name: Take
      dinfra.chain.reactor_lock:
      register: first
    - name: Take again
      dinfra.chain.reactor_lock:
      register: again
    - name: Release
      dinfra.chain.reactor_lock:
        state: released
      register: released
    - name: Release again
      dinfra.chain.reactor_lock:
        state: released
      register: released_again
    - name: Take after the release
      dinfra.chain.reactor_lock:
      register: retaken
    - name: Keep the results
      ansible.builtin.copy:
        content: "{{ {'first': first, 'again': again, 'released': released, 'released_again': released_again, 'retaken': retaken} | to_json }}"
        dest: "{{ out }}"
      check_mode: false
"""


@pytest.fixture
def lock_run(tmp_path):
    """Starts runs of HOLD (``go`` the file that lets it finish; an existing one for a run that
    should not hold the lock long); at the end lets every run go and kills what is left, so that
    no worker of a killed run waits on."""
    lock_dir = tmp_path / "locks"
    (tmp_path / "HOLD.yml").write_text(HOLD)
    started = []

    def start(bin_dir=BIN, wait=30, go=None, flags=()):
        tag = uuid.uuid4().hex[:8]
        out, go = tmp_path / f"{tag}.json", go or tmp_path / f"{tag}.go"
        extra = {"lock_name": NAME, "lock_dir": str(lock_dir), "lock_wait": wait, "out": str(out), "go": str(go)}
        proc = subprocess.Popen(
            [str(bin_dir / "ansible-playbook"), "-i", "localhost,", str(tmp_path / "HOLD.yml"), "-e", json.dumps(extra), *flags],
            env=ansible_env(bin_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        started.append((proc, go))
        return proc, out, go

    yield start
    for proc, go in started:
        go.touch()
    for proc, go in started:
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def wait_for_file(path, proc, seconds=90):
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended ({proc.returncode}) before {path.name}:\n{proc.stdout.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {path} after {seconds} s")
        time.sleep(0.1)
    # Written by ansible.builtin.copy atomically (a rename): once there, it is whole.
    return json.loads(path.read_text())


def finish(proc):
    output = proc.communicate(timeout=120)[0]
    return proc.returncode, output


@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
def test_a_concurrent_run_fails_clearly_and_the_first_completes(lock_run, controller, tmp_path):
    bin_dir = CONTROLLERS[controller]
    first, first_out, first_go = lock_run(bin_dir)
    held = wait_for_file(first_out.with_name(first_out.name + ".held"), first)
    assert held["changed"] is True and held["owner"]["pid"] == first.pid
    assert held["lock_path"] == lock_path(str(tmp_path / "locks"), NAME)
    # A static inventory does not mark the run: the lock covers ansible-playbook alone.
    assert held["covers"] == "owner"

    second, second_out, second_go = lock_run(bin_dir, wait=1)
    code, output = finish(second)
    assert code == 2, output
    taken = json.loads(second_out.read_text())["taken"]
    assert taken["failed"] is True and not taken.get("changed")
    assert taken["msg"] == (
        f'another reactor run holds the lock "{NAME}": ansible-playbook pid {first.pid} on host {socket.gethostname()} '
        f'since {held["owner"]["since"]} (waited 1 s)'
    )
    assert taken["owner"] == held["owner"] and taken["lock_path"] == held["lock_path"]
    assert not second_go.exists()

    first_go.touch()
    code, output = finish(first)
    assert code == 0, output
    results = json.loads(first_out.read_text())
    assert results["released"]["changed"] is True and results["released"]["owner"] == held["owner"]


@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
def test_a_killed_run_frees_the_lock_for_the_next(lock_run, controller):
    bin_dir = CONTROLLERS[controller]
    first, first_out, first_go = lock_run(bin_dir)
    held = wait_for_file(first_out.with_name(first_out.name + ".held"), first)
    holder = held["owner"]["holder_pid"], held["owner"]["holder_start"]
    assert process_start(holder[0]) == holder[1]

    first.send_signal(signal.SIGKILL)
    first.wait()
    second, second_out, second_go = lock_run(bin_dir, wait=20)
    second_go.touch()
    code, output = finish(second)
    assert code == 0, output
    results = json.loads(second_out.read_text())
    assert results["taken"]["changed"] is True and results["taken"]["owner"]["pid"] == second.pid
    assert process_start(holder[0]) != holder[1]
    assert not first_out.exists()


@pytest.mark.parametrize("check", [False, True], ids=["run", "check-mode"])
@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
def test_release_then_take_again_in_one_run(controller, check, tmp_path):
    bin_dir = CONTROLLERS[controller]
    out, book = tmp_path / "cycle.json", tmp_path / "cycle.yml"
    book.write_text(CYCLE)
    extra = {"lock_name": NAME, "lock_dir": str(tmp_path / "locks"), "out": str(out)}
    result = run(["ansible-playbook", "-i", "localhost,", str(book), "-e", json.dumps(extra), *(["--check"] if check else [])],
                 ansible_env(bin_dir), bin_dir=bin_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads(out.read_text())
    assert [results[k]["changed"] for k in ("first", "again", "released", "released_again", "retaken")] == [True, False, True, False, True]
    first, retaken = results["first"]["owner"], results["retaken"]["owner"]
    assert results["again"]["owner"] == first and results["released"]["owner"] == first
    assert "owner" not in results["released_again"]
    assert retaken["pid"] == first["pid"] and retaken["holder_pid"] != first["holder_pid"]
    # The run has ended, and so has its last holder: the next run gets the lock at once.
    deadline = time.monotonic() + 5
    while process_start(retaken["holder_pid"]) == retaken["holder_start"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process_start(retaken["holder_pid"]) != retaken["holder_start"]


def test_ansible_runner_runs_own_the_lock_by_their_ansible_playbook(lock_run, tmp_path):
    """Under ansible-runner the owner is still ansible-playbook (the worker's parent), not the runner."""
    private = tmp_path / "runner"
    (private / "project").mkdir(parents=True)
    (private / "project" / "hold.yml").write_text(HOLD)
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    out, go = tmp_path / "runner.json", tmp_path / "runner.go"
    extra = {"lock_name": NAME, "lock_dir": str(tmp_path / "locks"), "lock_wait": 30, "out": str(out), "go": str(go)}
    (private / "env").mkdir()
    (private / "env" / "extravars").write_text(json.dumps(extra))
    runner = subprocess.Popen([str(BIN / "ansible-runner"), "run", str(private), "-p", "hold.yml"],
                              env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        held = wait_for_file(out.with_name(out.name + ".held"), runner)
        owner = held["owner"]["pid"]
        assert owner != runner.pid
        with open(f"/proc/{owner}/cmdline", "rb") as cmdline:
            assert os.path.basename(cmdline.read().split(b"\0")[1]) == b"ansible-playbook"

        other, other_out, other_go = lock_run(wait=0)
        code, output = finish(other)
        assert code == 2, output
        assert f"ansible-playbook pid {owner} on host" in json.loads(other_out.read_text())["taken"]["msg"]
        assert not other_go.exists()
    finally:
        go.touch()
        code, output = finish(runner)
    assert code == 0, output
    assert json.loads(out.read_text())["released"]["changed"] is True
