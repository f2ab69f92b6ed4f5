"""Substrate ed25519 accounts as OpenSSH keys: derivation vectors, SS58, points, key files,
and the errors for everything that cannot be an SSH key."""
import base64
import json
import os
import pathlib
import subprocess

import nacl.bindings
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from substrateinterface import Keypair, KeypairType
from substrateinterface.utils.ss58 import ss58_decode as si_ss58_decode
from substrateinterface.utils.ss58 import ss58_encode as si_ss58_encode

from ansible_collections.dinfra.chain.plugins.module_utils import ssh_keys
from ansible_collections.dinfra.chain.plugins.module_utils.keys import DEV_PHRASE
from ansible_collections.dinfra.chain.plugins.module_utils.ssh_keys import (
    SshKeyError,
    account_public_key,
    ed25519_public_key,
    fingerprint,
    is_ed25519_public_key,
    openssh_private_key,
    read_openssh_private_key,
    ss58_decode,
    ss58_encode,
    ssh_public_key,
    ssh_seed,
    write_file_atomically,
)

# paritytech/polkadot-sdk, substrate/primitives/keyring/src/ed25519.rs: the public keys of
# `ed25519::Pair::from_string("//<Name>")`, asserted there by `verify_static_public_keys`.
# `//<Name>` is the dev phrase (a BIP39 mnemonic) with a hard path, up to two junctions deep.
POLKADOT_SDK_KEYRING = {
    "Alice": "88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee",
    "Bob": "d17c2d7823ebf260fd138f2d7e27d114c0145d968b5ff5006125f2414fadae69",
    "Charlie": "439660b36c6c03afafca027b910b4fecf99801834c62a5e6006f27d978de234f",
    "Dave": "5e639b43e0052c47447dac87d6fd2b6ec50bdd4d0f614e4299c665249bbd09d9",
    "Eve": "1dfe3e22cc0d45c70779c1095f7489a8ef3cf52d62fbd8c2fa38c9f1723502b5",
    "Ferdie": "568cb4a574c6d178feb39c27dfc8b3f789e5f5423e19c71633c748b9acf086b5",
    "Alice//stash": "451781cd0c5504504f69ceec484cc66e4c22a2b6a9d20fb1a426d91ad074a2a8",
    "Bob//stash": "292684abbb28def63807c5f6e84e9e8689769eb37b1ab130d79dbfbf1b9a0d44",
    "Charlie//stash": "dd6a6118b6c11c9c9e5a4f34ed3d545e2c74190f90365c60c230fa82e9423bb9",
    "Dave//stash": "1d0432d75331ab299065bee79cdb1bdc2497c597a3087b4d955c67e3c000c1e2",
    "Eve//stash": "c833bdd2e1a7a18acc1c11f8596e2e697bb9b42d6b6051e474091a1d43a294d7",
    "Ferdie//stash": "199d749dbf4b8135cb1f3c8fd697a390fc0679881a8a110c1d06375b3b62cd09",
    "One": "16f97016bbea8f7b45ae6757b49efc1080accc175d8f018f9ba719b60b0815e4",
    "Two": "5079bcd20fd97d7d2f752c4607012600b401950260a91821f73e692071c82bf5",
}

# novasamatech/substrate-sdk-ios, Tests/Resources/ed25519HDKD.json: public key and SS58
# (format 42) of the dev phrase with hard paths and passwords, as subkey gives them.
NOVASAMA_ED25519_HDKD = [
    ("", "345071da55e5dccefaaa440339415ef9f2663338a38f7da0df21be5ab4e055ef",
     "5DFJF7tY4bpbpcKPJcBTQaKuCDEPCpiz8TRjpmLeTtweqmXL"),
    ("///password", "cb8d01a021231c0ffe53afd21c037583ce21033f55f26852dd92558d368a17a7",
     "5GfbTwpxUmv7uGFqNiPuBFDtwzUCpwHxAvf2xLVjxdnq3tFT"),
    ("//foo", "50d2344120caf4fde93682c05e8c29a923145a1ff42acac9b5fd4edb9809d892",
     "5Dtg8ay1CqUBzkJuDccrzBzumZyQJHSaCDmPiZ1RFSrqWdra"),
    ("//foo//bar", "5445cca32eb89c60c6cb6a447c2a0ee72a5db3b6b8843a0becdde71f26df781c",
     "5DyCcaUxW76fKSWCSSH1G7CVEBrkiXzcWnFpxRoPyHvU4Vro"),
    ("//foo//bar///password", "4e5945654a4bdb8a1aa1cedc8b344e36d30f1e0888c87f20b950cdc24b870faf",
     "5DqS7QPJxG7vvhPzE5TyJ5dF7G3YhH7k1UFj8qYkYXu1eaeB"),
]

