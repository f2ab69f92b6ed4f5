"""The API commands, one module per group of resources. Importing this package registers them."""
from . import asyncjobs, catalog, networks, addresses, rules, sshkeys, tags, vms  # noqa: F401  pylint: disable=unused-import
