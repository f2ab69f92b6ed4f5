"""Running the real ansible CLIs against this checkout as the dinfra.chain collection."""
import json
import os
import pathlib
import subprocess
import sys
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / ".dev" / "collections"
BIN = pathlib.Path(sys.executable).parent

# The ansible-core releases the tests run the CLIs of: those meta/runtime.yml declares (2.19).
CONTROLLERS = {"core-2.19": BIN}


def ansible_env(bin_dir=BIN, **overrides):
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        PATH=f"{bin_dir}:{env.get('PATH', '')}",
    )
    env.update(overrides)
    return env


def run(args, env, cwd=None, timeout=300, bin_dir=BIN):
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        check=False,  # callers assert on the return code with the output in the message
    )


_ONE_TASK = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: The module under test
      {module}: {args}
      register: outcome
      ignore_errors: true
    - name: Keep its result
      check_mode: false
      ansible.builtin.copy:
        content: "{{{{ outcome | to_json }}}}"
        dest: "{out}"
"""


def run_module(tmp_path, module, args, *flags, **env):
    """Runs one task of ``module`` with ``args`` through ansible-playbook; returns what it
    registered (its result, or its failure)."""
    name = uuid.uuid4().hex[:8]
    out, playbook = tmp_path / f"{name}.json", tmp_path / f"{name}.yml"
    playbook.write_text(_ONE_TASK.format(module=module, args=json.dumps(args), out=out))
    result = run(["ansible-playbook", "-i", "localhost,", str(playbook), *flags], ansible_env(**env))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text())