# paritytech/polkadot-sdk, substrate/primitives/core/src/ed25519.rs tests: RFC 8032 TEST 1
# (`test_vector_by_string_should_work`), and `seed_and_derive_should_work`, which derives
# that seed along DeriveJunction::Hard([0; 32]), the chain code of the junction `//0`.
RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SEED_HARD_0 = "ede3354e133f9c8e337ddd6ee5415ed4b4ffe5fc7d21e933f4930a3730e5b21c"

ALICE_SS58 = "5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpu"
BOB_SS58 = "5GoNkf6WdbxCFnPdAnYYQyCjAKPJgLNxXwPjwTh6DGg6gN3E"
# A BIP39 reference mnemonic (trezor/python-mnemonic vectors.json), not a Substrate dev key.
OTHER_MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def public_of(secret, secret_type="auto"):
    return ed25519_public_key(ssh_seed(secret, secret_type))


@pytest.mark.parametrize("name, public", sorted(POLKADOT_SDK_KEYRING.items()))
def test_dev_accounts_match_polkadot_sdk_keyring(name, public):
    assert public_of(f"//{name}").hex() == public
    assert public_of(f"{DEV_PHRASE}//{name}", "suri").hex() == public


@pytest.mark.parametrize("path, public, address", NOVASAMA_ED25519_HDKD)
def test_dev_phrase_paths_and_passwords_match_published_vectors(path, public, address):
    key = public_of(DEV_PHRASE + path)
    assert key.hex() == public
    assert ss58_encode(key) == address


def test_dev_account_addresses():
    """The brief's SS58 addresses of //Alice and //Bob ed25519, from the polkadot-sdk keys,
    agree with ours and with substrate-interface's independent ss58_encode."""
    for name, address in (("Alice", ALICE_SS58), ("Bob", BOB_SS58)):
        key = bytes.fromhex(POLKADOT_SDK_KEYRING[name])
        assert ss58_encode(key) == address == si_ss58_encode(key, 42)
        assert ss58_encode(public_of(f"//{name}")) == address


def test_seed_vectors_from_sp_core():
    assert public_of("0x" + RFC8032_SEED).hex() == RFC8032_PUBLIC
    assert public_of(RFC8032_SEED, "seed").hex() == RFC8032_PUBLIC  # a raw seed needs no 0x
    assert ssh_seed(f"0x{RFC8032_SEED}//0").hex() == RFC8032_SEED_HARD_0


def test_other_mnemonic_root_matches_substrate_interface():
    """Only the root of a non-dev mnemonic has an independent check here: substrate-interface
    derives ed25519 from a mnemonic but refuses paths. Its hard path runs the same code as the
    polkadot-sdk and novasama vectors above."""
    for create in (Keypair.create_from_uri, Keypair.create_from_mnemonic):
        assert public_of(OTHER_MNEMONIC, "mnemonic") == create(OTHER_MNEMONIC, crypto_type=KeypairType.ED25519).public_key
    derived = public_of(f"{OTHER_MNEMONIC}//ssh")
    assert derived not in (public_of(OTHER_MNEMONIC), public_of(f"{OTHER_MNEMONIC}//ssh2"))


@pytest.mark.parametrize("network", [0, 2, 42, 63, 64, 255, 1284, 7391, 16383])
def test_ss58_round_trips_with_substrate_interface(network):
    key = bytes.fromhex(POLKADOT_SDK_KEYRING["Alice"])
    address = si_ss58_encode(key, network)
    assert ss58_encode(key, network) == address
    assert ss58_decode(address) == (network, key)
    assert si_ss58_decode(address, network) == key.hex()


def test_accounts_in_every_form_give_the_same_line():
    line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIjcNBfVBY7EtFA+DBLqGgqJviAP6YkiQj1DNAFPprDu"
    alice = POLKADOT_SDK_KEYRING["Alice"]
    for value in (ALICE_SS58, si_ss58_encode(bytes.fromhex(alice), 0), "0x" + alice, alice, " 0X" + alice.upper() + "\n"):
        assert ssh_public_key(value) == line
    assert ssh_public_key(ALICE_SS58, "alice@dinfra") == line + " alice@dinfra"
    assert ssh_public_key(ALICE_SS58, None) == line


