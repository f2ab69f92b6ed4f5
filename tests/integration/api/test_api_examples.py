"""docs/examples/api: the systemd unit a provider copies is one systemd accepts, and it keeps the
secrets out of the environment file."""
import configparser
import subprocess

from ansible_cli import BIN, ROOT

EXAMPLES = ROOT / "docs" / "examples" / "api"


def test_the_unit_runs_the_service_for_ever_with_its_secrets_as_credentials(tmp_path):
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(EXAMPLES / "dinfra-api.service")
    service = unit["Service"]
    assert service["ExecStart"].split()[1:] == ["-m", "dinfra_api"] and service["Restart"] == "always"
    assert unit["Unit"]["StartLimitIntervalSec"] == "0"
    text = (EXAMPLES / "dinfra-api.service").read_text()
    for line in ("LoadCredential=tokens:", "LoadCredential=signer:", "Environment=DINFRA_API_TOKENS_FILE=%d/tokens",
                 "Environment=DINFRA_SIGNER_SECRET_FILE=%d/signer"):
        assert line in text, line
    names = {line.split("=", 1)[0] for line in (EXAMPLES / "api.env").read_text().splitlines()
             if line and not line.startswith("#")}
    assert "DINFRA_NODE_URL" in names and not [n for n in names if "TOKEN" in n or "SECRET" in n], names
    copy = tmp_path / "dinfra-api.service"
    copy.write_text(text.replace("/srv/dinfra-api/venv/bin/", f"{BIN}/"))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
