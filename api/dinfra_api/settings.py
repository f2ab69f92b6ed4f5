"""The service's settings, from the environment (so that systemd and AWX-style credentials can
inject them), with the secrets in files where possible."""
import dataclasses
import os

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


def provider_from(environ):
    """DINFRA_PROVIDER, else the address of the signer's secret (DINFRA_SIGNER_SECRET_FILE or
    DINFRA_SIGNER_SECRET)."""
    if environ.get("DINFRA_PROVIDER"):
        return environ["DINFRA_PROVIDER"]
    secret = environ.get("DINFRA_SIGNER_SECRET")
    if environ.get("DINFRA_SIGNER_SECRET_FILE"):
        secret = _read_secret_file(environ["DINFRA_SIGNER_SECRET_FILE"], "the signer secret file").strip()
    if not secret:
        raise SettingsError("set DINFRA_PROVIDER, or DINFRA_SIGNER_SECRET(_FILE) to derive it from")
    try:
        return keypair_from_secret(secret).ss58_address
    except SignerSecretError as exc:
        raise SettingsError(f"cannot derive the provider address: {exc}") from None


def settings_from(environ=None):
    environ = os.environ if environ is None else environ
    if not environ.get("DINFRA_NODE_URL"):
        raise SettingsError("set DINFRA_NODE_URL")
    try:
        timeout = int(environ.get("DINFRA_API_CHAIN_TIMEOUT", "30"))
    except ValueError:
        raise SettingsError("DINFRA_API_CHAIN_TIMEOUT must be a whole number of seconds") from None
    if not 1 <= timeout <= 300:
        raise SettingsError("DINFRA_API_CHAIN_TIMEOUT must be between 1 and 300 seconds")
    return Settings(node_url=environ["DINFRA_NODE_URL"], provider=provider_from(environ), tokens=tokens_from(environ),
                    timeout=timeout)