def test_fingerprint_is_ssh_keygens():
    # `ssh-keygen -l` of //Alice's key; the integration tests compare with the real tool.
    assert fingerprint(bytes.fromhex(POLKADOT_SDK_KEYRING["Alice"])) == "SHA256:3Rh3qucaBpMVQlq4w1W4X1DJRqR30tc93Qs6KMKWyPk"


def test_point_check_agrees_with_libsodium():
    for _n in range(1000):
        candidate = os.urandom(32)
        assert is_ed25519_public_key(candidate) == nacl.bindings.crypto_core_ed25519_is_valid_point(candidate)
    for public in POLKADOT_SDK_KEYRING.values():
        assert is_ed25519_public_key(bytes.fromhex(public))
    identity, order_two = bytes([1]) + bytes(31), (2**255 - 20).to_bytes(32, "little")
    assert not is_ed25519_public_key(identity) and not is_ed25519_public_key(order_two)


ALICE = bytes.fromhex(POLKADOT_SDK_KEYRING["Alice"])


def ss58_of(body):
    """An SS58 string with a valid checksum around any bytes."""
    return ssh_keys.b58encode(body + ssh_keys._ss58_checksum(body))


@pytest.mark.parametrize(
    "value, message",
    [
        ("5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTp0", "outside base58"),
        ("5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTpv", "checksum does not match"),
        ("5FA9nQDVg267DEd8m1ZypXLBnvN7SFxYwV7ndqSYGiN9TTp", "valid network prefix"),  # a character short
        (ss58_of(bytes([42]) + ALICE[:31]), "decodes to 34 bytes, not the 35"),
        (si_ss58_encode(b"\2" * 33, 42), "decodes to 36 bytes, not the 35"),
        (si_ss58_encode(b"\7" * 8, 42), "decodes to 10 bytes, not the 35"),
        (si_ss58_encode(ALICE + b"\0", 4242), "decodes to 37 bytes, not the 36"),
        (ssh_keys.b58encode(bytes([200]) + bytes(34)), "valid network prefix"),
        (ss58_of(bytes([46]) + ALICE), "reserved network format 46"),
        ("0x" + "ab" * 31, "has 32 bytes, this one has 31"),
        ("0x" + "ab" * 33, "has 32 bytes, this one has 33"),
        ("0x" + "zz" * 32, "not valid hexadecimal"),
        ("", "empty"),
        (42, "not int"),
    ],
)
def test_malformed_accounts_are_clear_errors(value, message):
    with pytest.raises(SshKeyError) as info:
        account_public_key(value)
    assert message in str(info.value)
    if isinstance(value, str) and value:
        assert value not in str(info.value)


def test_sr25519_is_refused_with_advice():
    with pytest.raises(SshKeyError, match="sr25519 keys cannot be SSH keys.*//ssh.*ssh.authorized_keys"):
        ssh_public_key(ALICE_SS58, crypto="sr25519")
    sr25519_alice = Keypair.create_from_uri("//Alice").ss58_address
    with pytest.raises(SshKeyError, match="not an ed25519 public key.*sr25519 keys cannot be SSH keys"):
        ssh_public_key(sr25519_alice)
    with pytest.raises(SshKeyError, match="crypto must be ed25519"):
        ssh_public_key(ALICE_SS58, crypto="ecdsa")


@pytest.mark.parametrize("comment", ["two\nlines", "carriage\rreturn", "nul\0", "tab\there"])
def test_comments_that_would_break_authorized_keys_are_refused(comment):
    with pytest.raises(SshKeyError, match="one line"):
        ssh_public_key(ALICE_SS58, comment)


@pytest.mark.parametrize(
    "secret, secret_type, message",
    [
        ("//Alice/soft", "auto", "no soft derivation"),
        (f"{OTHER_MNEMONIC}//hard/soft", "suri", "no soft derivation"),
        ("   ", "auto", "empty"),
        ("legal winner thank year wave sausage worth useful legal winner thank thank", "auto", "not a valid ed25519"),
        (OTHER_MNEMONIC, "seed", "not a seed: it has the form of a mnemonic"),
        (RFC8032_SEED, "mnemonic", "not a mnemonic: it has the form of a seed"),
        ("//Alice", "mnemonic", "not a mnemonic: it has the form of a suri"),
        (RFC8032_SEED[:-2], "seed", "not a seed"),
        ("//Alice", "password", "secret_type must be one of"),
    ],
)
def test_bad_secrets_are_clear_errors_that_do_not_quote_the_secret(secret, secret_type, message):
    with pytest.raises(SshKeyError) as info:
        ssh_seed(secret, secret_type)
    assert message in str(info.value)
    assert not secret.strip() or secret.strip() not in str(info.value)
    for word in secret.replace("/", " ").split():
        if len(word) > 5:  # not the words of the message itself
            assert word not in str(info.value)


