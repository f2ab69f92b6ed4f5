"""Network rules on public addresses and guest networks: port forwarding
(create/delete/listPortForwardingRules), ingress firewall (create/delete/listFirewallRules) and
egress firewall (create/delete/listEgressFirewallRules)."""
import ipaddress

from .. import errors
from ..params import P
from ..registry import command
from .common import by_ids, delete_tags_of, new_id, tags_of, where, with_tags

_PORT_FORWARDING_PROTOCOLS = ("tcp", "udp")
_FIREWALL_PROTOCOLS = ("tcp", "udp", "icmp", "all")


def _check_port(name, port):
    if port is not None and not 1 <= port <= 65535:
        raise errors.param_error(f"{name} is an invalid value: {port}")


def _check_range(start, end, what="port"):
    if start is not None and end is not None and start > end:
        raise errors.param_error(f"Start {what} can't be bigger than end {what}")


def _check_cidrs(cidrs):
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise errors.param_error(f"Invalid cidr {cidr}") from None
        if network.version != 4 or "/" not in cidr:
            raise errors.param_error(f"Invalid cidr {cidr}")


def _overlap(a_start, a_end, b_start, b_end):
    if None in (a_start, b_start):
        return True  # a rule without ports covers them all
    return a_start <= b_end and b_start <= a_end


def _conflict(rule, other, start_key, end_key):
    raise errors.ApiError(
        errors.NETWORK_RULE_CONFLICT_ERROR,
        f"The range specified, {rule[start_key]}-{rule[end_key]}, conflicts with rule {other['id']} which has {other[start_key]}-{other[end_key]}",
    )


def _ip_network(ctx, ip):
    if ip["state"] != "Allocated" or not ip.get("associatednetworkid"):
        raise errors.param_error(f"Unable to create the rule; ip id={ip['id']} is not associated with any network or not allocated yet")
    return ctx.tx.get("network", ip["associatednetworkid"])


# --- port forwarding ----------------------------------------------------------------------


def render_pf(ctx, rule):
    ip = ctx.tx.get("ip", rule["ipaddressid"])
    vm = ctx.tx.get("vm", rule["virtualmachineid"])
    return {
        "id": rule["id"], "privateport": str(rule["privateport"]), "privateendport": str(rule["privateendport"]),
        "protocol": rule["protocol"], "publicport": str(rule["publicport"]), "publicendport": str(rule["publicendport"]),
        "virtualmachineid": rule["virtualmachineid"], "virtualmachinename": vm["name"] if vm else None,
        "virtualmachinedisplayname": vm["displayname"] if vm else None, "ipaddressid": ip["id"], "ipaddress": ip["ipaddress"],
        "state": rule["state"], "cidrlist": ",".join(rule.get("cidrlist") or []), "tags": tags_of(ctx, "PortForwardingRule", rule["id"]),
        "vmguestip": rule["vmguestip"], "networkid": rule["networkid"], "fordisplay": True,
    }


