"""Guest networks: createNetwork, listNetworks, updateNetwork, restartNetwork, deleteNetwork.

An isolated network is Allocated until its first VM starts (or it is otherwise implemented),
then Implemented, with a guest VLAN and a source NAT address; a shared network is Setup."""
import ipaddress

from .. import errors
from ..params import P
from ..registry import command
from .common import (by_ids, delete_tags_of, new_id, owner, release_public_ip, same_name, tags_of,
                     where, with_keyword, with_tags)

GUEST_DOMAIN = "cloud.internal"


def render_network(ctx, n):
    zone = ctx.tx.get("zone", n["zoneid"])
    offering = ctx.tx.get("networkoffering", n["networkofferingid"])
    body = {
        "id": n["id"], "name": n["name"], "displaytext": n["displaytext"], "broadcastdomaintype": "Vlan",
        "traffictype": "Guest", "gateway": n["gateway"], "netmask": n["netmask"], "cidr": n["cidr"],
        "zoneid": zone["id"], "zonename": zone["name"], "networkofferingid": offering["id"],
        "networkofferingname": offering["name"], "networkofferingdisplaytext": offering["displaytext"],
        "networkofferingconservemode": offering["conservemode"], "networkofferingavailability": offering["availability"],
        "issystem": False, "state": n["state"], "related": n["id"], "dns1": zone["dns1"], "type": offering["guestiptype"],
        "acltype": n["acltype"], "physicalnetworkid": n["physicalnetworkid"], "restartrequired": False,
        "specifyipranges": offering["specifyipranges"], "canusefordeploy": True, "ispersistent": offering["ispersistent"],
        "displaynetwork": n.get("displaynetwork", True), "redundantrouter": False, "strechedl2subnet": False,
        "created": n["created"], "service": offering["service"], "tags": tags_of(ctx, "Network", n["id"]),
        "hasannotations": False, **owner(ctx),
    }
    if n.get("networkdomain"):
        body["networkdomain"] = n["networkdomain"]
    if n.get("vlan"):
        body.update(vlan=n["vlan"], broadcasturi=n["broadcasturi"], isolationmethods="VLAN")
    return body


def _cidr(gateway, netmask):
    try:
        return ipaddress.ip_network(f"{gateway}/{netmask}", strict=False)
    except ValueError:
        raise errors.param_error(f"Invalid gateway {gateway} or netmask {netmask}") from None


@command("createNetwork", {
    "name": P(required=True), "displaytext": P(), "networkofferingid": P("uuid", required=True, kind="networkoffering"),
    "zoneid": P("uuid", required=True, kind="zone"), "account": P(), "domainid": P("uuid", kind="domain"),
    "projectid": P("uuid", kind="project"), "gateway": P(), "netmask": P(), "startip": P(), "endip": P(), "vlan": P(),
    "networkdomain": P(), "acltype": P(), "subdomainaccess": P("bool"), "vpcid": P("uuid", kind="vpc"),
    "aclid": P("uuid", kind="networkacllist"), "isolatedpvlan": P(), "startipv6": P(), "endipv6": P(), "ip6cidr": P(),
    "ip6gateway": P(), "displaynetwork": P("bool"), "physicalnetworkid": P("uuid", kind="physicalnetwork"),
})
def create_network(ctx, p):
    ctx.check_owner()
    offering = ctx.tx.get("networkoffering", p["networkofferingid"])
    if offering["state"] != "Enabled":
        raise errors.param_error(f"Can't use network offering id={offering['id']} as its state is not Enabled")
    if offering["forvpc"]:
        raise errors.param_error(f"Network offering {offering['name']} can be used for VPC networks only")
    if bool(p["gateway"]) != bool(p["netmask"]):
        raise errors.param_error("gateway and netmask must be specified together")
    shared = offering["guestiptype"] == "Shared"
    if offering["specifyvlan"] and not p["vlan"]:
        raise errors.param_error(f"Network offering {offering['name']} requires the vlan to be specified")
    if p["vlan"] and not offering["specifyvlan"]:
        raise errors.param_error("Can't specify vlan; corresponding offering says specifyVlan=false")
    if shared and not (p["gateway"] and p["startip"]):
        raise errors.param_error("gateway, netmask and startip are required to create a shared network")
    zone = ctx.tx.get("zone", p["zoneid"])
    cidr = _cidr(p["gateway"], p["netmask"]) if p["gateway"] else ipaddress.ip_network(zone["guestcidraddress"])
    gateway = p["gateway"] or str(next(cidr.hosts()))
    if p["vlan"] and any(n.get("vlan") == p["vlan"] for n in ctx.tx.all("network")):
        raise errors.param_error(f"The VLAN tag {p['vlan']} is already being used for a network in zone {zone['name']}")
    pnet = next(n for n in ctx.tx.all("physicalnetwork") if n["zoneid"] == zone["id"])
    network = {
        "id": new_id(), "name": p["name"], "displaytext": p["displaytext"] or p["name"], "zoneid": zone["id"],
        "networkofferingid": offering["id"], "gateway": gateway, "netmask": str(cidr.netmask), "cidr": str(cidr),
        "state": "Setup" if shared else "Allocated", "acltype": (p["acltype"] or ("Domain" if shared else "Account")).capitalize(),
        "physicalnetworkid": pnet["id"], "created": ctx.timestamp(), "displaynetwork": p["displaynetwork"] is not False,
        "networkdomain": p["networkdomain"] or (None if shared else f"cs{ctx.account()['internalid']:x}{GUEST_DOMAIN}"),
        "startip": p["startip"], "endip": p["endip"] or p["startip"],
    }
    if p["vlan"]:
        network.update(vlan=p["vlan"], broadcasturi=f"vlan://{p['vlan']}")
    ctx.tx.put("network", network)
    return {"network": render_network(ctx, network)}


