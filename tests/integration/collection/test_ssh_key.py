"""dinfra.chain.ssh_key and the dinfra.chain.ssh_public_key filter through the real
ansible-playbook on localhost, checked with the real OpenSSH tools. No chain needed."""
import json
import os
import stat
import subprocess
import uuid

import pytest

from ansible_cli import BIN, CONTROLLERS, ansible_env, run
from ansible_collections.dinfra.chain.plugins.module_utils.ssh_keys import read_openssh_private_key

DEV_PHRASE = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
# paritytech/polkadot-sdk substrate/primitives/keyring/src/ed25519.rs (see tests/unit/test_ssh_keys.py).
ALICE_HEX = "88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee"
ALICE_SS58 = "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"
BOB_SS58 = "5GoNkf6WdbxCFnPdAnYYQyCjAKPJgLNxXwPjwTh6DGg6gN3E"
SR25519_ALICE_SS58 = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
# Not a dev key: a BIP39 reference mnemonic; what a consumer would keep secret.
MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow"
SR25519_ADVICE = "sr25519 keys cannot be SSH keys"


def playbook(tmp_path, tasks, *flags, bin_dir=BIN, **env):
    """Runs ``tasks`` (each registering a name) on localhost; returns what they registered
    and the finished ansible-playbook (its output, for the secret checks)."""
    name = uuid.uuid4().hex[:8]
    out, book = tmp_path / f"{name}.json", tmp_path / f"{name}.yml"
    names = [task["register"] for task in tasks]
    keep = {
        "name": "Keep the results",
        "check_mode": False,
        "ansible.builtin.copy": {
            "content": "{{ {" + ", ".join(f"'{n}': {n}" for n in names) + "} | to_json }}",
            "dest": str(out),
        },
    }
    plays = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
              "tasks": [dict(task, ignore_errors=True) for task in tasks] + [keep]}]
    book.write_text(json.dumps(plays))
    result = run(["ansible-playbook", "-i", "localhost,", str(book), *flags], ansible_env(bin_dir, **env), bin_dir=bin_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text()), result


def ssh_key(register="key", **args):
    return {"name": "ssh_key", "dinfra.chain.ssh_key": args, "register": register}


