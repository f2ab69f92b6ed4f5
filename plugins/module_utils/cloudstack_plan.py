# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)
"""What a validated cloudstack-vm or substrate-node descriptor becomes in one provider's
CloudStack: the service offering, template, disks, ports and user data.

The mapping is explicit: a provider lists the offerings and templates it serves, and a
descriptor that asks for anything else gets an error naming what is offered, which the
reactor reports on chain as the reason the deployment failed. Pure logic, no cloud calls."""

from __future__ import annotations

import base64

from . import cloud_init
from .ssh_keys import SshKeyError, ssh_public_key

SUPPORTED_TYPES = ("cloudstack-vm", "substrate-node")
# CloudStack's default vm.userdata.max.length (4.19): base64 characters.
DEFAULT_USER_DATA_MAX = 32768


class PlanError(ValueError):
    """The descriptor asks for something this provider's cloud does not serve. The message
    is meant for the consumer (it goes on chain as the failure reason)."""


def _offered(names):
    return ", ".join(sorted(names)) or "nothing"


def choose_offering(size, offerings):
    """The service offering for a descriptor's `size`: the one named, or the first listed
    with at least the CPUs and memory asked for (list them smallest first)."""
    for offering in offerings:
        if not isinstance(offering, dict) or not offering.get("name"):
            raise PlanError("the provider's offering list is malformed: each entry needs a name, cpu and memory_mb")
    if "offering" in size:
        for offering in offerings:
            if offering["name"] == size["offering"]:
                return offering
        raise PlanError("service offering %r is not offered here; offered: %s"
                        % (size["offering"], _offered(o["name"] for o in offerings)))
    for offering in offerings:
        if int(offering.get("cpu", 0)) >= size["cpu"] and int(offering.get("memory_mb", 0)) >= size["memory_mb"]:
            return offering
    raise PlanError("no service offering here has %d CPU(s) and %d MB; offered: %s" % (
        size["cpu"], size["memory_mb"],
        _offered("%s (%s CPU, %s MB)" % (o["name"], o.get("cpu"), o.get("memory_mb")) for o in offerings)))


def choose_template(name, templates):
    """The provider's template for the descriptor's template name."""
    if name in templates:
        return templates[name]
    raise PlanError("template %r is not offered here; offered: %s" % (name, _offered(templates)))


def authorized_keys(descriptor, deployment_id):
    """The consumer's ed25519 keys as OpenSSH lines, from the (CID-verified) descriptor."""
    comment = "dinfra-deployment-%d" % deployment_id
    try:
        return [ssh_public_key(key, comment=comment) for key in descriptor["ssh"]["authorized_keys"]]
    except SshKeyError as exc:
        raise PlanError("ssh.authorized_keys: %s" % exc) from None


def plan(descriptor, deployment_id, settings, address=None):
    """Everything the role needs to build the deployment. `settings` holds the provider's
    choices (see the role's argument spec): service_offerings, templates, cloud_init,
    user_data_max, data_disk_offering. With `address`, also the access info for the chain."""
    kind = descriptor.get("type")
    if kind not in SUPPORTED_TYPES:
        raise PlanError("deployment type %r is not served by the cloudstack_vm role (it serves %s)"
                        % (kind, ", ".join(SUPPORTED_TYPES)))
    offering = choose_offering(descriptor["size"], settings.get("service_offerings") or [])
    template = choose_template(descriptor["template"], settings.get("templates") or {})
    keys = authorized_keys(descriptor, deployment_id)
    try:
        user_data = cloud_init.user_data(descriptor, keys, settings.get("cloud_init") or {})
        ports = cloud_init.exposed_ports(descriptor)
    except ValueError as exc:
        raise PlanError(str(exc)) from None
    encoded = len(base64.b64encode(user_data.encode()))
    limit = int(settings.get("user_data_max") or DEFAULT_USER_DATA_MAX)
    if encoded > limit:
        raise PlanError("the machine's user data is %d base64 characters, over this cloud's limit of %d: "
                        "shorten user_data" % (encoded, limit))
    ssh_user = descriptor["ssh"].get("user", "dinfra")
    result = {
        "host_name": descriptor["name"],
        "service_offering": offering["name"],
        "template": template,
        "root_disk_gb": descriptor.get("disk_gb"),
        "data_disk_gb": (descriptor.get("node") or {}).get("base_path_gb"),
        "data_disk_offering": settings.get("data_disk_offering") or "Custom",
        "ports": ports,
        "ssh_user": ssh_user,
        "authorized_keys": keys,
        "user_data": user_data,
    }
    if address is not None:
        try:
            result["access_info"] = cloud_init.access_info(address, ssh_user, ports)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
    return result