@command("listNetworks", {
    "id": P("uuid", kind="network"), "ids": P("uuids", kind="network"), "zoneid": P("uuid", kind="zone"), "type": P(),
    "traffictype": P(), "isdefault": P("bool"), "networkofferingid": P("uuid", kind="networkoffering"), "vpcid": P("uuid", kind="vpc"),
    "forvpc": P("bool"), "canusefordeploy": P("bool"), "physicalnetworkid": P("uuid", kind="physicalnetwork"),
    "issystem": P("bool"), "displaynetwork": P("bool"), "restartrequired": P("bool"), "acltype": P(), "tags": P("map"),
    "supportedservices": P("list"), "specifyipranges": P("bool"), "name": P(),
}, list_key="network")
def list_networks(ctx, p):
    if p["vpcid"] or p["forvpc"] or p["issystem"]:
        return []
    networks = by_ids(ctx.tx.all("network"), p["id"], p["ids"])
    networks = where(networks, zoneid=p["zoneid"], networkofferingid=p["networkofferingid"], physicalnetworkid=p["physicalnetworkid"])
    if p["name"]:
        networks = [n for n in networks if same_name(n["name"], p["name"])]
    rendered = [render_network(ctx, n) for n in with_tags(ctx, with_keyword(networks, p["keyword"]), "Network", p["tags"])]
    if p["type"]:
        rendered = [n for n in rendered if same_name(n["type"], p["type"])]
    if p["acltype"]:
        rendered = [n for n in rendered if same_name(n["acltype"], p["acltype"])]
    if p["supportedservices"]:
        rendered = [n for n in rendered if all(any(same_name(s["name"], want) for s in n["service"]) for want in p["supportedservices"])]
    return rendered


@command("updateNetwork", {"id": P("uuid", required=True, kind="network"), "name": P(), "displaytext": P(), "networkdomain": P(),
                           "networkofferingid": P("uuid", kind="networkoffering"), "changecidr": P("bool"), "guestvmcidr": P(),
                           "displaynetwork": P("bool"), "forced": P("bool")}, is_async=True)
def update_network(ctx, p):
    network = ctx.tx.get("network", p["id"])
    if p["networkofferingid"]:
        offering = ctx.tx.get("networkoffering", p["networkofferingid"])
        current = ctx.tx.get("networkoffering", network["networkofferingid"])
        if offering["guestiptype"] != current["guestiptype"] or offering["forvpc"]:
            raise errors.param_error(f"Can't upgrade network {network['name']} to network offering {offering['name']}: the guest IP types differ")
    return ctx.job({"id": network["id"], "changes": {k: p[k] for k in ("name", "displaytext", "networkdomain", "networkofferingid", "displaynetwork")
                                                     if p[k] is not None}}, "Network", network["id"])


@update_network.finisher
def _update_network_done(ctx, args):
    network = ctx.require("network", args["id"])
    network.update(args["changes"])
    ctx.tx.put("network", network)
    return {"network": render_network(ctx, network)}


@command("restartNetwork", {"id": P("uuid", required=True, kind="network"), "cleanup": P("bool"), "makeredundant": P("bool")}, is_async=True)
def restart_network(ctx, p):
    network = ctx.tx.get("network", p["id"])
    if network["state"] not in ("Implemented", "Setup"):
        raise errors.param_error(f"Network {network['name']} is not in the right state to be restarted: {network['state']}")
    return ctx.job({"id": network["id"]}, "Network", network["id"])


@restart_network.finisher
def _restart_network_done(_ctx, _args):
    return {"success": True}


def vms_in(ctx, network_id):
    vm_ids = {n["vmid"] for n in ctx.tx.all("nic") if n["networkid"] == network_id}
    return [vm for vm in ctx.tx.all("vm") if vm["id"] in vm_ids]


@command("deleteNetwork", {"id": P("uuid", required=True, kind="network"), "forced": P("bool")}, is_async=True)
def delete_network(ctx, p):
    return ctx.job({"id": p["id"]}, "Network", p["id"])


@delete_network.finisher
def _delete_network_done(ctx, args):
    network = ctx.require("network", args["id"])
    vms = vms_in(ctx, network["id"])
    if vms:
        vm = vms[0]
        raise errors.ApiError(errors.INTERNAL_ERROR, f"Can't delete the network, not all user vms are expunged. Vm {vm['name']} is in {vm['state']} state")
    for ip in ctx.tx.all("ip"):
        if ip["associatednetworkid"] == network["id"]:
            release_public_ip(ctx, ip)
    for rule in ctx.tx.all("fwrule"):
        if rule.get("networkid") == network["id"]:
            delete_tags_of(ctx, rule["id"])
            ctx.tx.delete("fwrule", rule["id"])
    delete_tags_of(ctx, network["id"])
    ctx.tx.delete("network", network["id"])
    return {"success": True}
