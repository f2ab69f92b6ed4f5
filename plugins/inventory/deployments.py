# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: deployments
short_description: The deployments a DINFRA chain awards to one provider
version_added: 0.1.0
description:
  - One host per deployment awarded to a provider, read from (by default finalised) chain
    state. Only that provider's deployments are read, through the chain's per-provider index.
  - Groups by state (C(dinfra_state_awarded), C(dinfra_state_running), ...) and by deployment
    type name (C(dinfra_type_<name>)).
  - Every value read from the chain is marked unsafe, so that Jinja in a name, CID or access
    info is never evaluated.
  - If the node cannot be reached or read, the inventory fails; it never comes back empty
    because of an error. Set C(inventory_any_unparsed_is_failed = true) in C(ansible.cfg)
    (or E(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED)) so that Ansible stops on that failure
    instead of going on with an empty inventory.
  - A successful read sets C(dinfra_inventory_read_at_block) on group C(all); a playbook that
    tears anything down should require it to be defined. C(dinfra_inventory_provider) on group
    C(all) is the provider's address.
  - It also marks the C(ansible-playbook) process as a reactor run, so that a lock taken with
    M(dinfra.chain.reactor_lock) is held until every worker and module of the run has exited,
    not only the C(ansible-playbook) process.
extends_documentation_fragment:
  - dinfra.chain.connection
  - dinfra.chain.connection.plugins
  - constructed
  - inventory_cache
options:
  plugin:
    description: Marks this file as an inventory of this plugin.
    type: str
    required: true
    choices: [dinfra.chain.deployments]
  provider:
    description:
      - SS58 address of the provider whose deployments to list.
      - When not set, the address of O(signer_secret).
    type: str
    env:
      - name: DINFRA_PROVIDER
  states:
    description: Only deployments in these states.
    type: list
    elements: str
    choices: [awarded, running, terminating, terminated, failed]
    default: [awarded, running, terminating]
  types:
    description: Only deployments of these deployment types (names). All types when empty.
    type: list
    elements: str
    default: []
  hostname_prefix:
    description: Host names are this prefix followed by the deployment id.
    type: str
    default: deployment-
  max_deployments:
    description:
      - Most deployments to read. The inventory fails, rather than truncate, when the
        provider has more.
    type: int
    default: 100000
  reactor_lock:
    description:
      - Take the provider's reactor lock before reading, when it is free, so that playbook
        C(dinfra.chain.reconcile) can act on this read without reading the chain a second time
        under the lock. It is the lock that M(dinfra.chain.reactor_lock) takes in that playbook
        (named C(reactor <provider address>), in the default lock directory), held for the
        process that reads the inventory until that process exits or the playbook releases it;
        so under C(ansible-inventory) it is held while that runs.
      - Never waits. When another run holds the lock, or the lock cannot be taken here, the
        chain is read without it; the playbook then waits for the lock and reads again.
      - Sets C(dinfra_inventory_locked) on group C(all) - true when this read was made under the lock.
        A read from the inventory cache never is.
    type: bool
    default: false
    env:
      - name: DINFRA_INVENTORY_REACTOR_LOCK
"""

EXAMPLES = r"""
---
# deployments.dinfra.yml: the reactor's inventory. The node URL and the signer come from
# DINFRA_NODE_URL and DINFRA_SIGNER_SECRET (an AWX custom credential can inject them).
plugin: dinfra.chain.deployments

---
# Another provider's deployments, read-only, at the best block, running ones only, grouped
# by consumer as well.
plugin: dinfra.chain.deployments
node_url: wss://rpc.dinfra.example
provider: 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty
read_at: best
states: [running]
keyed_groups:
  - key: dinfra_consumer
    prefix: consumer