@command("createPortForwardingRule", {
    "ipaddressid": P("uuid", required=True, kind="ip"), "privateport": P("int", required=True), "protocol": P(required=True),
    "publicport": P("int", required=True), "virtualmachineid": P("uuid", required=True, kind="vm"), "privateendport": P("int"),
    "publicendport": P("int"), "openfirewall": P("bool"), "networkid": P("uuid", kind="network"), "vmguestip": P(),
    "cidrlist": P("list"), "fordisplay": P("bool"),
}, is_async=True, returns_id=True, java="org.apache.cloudstack.api.command.user.firewall.CreatePortForwardingRuleCmd")
def create_pf(ctx, p):
    ip = ctx.tx.get("ip", p["ipaddressid"])
    network = _ip_network(ctx, ip)
    protocol = p["protocol"].lower()
    if protocol not in _PORT_FORWARDING_PROTOCOLS:
        raise errors.param_error(f"Invalid protocol {p['protocol']} for a port forwarding rule; it must be tcp or udp")
    rule = {"privateport": p["privateport"], "privateendport": p["privateendport"] or p["privateport"],
            "publicport": p["publicport"], "publicendport": p["publicendport"] or p["publicport"]}
    for name, value in rule.items():
        _check_port(name, value)
    _check_range(rule["publicport"], rule["publicendport"])
    _check_range(rule["privateport"], rule["privateendport"])
    if rule["publicendport"] - rule["publicport"] != rule["privateendport"] - rule["privateport"]:
        raise errors.param_error("Private port range and public port range must be of the same size")
    if p["networkid"] and p["networkid"] != network["id"]:
        raise errors.param_error(f"IP address id={ip['id']} is not associated with network id={p['networkid']}")
    vm = ctx.tx.get("vm", p["virtualmachineid"])
    if vm["state"] in ("Destroyed", "Expunging", "Error"):
        raise errors.param_error(f"Invalid user vm: {vm['id']}; it is in {vm['state']} state")
    nic = next((n for n in ctx.tx.all("nic") if n["vmid"] == vm["id"] and n["networkid"] == network["id"]), None)
    if nic is None:
        raise errors.param_error(f"Vm {vm['name']} doesn't belong to network {network['name']} associated with ip address {ip['ipaddress']}")
    guest_ip = p["vmguestip"] or nic["ipaddress"]
    if guest_ip != nic["ipaddress"]:
        raise errors.param_error(f"VM ip {guest_ip} address does not belong to the vm")
    for other in ctx.tx.all("pfrule"):
        if other["ipaddressid"] == ip["id"] and other["protocol"] == protocol and \
                _overlap(rule["publicport"], rule["publicendport"], other["publicport"], other["publicendport"]):
            _conflict(rule, other, "publicport", "publicendport")
    if p["cidrlist"]:
        _check_cidrs(p["cidrlist"])
    rule.update(id=new_id(), ipaddressid=ip["id"], protocol=protocol, virtualmachineid=vm["id"], vmguestip=guest_ip,
                networkid=network["id"], state="Add", cidrlist=p["cidrlist"] or [], created=ctx.timestamp())
    ctx.tx.put("pfrule", rule)
    # openfirewall defaults to true in CloudStack: an ingress rule for the public ports comes along.
    firewall = None
    if p["openfirewall"] is not False:
        firewall = _new_firewall_rule(ctx, ip, network, protocol, rule["publicport"], rule["publicendport"], ["0.0.0.0/0"], None, None)
    return ctx.job({"id": rule["id"], "firewall": firewall and firewall["id"]}, "FirewallRule", rule["id"])


@create_pf.finisher
def _create_pf_done(ctx, args):
    rule = ctx.require("pfrule", args["id"])
    rule["state"] = "Active"
    ctx.tx.put("pfrule", rule)
    return {"portforwardingrule": render_pf(ctx, rule)}


@create_pf.on_failure
def _create_pf_failed(ctx, args, _error):
    ctx.tx.delete("pfrule", args["id"])
    if args.get("firewall"):
        ctx.tx.delete("fwrule", args["firewall"])


@command("deletePortForwardingRule", {"id": P("uuid", required=True, kind="pfrule")}, is_async=True,
         java="org.apache.cloudstack.api.command.user.firewall.DeletePortForwardingRuleCmd")
def delete_pf(ctx, p):
    return ctx.job({"id": p["id"]}, "FirewallRule", p["id"])


@delete_pf.finisher
def _delete_pf_done(ctx, args):
    ctx.require("pfrule", args["id"])
    delete_tags_of(ctx, args["id"])
    ctx.tx.delete("pfrule", args["id"])
    return {"success": True}


@command("listPortForwardingRules", {"id": P("uuid", kind="pfrule"), "ipaddressid": P("uuid", kind="ip"),
                                     "networkid": P("uuid", kind="network"), "tags": P("map"), "fordisplay": P("bool")},
         list_key="portforwardingrule", java="org.apache.cloudstack.api.command.user.firewall.ListPortForwardingRulesCmd")
def list_pf(ctx, p):
    rules = where(by_ids(ctx.tx.all("pfrule"), p["id"], None), ipaddressid=p["ipaddressid"], networkid=p["networkid"])
    return [render_pf(ctx, r) for r in with_tags(ctx, rules, "PortForwardingRule", p["tags"])]