def test_private_key_file_round_trip_and_independent_reader():
    seed = ssh_seed("//Alice")
    data = openssh_private_key(seed, "alice@dinfra")
    assert read_openssh_private_key(data) == (seed, ALICE, "alice@dinfra")
    loaded = serialization.load_ssh_private_key(data, password=None)
    assert loaded.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()) == seed
    theirs = Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    assert read_openssh_private_key(theirs) == (seed, ALICE, "")


def test_other_key_files_are_not_taken_for_ours(tmp_path):
    rsa = generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "passphrase", "-f", str(tmp_path / "k")], check=True)
    encrypted = (tmp_path / "k").read_bytes()
    body = openssh_private_key(ssh_seed("//Alice")).decode().splitlines()
    raw = bytearray(base64.b64decode("".join(body[1:-1])))
    raw[-20] ^= 1  # inside the private section
    tampered = "\n".join([body[0], base64.b64encode(bytes(raw)).decode(), body[-1]]).encode()
    for data, message in [
        (rsa, "not an ed25519 key"),
        (encrypted, "encrypted"),
        (tampered, "corrupt"),
        (b"ssh-ed25519 AAAA", "not an OpenSSH private key"),
        (b"\xff\xfe", "not an OpenSSH private key"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\n!!\n-----END OPENSSH PRIVATE KEY-----\n", "base64"),
    ]:
        with pytest.raises(SshKeyError, match=message):
            read_openssh_private_key(data)


@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_atomic_write_sets_the_mode_before_any_byte(tmp_path, monkeypatch, mode):
    modes, write = [], os.write

    def spy(descriptor, data):
        modes.append(os.fstat(descriptor).st_mode & 0o777)
        return write(descriptor, data)

    monkeypatch.setattr(os, "write", spy)
    target = tmp_path / "id"
    write_file_atomically(str(target), b"secret", mode)
    assert modes and set(modes) == {mode}
    assert target.read_bytes() == b"secret" and target.stat().st_mode & 0o777 == mode


@pytest.mark.parametrize("broken", ["fsync", "replace", "write"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, broken):
    target = tmp_path / "id"
    target.write_bytes(b"old")

    def fail(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, broken, fail)
    with pytest.raises(SshKeyError, match="cannot write .*No space left on device"):
        write_file_atomically(str(target), b"new secret", 0o600)
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["id"]


def test_unwritable_directories_are_clear_errors(tmp_path):
    (tmp_path / "file").write_text("")
    for path, message in [(tmp_path / "missing" / "id", "No such file or directory"), (tmp_path / "file" / "id", "Not a directory")]:
        with pytest.raises(SshKeyError, match=f"cannot write {path}: {message}"):
            write_file_atomically(str(path), b"secret", 0o600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("network", [-1, 46, 47, 16384])
def test_invalid_networks_are_refused(network):
    with pytest.raises(SshKeyError, match="ss58_format must be 0 to 16383"):
        ss58_encode(ALICE, network)


SHARED_VECTORS = json.loads((pathlib.Path(__file__).resolve().parents[1] / "vectors" / "ssh-public-keys.json").read_text())


@pytest.mark.parametrize("vector", SHARED_VECTORS["lines"], ids=lambda v: f"{v['what']}:{v['account'].strip()[:12]}")
def test_shared_vectors_give_their_lines(vector):
    """The vectors the TypeScript package (clients/typescript) is tested against, too."""
    assert ssh_public_key(vector["account"], vector["comment"]) == vector["line"]
    assert fingerprint(account_public_key(vector["account"])) == vector["fingerprint"]


@pytest.mark.parametrize("vector", SHARED_VECTORS["refused"], ids=lambda v: v["message"][:40])
def test_shared_vectors_refuse_their_accounts(vector):
    with pytest.raises(SshKeyError) as info:
        ssh_public_key(vector["account"], vector["comment"])
    assert str(info.value).startswith(vector["message"])
