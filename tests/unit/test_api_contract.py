"""The Chain Reactor API's own files: the committed OpenAPI document is the one the code
defines, and the settings refuse what the service cannot run with (pure logic, no service)."""
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "api"))

from dinfra_api import openapi  # noqa: E402  pylint: disable=wrong-import-position
from dinfra_api.settings import SettingsError, settings_from  # noqa: E402  pylint: disable=wrong-import-position

ADDRESS = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"


def test_the_committed_openapi_document_is_the_codes():
    committed = (ROOT / "docs" / "api" / "openapi.yaml").read_text()
    assert committed == openapi.document(), (
        "docs/api/openapi.yaml differs from the code: regenerate it with "
        "PYTHONPATH=api:.dev/collections .venv/bin/python -m dinfra_api.openapi > docs/api/openapi.yaml")


def test_the_document_is_openapi_3_1_with_a_named_operation_each():
    spec = pytest.importorskip("yaml").safe_load(openapi.document())
    assert spec["openapi"].startswith("3.1.")
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert sorted(op["operationId"] for op in operations) == [
        "getDeployment", "getDescriptor", "getLive", "getProvider", "getReady", "listDeployments", "reportDeployed",
        "reportFailed",
        "reportTerminated", "streamEvents"]
    # Reports say how the chain refused them, and how a body was too large.
    for name in ("reportDeployed", "reportFailed", "reportTerminated"):
        (op,) = [op for op in operations if op["operationId"] == name]
        assert {"401", "404", "409", "413", "422", "503"} <= set(op["responses"]), name
    # Every route but health answers 401 without a token.
    for path, methods in spec["paths"].items():
        for op in methods.values():
            assert ("401" in op["responses"]) == (not path.startswith("/v1/health/")), path


def test_tokens_come_from_a_file_or_the_environment(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("# reactors\n\nfirst-token-0123456789\n  second-token-0123456789  \n")
    found = settings_from({"DINFRA_NODE_URL": "ws://node", "DINFRA_PROVIDER": ADDRESS,
                           "DINFRA_API_TOKENS_FILE": str(tokens), "DINFRA_API_TOKEN": "third-token-0123456789"})
    assert found.tokens == {"first-token-0123456789", "second-token-0123456789", "third-token-0123456789"}
    assert "token" not in repr(found), "the settings' repr shows the tokens"


@pytest.mark.parametrize("environ, says", [
    ({"DINFRA_PROVIDER": ADDRESS, "DINFRA_API_TOKEN": "x" * 16}, "DINFRA_NODE_URL"),
    ({"DINFRA_NODE_URL": "ws://node", "DINFRA_PROVIDER": ADDRESS}, "DINFRA_API_TOKEN"),
    ({"DINFRA_NODE_URL": "ws://node", "DINFRA_PROVIDER": ADDRESS, "DINFRA_API_TOKEN": "short"}, "shorter than 16"),
    ({"DINFRA_NODE_URL": "ws://node", "DINFRA_API_TOKEN": "x" * 16}, "DINFRA_PROVIDER"),
    ({"DINFRA_NODE_URL": "ws://node", "DINFRA_PROVIDER": ADDRESS, "DINFRA_API_TOKENS_FILE": "/nonexistent/tokens"},
     "cannot read the tokens file"),
    ({"DINFRA_NODE_URL": "ws://node", "DINFRA_PROVIDER": ADDRESS, "DINFRA_API_TOKEN": "x" * 16,
      "DINFRA_API_CHAIN_TIMEOUT": "forever"}, "whole number"),
])
def test_settings_that_cannot_serve_are_refused_with_the_reason(environ, says):
    with pytest.raises(SettingsError, match=says):
        settings_from(environ)


def test_a_provider_that_is_not_the_signers_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="signer secret is"):
        settings_from({"DINFRA_NODE_URL": "ws://node", "DINFRA_API_TOKEN": "x" * 16, "DINFRA_PROVIDER": ADDRESS,
                       "DINFRA_SIGNER_SECRET": "//Alice"})


def test_the_provider_is_derived_from_the_signer_when_not_given(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("//Alice\n")
    found = settings_from({"DINFRA_NODE_URL": "ws://node", "DINFRA_API_TOKEN": "x" * 16,
                           "DINFRA_SIGNER_SECRET_FILE": str(secret)})
    assert found.provider == "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
    assert found.signer.ss58_address == found.provider and "Alice" not in repr(found)
