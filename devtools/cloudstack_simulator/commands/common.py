"""What the command modules share: ownership fields, tags, filters, and the guest and public
IP address bookkeeping that VMs, networks and addresses all touch."""
import ipaddress
import secrets
import uuid

from .. import errors
from ..seed import GUEST_VLANS

# CloudStack's ResourceObjectType names (as createTags accepts them, case-insensitively), and
# the kind of object the simulator keeps for those it simulates.
RESOURCE_TYPES = {
    "UserVm": "vm", "Template": "template", "ISO": None, "Volume": "volume", "Snapshot": None,
    "Network": "network", "Nic": "nic", "LoadBalancer": None, "PortForwardingRule": "pfrule",
    "FirewallRule": "fwrule", "SecurityGroup": None, "SecurityGroupRule": None, "PublicIpAddress": "ip",
    "Project": None, "Account": None, "Vpc": None, "NetworkACL": None, "StaticRoute": None,
    "VMSnapshot": None, "RemoteAccessVpn": None, "Zone": "zone", "ServiceOffering": "serviceoffering",
    "Storage": None, "PrivateGateway": None, "NetworkACLList": None, "VpnGateway": None,
    "CustomerGateway": None, "VpnConnection": None, "User": None, "DiskOffering": "diskoffering",
    "AutoScaleVmProfile": None, "AutoScaleVmGroup": None, "LBStickinessPolicy": None,
    "LBHealthCheckPolicy": None, "SnapshotPolicy": None, "GuestOs": "ostype", "NetworkOffering": "networkoffering",
    "VpcOffering": None, "Domain": "domain",
}


def new_id():
    return str(uuid.uuid4())


def resource_type(value):
    """(canonical name, kind) of a resource type as a request names it."""
    for name, kind in RESOURCE_TYPES.items():
        if name.lower() == (value or "").lower():
            return name, kind
    raise errors.param_error(f"Invalid resource type {value}")


def owner(ctx):
    """The ownership fields of a response (everything belongs to admin in ROOT)."""
    domain = ctx.domain()
    return {"account": ctx.account()["name"], "domainid": domain["id"], "domain": domain["name"]}


def render_tag(ctx, tag, full):
    """A tag as CloudStack embeds it: key and value only in most responses, everything in
    listTags and in virtual machines."""
    body = {"key": tag["key"], "value": tag["value"]}
    if full:
        body.update(resourcetype=tag["resourcetype"], resourceid=tag["resourceid"], **owner(ctx))
        if tag.get("customer"):
            body["customer"] = tag["customer"]
    return body


def tags_of(ctx, resourcetype, resource_id, full=False):
    return [render_tag(ctx, t, full) for t in ctx.tx.all("tag") if t["resourceid"] == resource_id and t["resourcetype"] == resourcetype]


def delete_tags_of(ctx, resource_id):
    for tag in ctx.tx.all("tag"):
        if tag["resourceid"] == resource_id:
            ctx.tx.delete("tag", tag["id"])


def tag_filter(tags_param):
    """The (key, value) pairs of a list command's ``tags`` parameter (BaseListTaggedResourcesCmd)."""
    pairs = []
    for item in tags_param or []:
        if item.get("value") is None:
            raise errors.param_error(f"No value is passed in for key {item.get('key')}")
        pairs.append((item.get("key"), item["value"]))
    return pairs


def with_tags(ctx, items, resourcetype, tags_param):
    """The items carrying any of the given tags: CloudStack ORs the key/value pairs."""
    pairs = tag_filter(tags_param)
    if not pairs:
        return items
    tagged = {t["resourceid"] for t in ctx.tx.all("tag") if t["resourcetype"] == resourcetype and (t["key"], t["value"]) in pairs}
    return [item for item in items if item["id"] in tagged]


def with_keyword(items, keyword, fields=("name", "displaytext")):
    """Items with ``keyword`` in any of ``fields`` (SQL LIKE %keyword%, case-insensitive as MySQL compares)."""
    if not keyword:
        return items
    keyword = keyword.lower()
    return [i for i in items if any(keyword in str(i.get(f) or "").lower() for f in fields)]


def where(items, **filters):
    """Items whose fields equal every given filter that is not None."""
    for field, value in filters.items():
        if value is not None:
            items = [i for i in items if i.get(field) == value]
    return items


def by_ids(items, one, many):
    if one:
        items = [i for i in items if i["id"] == one]
    if many:
        items = [i for i in items if i["id"] in many]
    return items


def same_name(a, b):
    """Names compare as MySQL compares them: case-insensitively."""
    return (a or "").lower() == (b or "").lower()


def mac_address():
    return "02:00:" + ":".join(f"{b:02x}" for b in secrets.token_bytes(4))


# --- guest networks -----------------------------------------------------------------------


def cidr_of(network):
    return ipaddress.ip_network(network["cidr"], strict=False)


