"""`python -m dinfra_api.openapi`: the OpenAPI document the code defines, as YAML. It is
committed as docs/api/openapi.yaml, and a test fails when the two differ."""
import sys

import yaml

from .app import create_app
from .settings import Settings

# Only the routes and models make the document; these settings are never used to serve.
DOCUMENT_SETTINGS = Settings(node_url="ws://document.invalid", provider="", tokens=frozenset({"document-only-token"}))


HEADER = "# Generated from api/dinfra_api by `python -m dinfra_api.openapi`: edit the code, not this file.\n"


class _IndentedLists(yaml.SafeDumper):
    """Lists indented under their key, as yamllint (and so ansible-lint) wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def document():
    spec = create_app(DOCUMENT_SETTINGS).openapi()
    return HEADER + yaml.dump(spec, Dumper=_IndentedLists, sort_keys=False, allow_unicode=True, width=100,
                              explicit_start=True)


if __name__ == "__main__":
    sys.stdout.write(document())