# --- firewall -----------------------------------------------------------------------------


def render_firewall(ctx, rule):
    body = {
        "id": rule["id"], "protocol": rule["protocol"], "state": rule["state"], "cidrlist": ",".join(rule["cidrlist"]),
        "tags": tags_of(ctx, "FirewallRule", rule["id"]), "fordisplay": True, "networkid": rule["networkid"],
    }
    if rule["protocol"] in ("tcp", "udp") and rule.get("startport") is not None:
        body.update(startport=rule["startport"], endport=rule["endport"])
    if rule["protocol"] == "icmp":
        body.update(icmptype=rule["icmptype"], icmpcode=rule["icmpcode"])
    if rule["traffictype"] == "Ingress":
        ip = ctx.tx.get("ip", rule["ipaddressid"])
        body.update(ipaddressid=ip["id"], ipaddress=ip["ipaddress"])
    else:
        body["destcidrlist"] = ",".join(rule.get("destcidrlist") or [])
    return body


def _new_firewall_rule(ctx, ip, network, protocol, start, end, cidrs, icmp_type, icmp_code, traffic="Ingress", dest=None):
    if protocol not in _FIREWALL_PROTOCOLS:
        raise errors.param_error(f"Invalid protocol {protocol}; it must be one of {', '.join(_FIREWALL_PROTOCOLS)}")
    _check_port("startport", start)
    _check_port("endport", end)
    _check_range(start, end)
    if protocol != "icmp" and (icmp_type is not None or icmp_code is not None):
        raise errors.param_error("Can specify icmpCode and icmpType for ICMP protocol only")
    if protocol == "icmp" and start is not None:
        raise errors.param_error("Can't specify start/end port when protocol is ICMP")
    _check_cidrs(cidrs)
    rule = {"id": new_id(), "protocol": protocol, "startport": start, "endport": end, "cidrlist": cidrs,
            "icmptype": icmp_type if protocol == "icmp" else None, "icmpcode": icmp_code if protocol == "icmp" else None,
            "ipaddressid": ip["id"] if ip else None, "networkid": network["id"], "traffictype": traffic, "state": "Active",
            "destcidrlist": dest, "created": ctx.timestamp()}
    for other in ctx.tx.all("fwrule"):
        same_target = other["ipaddressid"] == rule["ipaddressid"] if traffic == "Ingress" else other["networkid"] == network["id"]
        # Firewall rules only clash when they are for the same protocol and the same CIDRs.
        if same_target and other["traffictype"] == traffic and other["protocol"] == protocol and \
                sorted(other["cidrlist"]) == sorted(cidrs) and (protocol == "all" or (
                    protocol == "icmp" and (other["icmptype"], other["icmpcode"]) == (icmp_type, icmp_code)) or (
                    protocol in ("tcp", "udp") and _overlap(start, end, other["startport"], other["endport"]))):
            _conflict(rule, other, "startport", "endport")
    return ctx.tx.put("fwrule", rule)


@command("createFirewallRule", {
    "ipaddressid": P("uuid", required=True, kind="ip"), "protocol": P(required=True), "cidrlist": P("list"), "startport": P("int"),
    "endport": P("int"), "icmptype": P("int"), "icmpcode": P("int"), "type": P(), "fordisplay": P("bool"),
}, is_async=True, returns_id=True, java="org.apache.cloudstack.api.command.user.firewall.CreateFirewallRuleCmd")
def create_firewall(ctx, p):
    ip = ctx.tx.get("ip", p["ipaddressid"])
    network = _ip_network(ctx, ip)
    end = p["endport"] if p["endport"] is not None else p["startport"]
    rule = _new_firewall_rule(ctx, ip, network, p["protocol"].lower(), p["startport"], end, p["cidrlist"] or ["0.0.0.0/0"],
                              p["icmptype"], p["icmpcode"])
    rule["state"] = "Add"
    ctx.tx.put("fwrule", rule)
    return ctx.job({"id": rule["id"]}, "FirewallRule", rule["id"])


def _firewall_done(ctx, args):
    rule = ctx.require("fwrule", args["id"])
    rule["state"] = "Active"
    ctx.tx.put("fwrule", rule)
    return {"firewallrule": render_firewall(ctx, rule)}