def filtered(value, fact, **kwargs):
    """A task setting ``fact`` to the filter's line of ``value``; registers ``<fact>_task``.
    Values travel as task variables, so that they reach the filter exactly."""
    arguments = ", ".join(f"{k}=filter_{k}" for k in kwargs)
    return {
        "name": "filter",
        "vars": dict({"filter_value": value}, **{f"filter_{k}": v for k, v in kwargs.items()}),
        "ansible.builtin.set_fact": {fact: "{{ filter_value | dinfra.chain.ssh_public_key(" + arguments + ") }}"},
        "register": fact + "_task",
    }


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def keygen(*args, stdin=None):
    return subprocess.run(["ssh-keygen", *args], input=stdin, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
def test_written_key_round_trips_through_openssh(tmp_path, controller):
    key = tmp_path / "id_dinfra"
    results, _run = playbook(
        tmp_path,
        [
            ssh_key(path=str(key), secret=f"{DEV_PHRASE}//Alice", comment="alice@dinfra"),
            {"name": "filter", "ansible.builtin.set_fact": {
                "from_ss58": "{{ key.ss58_address | dinfra.chain.ssh_public_key('alice@dinfra') }}",
                "from_hex": "{{ key.public_key_hex | dinfra.chain.ssh_public_key(comment='alice@dinfra') }}",
                "bare": "{{ key.ss58_address | dinfra.chain.ssh_public_key }}",
                "bob": "{{ '" + BOB_SS58 + "' | dinfra.chain.ssh_public_key }}",
            }, "register": "lines"},
        ],
        bin_dir=CONTROLLERS[controller],
    )
    written, lines = results["key"], results["lines"]["ansible_facts"]
    assert written["changed"] is True and not written.get("failed")
    assert written["public_key_hex"] == "0x" + ALICE_HEX and written["ss58_address"] == ALICE_SS58
    assert lines["from_ss58"] == lines["from_hex"] == written["public_key"]
    assert mode(key) == 0o600 and mode(f"{key}.pub") == 0o644
    assert (tmp_path / "id_dinfra.pub").read_text() == lines["from_ss58"] + "\n"

    derived = keygen("-y", "-f", str(key))
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.strip() == lines["from_ss58"]

    listed = keygen("-l", "-f", str(key))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["256", written["fingerprint"], "alice@dinfra", "(ED25519)"]

    message = tmp_path / "message"
    message.write_text("log me in")
    signed = keygen("-Y", "sign", "-f", str(key), "-n", "dinfra", str(message))
    assert signed.returncode == 0, signed.stderr
    for signer, accepted in ((lines["bare"], True), (lines["bob"], False)):
        (tmp_path / "allowed_signers").write_text(f"consumer {signer}\n")
        verified = keygen("-Y", "verify", "-f", str(tmp_path / "allowed_signers"), "-I", "consumer", "-n", "dinfra",
                          "-s", f"{message}.sig", stdin=message.read_text())
        assert (verified.returncode == 0) is accepted, verified.stdout + verified.stderr


def test_idempotent_and_repairs_mode_and_comment(tmp_path):
    key = tmp_path / "id"
    task = ssh_key(path=str(key), secret="//Bob")
    first, _run = playbook(tmp_path, [task])
    assert first["key"]["changed"] is True
    content = key.read_bytes()

    again, _run = playbook(tmp_path, [task])
    assert again["key"]["changed"] is False and key.read_bytes() == content

    key.chmod(0o644)
    (tmp_path / "id.pub").chmod(0o600)
    repaired, _run = playbook(tmp_path, [task])
    assert repaired["key"]["changed"] is True
    assert mode(key) == 0o600 and mode(f"{key}.pub") == 0o644 and key.read_bytes() == content

    recommented, _run = playbook(tmp_path, [ssh_key(path=str(key), secret="//Bob", comment="bob")])
    assert recommented["key"]["changed"] is True
    assert keygen("-y", "-f", str(key)).stdout.strip() == recommented["key"]["public_key"]
    assert recommented["key"]["public_key"].endswith(" bob")

    (tmp_path / "id.pub").write_text("ssh-ed25519 AAAA stale\n")
    refreshed, _run = playbook(tmp_path, [ssh_key(path=str(key), secret="//Bob", comment="bob")])
    assert refreshed["key"]["changed"] is True
    assert (tmp_path / "id.pub").read_text() == recommented["key"]["public_key"] + "\n"


def test_check_mode_writes_nothing_and_diffs_the_public_key(tmp_path):
    key = tmp_path / "keys" / "id"
    key.parent.mkdir()
    results, finished = playbook(tmp_path, [ssh_key(path=str(key), secret="//Alice")], "--check", "--diff")
    assert results["key"]["changed"] is True
    assert list(key.parent.iterdir()) == []
    assert results["key"]["public_key"] in finished.stdout  # the .pub diff
    assert "-----BEGIN" not in finished.stdout

    playbook(tmp_path, [ssh_key(path=str(key), secret="//Alice")])
    before = {p.name: p.read_bytes() for p in key.parent.iterdir()}
    results, _run = playbook(tmp_path, [ssh_key(path=str(key), secret="//Bob", force=True)], "--check")
    assert results["key"]["changed"] is True and results["key"]["ss58_address"] == BOB_SS58
    assert {p.name: p.read_bytes() for p in key.parent.iterdir()} == before


def test_the_secret_never_appears_in_output(tmp_path):
    key = tmp_path / "id"
    secret = f"{MNEMONIC}//ssh"
    tasks = [
        ssh_key(path=str(key), secret=secret, comment="me"),
        ssh_key("again", path=str(key), comment="me"),  # from DINFRA_SSH_SECRET
        ssh_key("broken", path=str(tmp_path / "other"), secret=MNEMONIC.replace("yellow", "wave") + "//ssh"),
    ]
    results, finished = playbook(tmp_path, tasks, "-vvv", "--diff", DINFRA_SSH_SECRET=secret)
    assert results["key"]["changed"] is True and results["again"]["changed"] is False
    assert results["broken"]["failed"] is True and "not a valid ed25519" in results["broken"]["msg"]
    assert not (tmp_path / "other").exists()

    pem = key.read_text().splitlines()
    seed_hex = read_openssh_private_key(key.read_bytes())[0].hex()
    output = finished.stdout + finished.stderr
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output  # -vvv did show the module's arguments
    for leaked in (secret, MNEMONIC, MNEMONIC.replace("yellow", "wave"), seed_hex, *pem[2:-1]):
        assert leaked not in output
    assert "winner thank" not in output


def test_sr25519_and_soft_paths_are_clear_errors(tmp_path):
    results, _run = playbook(
        tmp_path,
        [
            ssh_key("sr", path=str(tmp_path / "sr"), secret="//Alice", crypto_type="sr25519"),
            ssh_key("soft", path=str(tmp_path / "soft"), secret="//Alice/soft"),
            filtered(ALICE_SS58, "named_sr", crypto="sr25519"),
            filtered(SR25519_ALICE_SS58, "sr_account"),
        ],
    )
    assert results["sr"]["failed"] and SR25519_ADVICE in results["sr"]["msg"]
    assert "//ssh" in results["sr"]["msg"] and "ssh.authorized_keys" in results["sr"]["msg"]
    assert results["soft"]["failed"] and "no soft derivation" in results["soft"]["msg"]
    assert SR25519_ADVICE in results["named_sr_task"]["msg"]
    assert "not an ed25519 public key" in results["sr_account_task"]["msg"]
    assert SR25519_ADVICE in results["sr_account_task"]["msg"]
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".yml"]


