"""Public IP addresses: associateIpAddress, disassociateIpAddress, listPublicIpAddresses.

Only allocated addresses are objects; the rest of the zone's public range is free."""
from .. import errors
from ..params import P
from ..registry import command
from .common import acquire_public_ip, by_ids, owner, release_public_ip, tags_of, where, with_keyword, with_tags


def render_ip(ctx, ip):
    zone = ctx.tx.get("zone", ip["zoneid"])
    vlan = ctx.tx.get("vlan", ip["vlanid"])
    public = next(n for n in ctx.tx.all("publicnetwork") if n["zoneid"] == zone["id"])
    network = ctx.tx.get("network", ip["associatednetworkid"]) if ip.get("associatednetworkid") else None
    has_rules = any(r.get("ipaddressid") == ip["id"] for kind in ("pfrule", "fwrule") for r in ctx.tx.all(kind))
    body = {
        "id": ip["id"], "ipaddress": ip["ipaddress"], "allocated": ip["allocated"], "zoneid": zone["id"], "zonename": zone["name"],
        "issourcenat": ip["issourcenat"], "forvirtualnetwork": True, "vlanid": vlan["id"], "vlanname": f"vlan://{vlan['vlan']}",
        "isstaticnat": False, "issystem": False, "networkid": public["id"], "state": ip["state"],
        "physicalnetworkid": vlan["physicalnetworkid"], "tags": tags_of(ctx, "PublicIpAddress", ip["id"]), "isportable": False,
        "fordisplay": True, "hasrules": has_rules, "hasannotations": False, **owner(ctx),
    }
    if network:
        body.update(associatednetworkid=network["id"], associatednetworkname=network["name"])
    return body


def _isolated_networks(ctx, zone_id):
    offerings = {o["id"]: o for o in ctx.tx.all("networkoffering")}
    return [n for n in ctx.tx.all("network") if n["zoneid"] == zone_id and offerings[n["networkofferingid"]]["guestiptype"] == "Isolated"]


@command("associateIpAddress", {
    "networkid": P("uuid", kind="network"), "vpcid": P("uuid", kind="vpc"), "zoneid": P("uuid", kind="zone"), "ipaddress": P(),
    "account": P(), "domainid": P("uuid", kind="domain"), "projectid": P("uuid", kind="project"), "isportable": P("bool"),
    "fordisplay": P("bool"), "regionid": P("int"),
}, is_async=True, returns_id=True, java="org.apache.cloudstack.api.command.user.address.AssociateIPAddrCmd")
def associate_ip(ctx, p):
    ctx.check_owner()
    if p["networkid"]:
        network = ctx.tx.get("network", p["networkid"])
    else:
        if not p["zoneid"]:
            raise errors.param_error("Unable to figure out zone to assign IP to. Please specify either zoneid, or networkid, or vpcid in the call")
        networks = _isolated_networks(ctx, p["zoneid"])
        zone = ctx.tx.get("zone", p["zoneid"])
        if not networks:
            account, domain = ctx.account()["name"], ctx.domain()["id"]
            raise errors.param_error(f"Account name={account} domain id={domain} doesn't have virtual networks in zone={zone['name']}")
        if len(networks) > 1:
            raise errors.param_error("Account has more than one Isolated network in the zone")
        network = networks[0]
    if p["zoneid"] and network["zoneid"] != p["zoneid"]:
        raise errors.param_error(f"Network id={network['id']} doesn't belong to zone id={p['zoneid']}")
    ip = acquire_public_ip(ctx, network, requested=p["ipaddress"])
    return ctx.job({"id": ip["id"]}, "IpAddress", ip["id"])


@associate_ip.finisher
def _associate_ip_done(ctx, args):
    ip = ctx.require("ip", args["id"])
    network = ctx.tx.get("network", ip["associatednetworkid"])
    offering = ctx.tx.get("networkoffering", network["networkofferingid"])
    if offering["guestiptype"] == "Isolated" and not any(
            other["associatednetworkid"] == network["id"] and other["issourcenat"] for other in ctx.tx.all("ip")):
        if network["state"] == "Allocated":
            # CloudStack refuses: the address would become the source NAT one, which can never be released.
            raise errors.param_error(f"Network with UUID:{network['id']} is in allocated and needs to be implemented first before acquiring an IP address")
        ip["issourcenat"] = True
    ip["state"] = "Allocated"
    ctx.tx.put("ip", ip)
    return {"ipaddress": render_ip(ctx, ip)}


@associate_ip.on_failure
def _associate_ip_failed(ctx, args, _error):
    ip = ctx.tx.get("ip", args["id"])
    if ip:
        ctx.tx.delete("ip", ip["id"])


@command("disassociateIpAddress", {"id": P("uuid", required=True, kind="ip"), "ipaddress": P()}, is_async=True,
         java="org.apache.cloudstack.api.command.user.address.DisassociateIPAddrCmd")
def disassociate_ip(ctx, p):
    return ctx.job({"id": p["id"]}, "IpAddress", p["id"])


@disassociate_ip.finisher
def _disassociate_ip_done(ctx, args):
    ip = ctx.require("ip", args["id"])
    if ip["issourcenat"]:
        raise errors.param_error("ip address is used for source nat purposes and can not be disassociated.")
    release_public_ip(ctx, ip)
    return {"success": True}


@command("listPublicIpAddresses", {
    "id": P("uuid", kind="ip"), "ipaddress": P(), "associatednetworkid": P("uuid", kind="network"), "networkid": P(),
    "zoneid": P("uuid", kind="zone"), "vpcid": P("uuid", kind="vpc"), "issourcenat": P("bool"), "isstaticnat": P("bool"),
    "allocatedonly": P("bool"), "forvirtualnetwork": P("bool"), "physicalnetworkid": P(), "vlanid": P(), "state": P(),
    "tags": P("map"), "fordisplay": P("bool"), "forloadbalancing": P("bool"),
}, list_key="publicipaddress", java="org.apache.cloudstack.api.command.user.address.ListPublicIpAddressesCmd")
def list_public_ips(ctx, p):
    if p["vpcid"] or p["isstaticnat"] or p["forloadbalancing"] or p["forvirtualnetwork"] is False:
        return []
    ips = by_ids(ctx.tx.all("ip"), p["id"], None)
    ips = where(ips, ipaddress=p["ipaddress"], associatednetworkid=p["associatednetworkid"], zoneid=p["zoneid"],
                issourcenat=p["issourcenat"], vlanid=p["vlanid"])
    if p["state"]:
        ips = [i for i in ips if i["state"].lower() == p["state"].lower()]
    ips = with_tags(ctx, with_keyword(ips, p["keyword"], ("ipaddress",)), "PublicIpAddress", p["tags"])
    return [render_ip(ctx, ip) for ip in ips]