def _firewall_failed(ctx, args, _error):
    ctx.tx.delete("fwrule", args["id"])


def _delete_firewall_job(ctx, rule_id, traffic):
    """Ingress and egress rules share one table; each delete command sees only its own kind."""
    if ctx.tx.get("fwrule", rule_id)["traffictype"] != traffic:
        raise errors.no_such_entity(ctx.command, "id", rule_id)
    return ctx.job({"id": rule_id}, "FirewallRule", rule_id)


def _firewall_deleted(ctx, args):
    ctx.require("fwrule", args["id"])
    delete_tags_of(ctx, args["id"])
    ctx.tx.delete("fwrule", args["id"])
    return {"success": True}


create_firewall.finisher(_firewall_done)
create_firewall.on_failure(_firewall_failed)


@command("deleteFirewallRule", {"id": P("uuid", required=True, kind="fwrule")}, is_async=True,
         java="org.apache.cloudstack.api.command.user.firewall.DeleteFirewallRuleCmd")
def delete_firewall(ctx, p):
    return _delete_firewall_job(ctx, p["id"], "Ingress")


delete_firewall.finisher(_firewall_deleted)


@command("listFirewallRules", {"id": P("uuid", kind="fwrule"), "ipaddressid": P("uuid", kind="ip"), "networkid": P("uuid", kind="network"),
                               "tags": P("map"), "fordisplay": P("bool")},
         list_key="firewallrule", java="org.apache.cloudstack.api.command.user.firewall.ListFirewallRulesCmd")
def list_firewall(ctx, p):
    rules = [r for r in ctx.tx.all("fwrule") if r["traffictype"] == "Ingress"]
    rules = where(by_ids(rules, p["id"], None), ipaddressid=p["ipaddressid"], networkid=p["networkid"])
    return [render_firewall(ctx, r) for r in with_tags(ctx, rules, "FirewallRule", p["tags"])]


@command("createEgressFirewallRule", {
    "networkid": P("uuid", required=True, kind="network"), "protocol": P(required=True), "cidrlist": P("list"), "destcidrlist": P("list"),
    "startport": P("int"), "endport": P("int"), "icmptype": P("int"), "icmpcode": P("int"), "type": P(), "fordisplay": P("bool"),
}, is_async=True, returns_id=True, java="org.apache.cloudstack.api.command.user.firewall.CreateEgressFirewallRuleCmd")
def create_egress(ctx, p):
    network = ctx.tx.get("network", p["networkid"])
    end = p["endport"] if p["endport"] is not None else p["startport"]
    rule = _new_firewall_rule(ctx, None, network, p["protocol"].lower(), p["startport"], end, p["cidrlist"] or [network["cidr"]],
                              p["icmptype"], p["icmpcode"], traffic="Egress", dest=p["destcidrlist"])
    rule["state"] = "Add"
    ctx.tx.put("fwrule", rule)
    return ctx.job({"id": rule["id"]}, "FirewallRule", rule["id"])


create_egress.finisher(_firewall_done)
create_egress.on_failure(_firewall_failed)


@command("deleteEgressFirewallRule", {"id": P("uuid", required=True, kind="fwrule")}, is_async=True,
         java="org.apache.cloudstack.api.command.user.firewall.DeleteEgressFirewallRuleCmd")
def delete_egress(ctx, p):
    return _delete_firewall_job(ctx, p["id"], "Egress")


delete_egress.finisher(_firewall_deleted)


@command("listEgressFirewallRules", {"id": P("uuid", kind="fwrule"), "networkid": P("uuid", kind="network"), "tags": P("map")},
         list_key="firewallrule", java="org.apache.cloudstack.api.command.user.firewall.ListEgressFirewallRulesCmd")
def list_egress(ctx, p):
    rules = [r for r in ctx.tx.all("fwrule") if r["traffictype"] == "Egress"]
    rules = where(by_ids(rules, p["id"], None), networkid=p["networkid"])
    return [render_firewall(ctx, r) for r in with_tags(ctx, rules, "FirewallRule", p["tags"])]