def test_bad_accounts_are_clear_filter_errors(tmp_path):
    cases = {
        "malformed": ("5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTp0", "outside base58"),
        "checksum": ("5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpv", "checksum does not match"),
        "short_hex": ("0x" + ALICE_HEX[:-2], "has 32 bytes, this one has 31"),
        "newline": (ALICE_SS58, "one line"),
    }
    tasks = [filtered(value, name, **({"comment": "a\nb"} if name == "newline" else {}))
             for name, (value, _message) in cases.items()]
    results, _run = playbook(tmp_path, tasks)
    for name, (value, message) in cases.items():
        failure = results[name + "_task"]
        assert failure["failed"] and message in failure["msg"], failure
        assert value not in failure["msg"].split("dinfra.chain.ssh_public_key: ", 1)[1]


def test_unwritable_and_unreadable_paths_leave_nothing(tmp_path):
    (tmp_path / "a_file").write_text("")
    (tmp_path / "a_dir").mkdir()
    foreign = tmp_path / "foreign"
    keygen("-q", "-t", "ed25519", "-N", "", "-C", "mine", "-f", str(foreign))
    foreign_key = foreign.read_bytes()
    results, _run = playbook(
        tmp_path,
        [
            ssh_key("missing", path=str(tmp_path / "missing" / "id"), secret="//Alice"),
            ssh_key("under_file", path=str(tmp_path / "a_file" / "id"), secret="//Alice"),
            ssh_key("is_dir", path=str(tmp_path / "a_dir"), secret="//Alice"),
            ssh_key("foreign_kept", path=str(foreign), secret="//Alice"),
        ],
    )
    assert "does not exist" in results["missing"]["msg"]
    assert "is not a directory" in results["under_file"]["msg"]
    assert "is a directory, not a key file" in results["is_dir"]["msg"]
    assert "holds another private key" in results["foreign_kept"]["msg"] and "force" in results["foreign_kept"]["msg"]
    assert all(results[n]["failed"] for n in ("missing", "under_file", "is_dir", "foreign_kept"))
    assert foreign.read_bytes() == foreign_key
    assert not (tmp_path / "missing").exists() and list((tmp_path / "a_dir").iterdir()) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files

    replaced, _run = playbook(tmp_path, [ssh_key(path=str(foreign), secret="//Alice", force=True)])
    assert replaced["key"]["changed"] is True and replaced["key"]["ss58_address"] == ALICE_SS58
    assert keygen("-y", "-f", str(foreign)).stdout.strip() == replaced["key"]["public_key"]


