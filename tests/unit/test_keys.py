"""Signers from secrets, checked against Substrate's own derivations of the dev accounts."""
import pytest

from ansible_collections.dinfra.chain.plugins.module_utils.keys import (
    DEV_PHRASE,
    SignerSecretError,
    chain_code,
    keypair_from_secret,
    parse_suri,
)

# `subkey inspect --scheme ed25519 //Alice` and `//Bob`.
ED25519_ALICE = "88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee"
ED25519_BOB = "d17c2d7823ebf260fd138f2d7e27d114c0145d968b5ff5006125f2414fadae69"
SR25519_ALICE_SS58 = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"


def test_ed25519_dev_accounts_match_substrate():
    assert keypair_from_secret("//Alice", "ed25519").public_key.hex() == ED25519_ALICE
    assert keypair_from_secret("//Bob", "ed25519").public_key.hex() == ED25519_BOB
    assert keypair_from_secret(f"{DEV_PHRASE}//Alice", "ed25519").public_key.hex() == ED25519_ALICE


def test_sr25519_uri():
    assert keypair_from_secret("//Alice").ss58_address == SR25519_ALICE_SS58


def test_hex_seed_and_mnemonic_without_path():
    seed = "0x" + "11" * 32
    assert keypair_from_secret(seed, "ed25519").public_key != keypair_from_secret(seed, "sr25519").public_key
    assert keypair_from_secret(DEV_PHRASE, "ed25519").ss58_address


def test_chain_codes_follow_sp_core():
    assert chain_code("Alice") == bytes([5 << 2]) + b"Alice" + bytes(26)
    assert chain_code("42") == (42).to_bytes(8, "little") + bytes(24)
    assert len(chain_code("x" * 40)) == 32  # longer than 32 bytes: hashed


def test_suri_parsing():
    assert parse_suri("word word//hard/soft///pw") == ("word word", [(True, "hard"), (False, "soft")], "pw")
    assert parse_suri("//Alice") == ("", [(True, "Alice")], None)


@pytest.mark.parametrize(
    "secret, crypto, message",
    [
        ("//Alice/soft", "ed25519", "no soft derivation"),
        ("", "sr25519", "empty"),
        ("definitely not a mnemonic", "ed25519", "not a valid ed25519"),
        ("//Alice", "ecdsa", "crypto type"),
    ],
)
def test_bad_secrets_are_clear_errors_that_do_not_quote_the_secret(secret, crypto, message):
    with pytest.raises(SignerSecretError) as info:
        keypair_from_secret(secret, crypto)
    assert message in str(info.value)
    if secret.strip():
        assert secret not in str(info.value)
