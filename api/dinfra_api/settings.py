"""The service's settings, from the environment (so that systemd and AWX-style credentials can
inject them), with the secrets in files where possible."""
import dataclasses
import os

from ansible_collections.dinfra.chain.plugins.module_utils.chain_follower import same_account
from ansible_collections.dinfra.chain.plugins.module_utils.descriptors import default_cache_dir
from ansible_collections.dinfra.chain.plugins.module_utils.ipfs import DEFAULT_GATEWAY, DEFAULT_MAX_SIZE
from ansible_collections.dinfra.chain.plugins.module_utils.keys import SignerSecretError, keypair_from_secret

MAX_TOKENS_FILE = 64 * 1024


class SettingsError(ValueError):
    """The service cannot start with these settings; the message says which one and why."""


@dataclasses.dataclass(frozen=True)
class Settings:
    node_url: str
    provider: str
    tokens: frozenset = dataclasses.field(repr=False)
    timeout: int = 30
    max_page: int = 1000
    # The provider's signing key, for reports; None serves reads only.
    signer: object = dataclasses.field(default=None, repr=False)
    ipfs_gateway: str = DEFAULT_GATEWAY
    ipfs_timeout: int = 30
    descriptor_max_size: int = DEFAULT_MAX_SIZE
    schema_cache: str = ""


def _read_secret_file(path, what):
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_TOKENS_FILE + 1)
    except OSError as exc:
        raise SettingsError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > MAX_TOKENS_FILE:
        raise SettingsError(f"{what} {path} is larger than {MAX_TOKENS_FILE} bytes")
    return data.decode("utf-8", "replace")


def tokens_from(environ):
    """The bearer tokens reactors may use: one per line of DINFRA_API_TOKENS_FILE (blank lines
    and # comments skipped), or DINFRA_API_TOKEN."""
    found = set()
    if environ.get("DINFRA_API_TOKENS_FILE"):
        for line in _read_secret_file(environ["DINFRA_API_TOKENS_FILE"], "the tokens file").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.add(line)
    if environ.get("DINFRA_API_TOKEN"):
        found.add(environ["DINFRA_API_TOKEN"].strip())
    short = [t for t in found if len(t) < 16]
    if short:
        raise SettingsError(f"{len(short)} API token(s) are shorter than 16 characters")
    if not found:
        raise SettingsError("set DINFRA_API_TOKENS_FILE (one token per line) or DINFRA_API_TOKEN")
    return frozenset(found)


def signer_from(environ):
    """The signing key of DINFRA_SIGNER_SECRET_FILE or DINFRA_SIGNER_SECRET, or None."""
    secret = environ.get("DINFRA_SIGNER_SECRET")
    if environ.get("DINFRA_SIGNER_SECRET_FILE"):
        secret = _read_secret_file(environ["DINFRA_SIGNER_SECRET_FILE"], "the signer secret file").strip()
    if not secret:
        return None
    try:
        return keypair_from_secret(secret)
    except SignerSecretError as exc:
        raise SettingsError(f"the signer secret is unusable: {exc}") from None


def provider_from(environ, signer):
    """DINFRA_PROVIDER, else the signer's address; the two must be one account."""
    provider = environ.get("DINFRA_PROVIDER")
    if provider and signer is not None and not same_account(provider, signer.ss58_address):
        raise SettingsError(f"DINFRA_PROVIDER is {provider}, but the signer secret is {signer.ss58_address}'s")
    if provider:
        return provider
    if signer is None:
        raise SettingsError("set DINFRA_PROVIDER, or DINFRA_SIGNER_SECRET(_FILE) to derive it from")
    return signer.ss58_address


def settings_from(environ=None):
    environ = os.environ if environ is None else environ
    if not environ.get("DINFRA_NODE_URL"):
        raise SettingsError("set DINFRA_NODE_URL")
    timeout = _seconds(environ, "DINFRA_API_CHAIN_TIMEOUT")
    ipfs_timeout = _seconds(environ, "DINFRA_API_IPFS_TIMEOUT")
    signer = signer_from(environ)
    return Settings(node_url=environ["DINFRA_NODE_URL"], provider=provider_from(environ, signer),
                    tokens=tokens_from(environ), timeout=timeout, signer=signer,
                    ipfs_gateway=environ.get("DINFRA_IPFS_GATEWAY") or DEFAULT_GATEWAY, ipfs_timeout=ipfs_timeout,
                    schema_cache=environ.get("DINFRA_API_SCHEMA_CACHE") or default_cache_dir())


def _seconds(environ, name, default=30):
    try:
        value = int(environ.get(name, str(default)))
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of seconds") from None
    if not 1 <= value <= 300:
        raise SettingsError(f"{name} must be between 1 and 300 seconds")
    return value