def test_absent_removes_both_files(tmp_path):
    key = tmp_path / "id"
    playbook(tmp_path, [ssh_key(path=str(key), secret="//Alice")])
    checked, _run = playbook(tmp_path, [ssh_key(path=str(key), state="absent")], "--check")
    assert checked["key"]["changed"] is True and key.exists()
    removed, _run = playbook(tmp_path, [ssh_key(path=str(key), state="absent")])
    assert removed["key"]["changed"] is True
    assert not key.exists() and not (tmp_path / "id.pub").exists()
    again, _run = playbook(tmp_path, [ssh_key(path=str(key), state="absent")])
    assert again["key"]["changed"] is False


_UNSAFE_KEYS_PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    # As the dinfra.chain.descriptor lookup returns a consumer's data: marked unsafe.
    authorized_keys: !unsafe ["{ss58}", "0x{hex}"]
  tasks:
    - name: The lines for cloud-init
      ansible.builtin.copy:
        content: "{{{{ authorized_keys | map('dinfra.chain.ssh_public_key', 'consumer') | list | to_json }}}}"
        dest: "{out}"
"""


@pytest.mark.parametrize("controller", sorted(CONTROLLERS))
def test_filter_maps_over_unsafe_descriptor_keys(tmp_path, controller):
    out, book = tmp_path / "lines.json", tmp_path / "play.yml"
    book.write_text(_UNSAFE_KEYS_PLAY.format(ss58=ALICE_SS58, hex=ALICE_HEX, out=out))
    bin_dir = CONTROLLERS[controller]
    finished = run(["ansible-playbook", "-i", "localhost,", str(book)], ansible_env(bin_dir), bin_dir=bin_dir)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjcNBfVBY7EtFA+DBLqGgqJviAP6YkiQj1DNAFPprDu consumer"
    assert json.loads(out.read_text()) == [line, line]


def test_a_secret_without_path_warns(tmp_path):
    results, _run = playbook(tmp_path, [ssh_key(path=str(tmp_path / "id"), secret=MNEMONIC)])
    assert results["key"]["changed"] is True
    assert any("no derivation path" in warning for warning in results["key"]["warnings"])


def test_runs_without_substrate_interface(tmp_path):
    """The module needs cryptography, and py-bip39-bindings for a mnemonic; nothing else."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    for package in ("substrateinterface", "bip39"):
        (blocked / f"{package}.py").write_text("raise ImportError('not installed on this host')\n")
    seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    results, _run = playbook(
        tmp_path,
        [
            ssh_key("seed", path=str(tmp_path / "seed"), secret=seed, secret_type="seed"),
            ssh_key("mnemonic", path=str(tmp_path / "mnemonic"), secret=f"{MNEMONIC}//ssh"),
        ],
        PYTHONPATH=str(blocked),
    )
    # RFC 8032 test 1, as in tests/unit/test_ssh_keys.py.
    assert results["seed"]["public_key_hex"] == "0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert results["mnemonic"]["failed"] and "py-bip39-bindings is required" in results["mnemonic"]["msg"]
    assert not (tmp_path / "mnemonic").exists()