def guest_ip_taken(ctx, network_id):
    return {n["ipaddress"] for n in ctx.tx.all("nic") if n["networkid"] == network_id and n.get("ipaddress")}


def allocate_guest_ip(ctx, network, requested=None):
    """A free guest address in the network: ``requested`` if it is one, else the lowest free
    (CloudStack picks a random one). The gateway (the virtual router) is never handed out."""
    taken = guest_ip_taken(ctx, network["id"]) | {network["gateway"]}
    hosts = [str(h) for h in cidr_of(network).hosts()]
    if network.get("startip"):
        start, end = ipaddress.ip_address(network["startip"]), ipaddress.ip_address(network.get("endip") or network["startip"])
        hosts = [h for h in hosts if start <= ipaddress.ip_address(h) <= end]
    if requested:
        if requested not in hosts:
            raise errors.param_error(f"Invalid Ip address {requested} passed for network {network['name']}; it is out of its range")
        if requested in taken:
            raise errors.ApiError(errors.INSUFFICIENT_CAPACITY_ERROR, f"The requested ip address {requested} is already in use in network {network['name']}")
        return requested
    for host in hosts:
        if host not in taken:
            return host
    raise errors.ApiError(errors.INSUFFICIENT_CAPACITY_ERROR, f"Insufficient address capacity: no free IP address left in network {network['name']}")


def implement_network(ctx, network):
    """What starting the first VM of an isolated network does: a guest VLAN, a virtual router,
    and (if the offering has the service) a source NAT public address."""
    if network["state"] != "Allocated":
        return network
    used = {n.get("vlan") for n in ctx.tx.all("network") if n.get("vlan")}
    vlan = next((str(v) for v in range(GUEST_VLANS[0], GUEST_VLANS[1] + 1) if str(v) not in used), None)
    if vlan is None:
        raise errors.ApiError(errors.INSUFFICIENT_CAPACITY_ERROR, "Unable to allocate a guest VLAN: the zone's range is used up")
    network.update(state="Implemented", vlan=vlan, broadcasturi=f"vlan://{vlan}")
    ctx.tx.put("network", network)
    offering = ctx.tx.get("networkoffering", network["networkofferingid"])
    if has_service(offering, "SourceNat") and not any(
            ip["associatednetworkid"] == network["id"] and ip["issourcenat"] for ip in ctx.tx.all("ip")):
        acquire_public_ip(ctx, network, source_nat=True, state="Allocated")
    return network


def has_service(offering, service):
    return any(s["name"] == service for s in offering.get("service", []))


# --- public addresses ---------------------------------------------------------------------


def acquire_public_ip(ctx, network, source_nat=False, requested=None, state="Allocating"):
    """Takes a free address of the zone's public range for ``network`` (the lowest free, or ``requested``)."""
    vlan = next(v for v in ctx.tx.all("vlan") if v["zoneid"] == network["zoneid"])
    start, end = ipaddress.ip_address(vlan["startip"]), ipaddress.ip_address(vlan["endip"])
    taken = {ip["ipaddress"] for ip in ctx.tx.all("ip")}
    if requested:
        try:
            wanted = ipaddress.ip_address(requested)
        except ValueError:
            raise errors.param_error(f"Invalid IP address {requested}") from None
        if not start <= wanted <= end:
            raise errors.param_error(f"Unable to find IP address {requested} in the zone's public ranges")
        if requested in taken:
            raise errors.ApiError(errors.INSUFFICIENT_CAPACITY_ERROR, f"IP address {requested} is already allocated")
        address = requested
    else:
        address = next((str(ipaddress.ip_address(int(start) + n)) for n in range(int(end) - int(start) + 1)
                        if str(ipaddress.ip_address(int(start) + n)) not in taken), None)
        if address is None:
            raise errors.ApiError(errors.INSUFFICIENT_CAPACITY_ERROR, "Insufficient address capacity: the zone's public IP range is used up")
    return ctx.tx.put("ip", {
        "id": new_id(), "ipaddress": address, "allocated": ctx.timestamp(), "zoneid": network["zoneid"],
        "issourcenat": source_nat, "vlanid": vlan["id"], "associatednetworkid": network["id"], "state": state,
    })


def delete_dependents(ctx, kinds, field, owner_id):
    """Deletes, with their tags, the objects of ``kinds`` whose ``field`` names ``owner_id``."""
    for kind in kinds:
        for item in ctx.tx.all(kind):
            if item.get(field) == owner_id:
                delete_tags_of(ctx, item["id"])
                ctx.tx.delete(kind, item["id"])


def release_public_ip(ctx, ip):
    """Frees an address with everything on it: its rules and tags."""
    delete_dependents(ctx, ("pfrule", "fwrule"), "ipaddressid", ip["id"])
    delete_tags_of(ctx, ip["id"])
    ctx.tx.delete("ip", ip["id"])
