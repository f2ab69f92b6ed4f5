"""The state a fresh (or reset) simulator starts from: what CloudStack's marvin simulator set-up
(setup/dev/advanced.cfg, as in quay.io/ansible/cloudstack-test-container) leaves behind, an
advanced zone with one pod, cluster and simulated host, the ROOT domain and its admin account,
a featured template and CloudStack's default offerings."""
import datetime
import uuid

from .store import SCHEMA_VERSION

ZONE_NAME = "Sandbox-simulator"
TEMPLATE_NAME = "CentOS 5.6 (64-bit) no GUI (Simulator)"
GUEST_CIDR = "10.1.1.0/24"
PUBLIC_RANGE = {"gateway": "192.168.2.1", "netmask": "255.255.255.0", "startip": "192.168.2.2", "endip": "192.168.2.200", "vlan": "50"}
GUEST_VLANS = (100, 200)

_ISOLATED_SERVICES = ["Vpn", "Dhcp", "Dns", "Firewall", "Lb", "UserData", "SourceNat", "StaticNat", "PortForwarding", "Gateway"]


def _id():
    return str(uuid.uuid4())


def _offering_services(names, provider="VirtualRouter"):
    return [{"name": name, "provider": [{"name": provider}]} for name in names]


def seed(tx):
    """Fills an empty state; returns nothing. Ids are fresh UUIDs, as on a new CloudStack."""
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")
    tx.set_meta("schema_version", SCHEMA_VERSION)
    zone = tx.put("zone", {
        "id": _id(), "name": ZONE_NAME, "networktype": "Advanced", "guestcidraddress": GUEST_CIDR,
        "dns1": "10.147.28.6", "internaldns1": "10.147.28.6", "allocationstate": "Enabled",
        "securitygroupsenabled": False, "localstorageenabled": False, "dhcpprovider": "VirtualRouter",
        "zonetoken": _id(), "type": "Core",
    })
    domain = tx.put("domain", {"id": _id(), "name": "ROOT", "path": "ROOT", "level": 0, "created": created})
    account = tx.put("account", {
        "id": _id(), "name": "admin", "accounttype": 1, "roleid": _id(), "rolename": "Root Admin",
        "roletype": "Admin", "domainid": domain["id"], "created": created, "internalid": 2,
    })
    tx.put("user", {
        "id": _id(), "username": "admin", "firstname": "Admin", "lastname": "User",
        "email": "admin@mailprovider.com", "accountid": account["id"], "created": created,
    })
    ostypes = {}
    for description in ("CentOS 5.5 (64-bit)", "CentOS 7", "Ubuntu 22.04 LTS", "Other Linux (64-bit)"):
        ostypes[description] = tx.put("ostype", {"id": _id(), "description": description, "oscategoryid": _id()})
    pnet = tx.put("physicalnetwork", {
        "id": _id(), "name": "Sandbox-pnet", "zoneid": zone["id"], "state": "Enabled",
        "vlan": f"{GUEST_VLANS[0]}-{GUEST_VLANS[1]}", "isolationmethods": "VLAN", "broadcastdomainrange": "ZONE",
    })
    pod = tx.put("pod", {
        "id": _id(), "name": "POD0", "zoneid": zone["id"], "gateway": "172.16.15.1", "netmask": "255.255.255.0",
        "startip": "172.16.15.2", "endip": "172.16.15.200", "allocationstate": "Enabled",
    })
    cluster = tx.put("cluster", {
        "id": _id(), "name": "C0", "podid": pod["id"], "zoneid": zone["id"], "hypervisortype": "Simulator",
        "clustertype": "CloudManaged", "allocationstate": "Enabled", "managedstate": "Managed",
    })
    for n in range(2):
        tx.put("host", {
            "id": _id(), "name": f"SimulatedAgent.{_id()}", "type": "Routing", "state": "Up",
            "resourcestate": "Enabled", "zoneid": zone["id"], "podid": pod["id"], "clusterid": cluster["id"],
            "hypervisor": "Simulator", "ipaddress": f"172.16.15.{10 + n}", "cpunumber": 16, "cpuspeed": 2400,
            "memory": 32 * 1024 ** 3, "created": created,
        })
    tx.put("publicnetwork", {"id": _id(), "name": "Public", "zoneid": zone["id"], "physicalnetworkid": pnet["id"]})
    tx.put("vlan", {"id": _id(), "zoneid": zone["id"], "physicalnetworkid": pnet["id"], **PUBLIC_RANGE})
    tx.put("template", {
        "id": _id(), "name": TEMPLATE_NAME, "displaytext": TEMPLATE_NAME, "ostypeid": ostypes["CentOS 5.5 (64-bit)"]["id"],
        "format": "VHD", "hypervisor": "Simulator", "size": 2 * 1024 ** 3, "isfeatured": True, "ispublic": True,
        "isready": True, "passwordenabled": False, "templatetype": "BUILTIN", "zoneid": zone["id"], "crossZones": True,
        "bootable": True, "sshkeyenabled": False, "isextractable": False, "isdynamicallyscalable": False,
        "created": created, "status": "Download Complete",
    })
    for name, speed, memory in (("Small Instance", 500, 512), ("Medium Instance", 1000, 1024)):
        tx.put("serviceoffering", {
            "id": _id(), "name": name, "displaytext": name, "cpunumber": 1, "cpuspeed": speed, "memory": memory,
            "created": created, "storagetype": "shared", "offerha": False, "limitcpuuse": False, "isvolatile": False,
            "issystem": False, "defaultuse": False, "iscustomized": False, "provisioningtype": "thin", "cachemode": "none",
        })
    for name, text, size, custom in (("Small", "Small Disk, 5 GB", 5, False), ("Medium", "Medium Disk, 20 GB", 20, False),
                                     ("Large", "Large Disk, 100 GB", 100, False), ("Custom", "Custom Disk", 0, True)):
        tx.put("diskoffering", {
            "id": _id(), "name": name, "displaytext": text, "disksize": size, "iscustomized": custom, "created": created,
            "storagetype": "shared", "provisioningtype": "thin", "cachemode": "none", "displayoffering": True,
        })
    offerings = (
        ("DefaultIsolatedNetworkOfferingWithSourceNatService", "Offering for Isolated networks with Source Nat service enabled",
         "Isolated", "Required", False, _ISOLATED_SERVICES, False),
        ("DefaultIsolatedNetworkOffering", "Offering for Isolated networks with no Source Nat service",
         "Isolated", "Optional", True, ["Dhcp", "Dns", "UserData"], False),
        ("DefaultSharedNetworkOffering", "Offering for Shared networks",
         "Shared", "Optional", True, ["Dhcp", "Dns", "UserData"], False),
        ("DefaultIsolatedNetworkOfferingForVpcNetworks", "Offering for Isolated VPC networks with Source Nat service enabled",
         "Isolated", "Optional", False, ["Dhcp", "Dns", "UserData", "SourceNat", "StaticNat", "PortForwarding", "Lb", "NetworkACL", "Vpn"], True),
    )
    for name, text, guest_type, availability, specify, services, for_vpc in offerings:
        tx.put("networkoffering", {
            "id": _id(), "name": name, "displaytext": text, "guestiptype": guest_type, "traffictype": "Guest",
            "availability": availability, "isdefault": True, "specifyvlan": specify, "specifyipranges": specify,
            "conservemode": True, "state": "Enabled", "forvpc": for_vpc, "ispersistent": False,
            "egressdefaultpolicy": False, "networkrate": 200, "service": _offering_services(services),
            "created": created, "supportsstrechedl2subnet": False, "supportspublicaccess": False,
        })
    tx.set_meta("seeded", created)


def ensure_seeded(store):
    with store.transaction() as tx:
        if tx.meta("seeded") is None:
            seed(tx)


def reset(store):
    """Wipes every change: back to a fresh seed (with new ids)."""
    with store.transaction() as tx:
        tx.wipe()
        seed(tx)