"""

import os

from ansible.errors import AnsibleError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ..module_utils.chain import ChainClient, ChainError
from ..module_utils.deployments import account_deployments, inventory_vars
from ..module_utils.keys import SignerSecretError, keypair_from_secret
from ..module_utils.run_lock import LockError, acquire, default_lock_dir, mark_run


def group_name(prefix, value):
    """A group name from chain data: anything but [a-z0-9_] becomes '_'."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in str(value).lower())
    return f"{prefix}_{safe}"


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "dinfra.chain.deployments"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(
            ("dinfra.yml", "dinfra.yaml", "deployments.yml", "deployments.yaml")
        )

    def _provider_address(self):
        provider = self.get_option("provider")
        if provider:
            return provider
        secret = self.get_option("signer_secret")
        if not secret:
            raise AnsibleError("set 'provider' (or DINFRA_PROVIDER), or a signer_secret to derive it from")
        try:
            return keypair_from_secret(secret, self.get_option("signer_crypto")).ss58_address
        except SignerSecretError as exc:
            raise AnsibleError(f"cannot derive the provider address: {exc}") from None

    def _take_reactor_lock(self, provider):
        """Whether this process now holds the provider's reactor lock (taken here, or already
        held by this run). The name and directory are those of playbook dinfra.chain.reconcile's
        dinfra.chain.reactor_lock task, and the owner is this process, which is that task's owner
        too (the parent of the worker that runs it)."""
        lock_dir = os.path.abspath(os.path.expanduser(default_lock_dir(os.environ)))
        try:
            report = acquire(lock_dir, f"reactor {provider}", os.getpid(), 0)
        except LockError as exc:
            self.display.warning(f"dinfra.chain.deployments: reading without the reactor lock: {exc}")
            return False
        return report["status"] in ("acquired", "held")

    def _read_chain(self):
        """Everything the inventory shows, as plain data (this is what the cache stores)."""
        provider = self._provider_address()
        locked = self.get_option("reactor_lock") and self._take_reactor_lock(provider)
        try:
            with ChainClient(
                self.get_option("node_url"), timeout=self.get_option("timeout"), read_at=self.get_option("read_at")
            ) as client:
                block_hash, block_number = client.head()
                deployments = [
                    inventory_vars(record, block_number, block_hash)
                    for record in account_deployments(
                        client, "provider", provider, block_hash, self.get_option("max_deployments")
                    )
                ]
        except ChainError as exc:
            raise AnsibleError(f"dinfra.chain.deployments: {exc}") from None
        return {"block_number": block_number, "block_hash": block_hash, "provider": provider,
                "deployments": deployments, "locked": locked}

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        # Ansible reads inventories in the ansible-playbook process before it forks a worker:
        # from here on, every process of the run keeps the reactor lock (dinfra.chain.reactor_lock)
        # until it has exited, so that a killed run's leftovers stop the next run from acting.
        mark_run()
        self._read_config_data(path)

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        data = None
        if use_cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if data is None:
            data = self._read_chain()
            if update_cache:
                self._cache[cache_key] = dict(data, locked=False)
        else:
            data = dict(data, locked=False)  # the cache's read was made under no lock of this run
        self._populate(data)

    def _populate(self, data):
        states = set(self.get_option("states"))
        types = set(self.get_option("types"))
        strict = self.get_option("strict")
        # Proof, for playbooks, that the chain was actually read.
        self.inventory.set_variable("all", "dinfra_inventory_read_at_block", int(data["block_number"]))
        self.inventory.set_variable("all", "dinfra_inventory_read_at_block_hash", wrap_var(data["block_hash"]))
        # Whose deployments these are: the reactor locks its runs per provider.
        self.inventory.set_variable("all", "dinfra_inventory_provider", wrap_var(data.get("provider", "")))
        # Whether the read was made under that lock (option reactor_lock): the reactor then reads only once.
        self.inventory.set_variable("all", "dinfra_inventory_locked", bool(data.get("locked")))
        for state in states:
            self.inventory.add_group(group_name("dinfra_state", state))
        for deployment in data["deployments"]:
            if deployment["dinfra_state"] not in states:
                continue
            if types and deployment["dinfra_type_name"] not in types:
                continue
            # The host name is built from the numeric id only: never from chain text.
            host = f"{self.get_option('hostname_prefix')}{int(deployment['dinfra_deployment_id'])}"
            self.inventory.add_host(host)
            host_vars = wrap_var(dict(deployment))
            for name, value in host_vars.items():
                self.inventory.set_variable(host, name, value)
            self.inventory.add_child(group_name("dinfra_state", deployment["dinfra_state"]), host)
            if deployment["dinfra_type_name"]:
                type_group = group_name("dinfra_type", deployment["dinfra_type_name"])
                self.inventory.add_group(type_group)
                self.inventory.add_child(type_group, host)
            self._set_composite_vars(self.get_option("compose"), host_vars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, host, strict=strict)
