"""Virtual machines and what hangs off them: deploy, list, start, stop, reboot, destroy,
expunge, recover, update, changeServiceFor, resetSSHKeyFor, restore, getVirtualMachineUserData,
listNics, listVolumes and resizeVolume.

States follow CloudStack's VirtualMachine.State: a deployed VM is Starting until its job runs,
then Running (or Stopped with startvm=false); stop goes through Stopping; destroy leaves it
Destroyed (recoverable); expunge (or destroy with expunge=true) removes it with its NICs,
volumes, port forwarding rules and tags. A failed deploy job leaves it in Error."""
import base64
import binascii
import re

from .. import errors
from ..params import P
from ..registry import command
from .common import (allocate_guest_ip, by_ids, delete_dependents, delete_tags_of, implement_network, mac_address, new_id, owner, same_name,
                     tags_of, where, with_keyword, with_tags)

_HOSTNAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,62}$")
_HOSTNAME_RULES = ("Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' through '9', and the hyphen ('-'), "
                   "must be between 1 and 63 characters long, and can't start or end with \"-\" and can't start with digit")
_MAX_GET_USERDATA = 4096  # base64 characters over HTTP GET
_MAX_USERDATA = 32768  # decoded bytes (vm.userdata.max.length)
GONE = ("Destroyed", "Expunging", "Error")


# --- responses ----------------------------------------------------------------------------


def render_nic(ctx, nic, with_vm=False):
    network = ctx.tx.get("network", nic["networkid"])
    offering = ctx.tx.get("networkoffering", network["networkofferingid"])
    body = {
        "id": nic["id"], "networkid": network["id"], "networkname": network["name"], "netmask": network["netmask"],
        "gateway": network["gateway"], "ipaddress": nic["ipaddress"], "traffictype": "Guest", "type": offering["guestiptype"],
        "isdefault": nic["isdefault"], "macaddress": nic["macaddress"], "secondaryip": [], "extradhcpoption": [],
        "deviceid": str(nic["deviceid"]),
    }
    if network.get("broadcasturi"):
        body.update(broadcasturi=network["broadcasturi"], isolationuri=network["broadcasturi"])
    if with_vm:
        body["virtualmachineid"] = nic["vmid"]
    return body


def nics_of(ctx, vm_id):
    return sorted((n for n in ctx.tx.all("nic") if n["vmid"] == vm_id), key=lambda n: n["deviceid"])


def render_vm(ctx, vm):
    zone = ctx.tx.get("zone", vm["zoneid"])
    template = ctx.tx.get("template", vm["templateid"])
    offering = ctx.tx.get("serviceoffering", vm["serviceofferingid"])
    ostype = ctx.tx.get("ostype", vm["ostypeid"])
    user = ctx.user()
    body = {
        "id": vm["id"], "name": vm["name"], "displayname": vm["displayname"], "userid": user["id"], "username": user["username"],
        "created": vm["created"], "state": vm["state"], "haenable": vm["haenable"], "zoneid": zone["id"], "zonename": zone["name"],
        "templateid": template["id"], "templatename": template["name"], "templatedisplaytext": template["displaytext"],
        "templatetype": template["templatetype"], "passwordenabled": template["passwordenabled"], "serviceofferingid": offering["id"],
        "serviceofferingname": offering["name"], "cpunumber": vm["cpunumber"], "cpuspeed": vm["cpuspeed"], "memory": vm["memory"],
        "guestosid": ostype["id"], "ostypeid": ostype["id"], "osdisplayname": ostype["description"], "rootdeviceid": 0,
        "rootdevicetype": "ROOT", "securitygroup": [], "affinitygroup": [], "nic": [render_nic(ctx, n) for n in nics_of(ctx, vm["id"])],
        "hypervisor": "Simulator", "instancename": vm["instancename"], "details": dict(vm.get("details") or {}),
        "displayvm": vm["displayvm"], "isdynamicallyscalable": False, "tags": tags_of(ctx, "UserVm", vm["id"], full=True),
        "hasannotations": False, "lastupdated": vm.get("lastupdated", vm["created"]), **owner(ctx),
    }
    if vm.get("group"):
        body.update(groupid=vm["groupid"], group=vm["group"])
    if vm.get("hostid") and vm["state"] in ("Running", "Stopping", "Starting"):
        host = ctx.tx.get("host", vm["hostid"])
        body.update(hostid=host["id"], hostname=host["name"])
    if vm.get("diskofferingid"):
        disk = ctx.tx.get("diskoffering", vm["diskofferingid"])
        body.update(diskofferingid=disk["id"], diskofferingname=disk["name"])
    if vm.get("keypairs"):
        # CloudStack >= 4.17 names the keys in one comma-separated string (no "keypair" field any more).
        body["keypairs"] = ",".join(vm["keypairs"])
    if vm["state"] == "Running":
        body["cpuused"] = "0%"
    return body


def render_volume(ctx, volume):
    zone = ctx.tx.get("zone", volume["zoneid"])
    vm = ctx.tx.get("vm", volume["vmid"]) if volume.get("vmid") else None
    body = {
        "id": volume["id"], "name": volume["name"], "zoneid": zone["id"], "zonename": zone["name"], "type": volume["type"],
        "deviceid": volume["deviceid"], "size": volume["size"], "created": volume["created"], "state": "Ready",
        "storagetype": "shared", "hypervisor": "Simulator", "storage": "PS0", "destroyed": False, "isextractable": False,
        "provisioningtype": "thin", "tags": tags_of(ctx, "Volume", volume["id"]), "hasannotations": False, **owner(ctx),
    }
    if vm:
        body.update(virtualmachineid=vm["id"], vmname=vm["name"], vmdisplayname=vm["displayname"], vmstate=vm["state"])
    if volume.get("diskofferingid"):
        disk = ctx.tx.get("diskoffering", volume["diskofferingid"])
        body.update(diskofferingid=disk["id"], diskofferingname=disk["name"], diskofferingdisplaytext=disk["displaytext"])
    if volume["type"] == "ROOT":
        body.update(templateid=vm["templateid"] if vm else None)
    return body


# --- checks -------------------------------------------------------------------------------


def check_userdata(ctx, userdata):
    if userdata is None:
        return None
    if ctx.http_method == "GET" and len(userdata) >= _MAX_GET_USERDATA:
        raise errors.param_error("User data is too long for an http GET request")
    try:
        decoded = base64.b64decode(userdata, validate=True)
    except (binascii.Error, ValueError):
        raise errors.param_error("User data is not base64 encoded") from None
    if len(decoded) > _MAX_USERDATA:
        raise errors.param_error("User data is too long for a POST request")
    return userdata


def keypair_names(ctx, names):
    found = []
    for name in names:
        pair = next((k for k in ctx.tx.all("sshkeypair") if same_name(k["name"], name)), None)
        if pair is None:
            raise errors.param_error(f"A key pair with name '{name}' was not found.")
        found.append(pair["name"])
    return found


def _default_network(ctx, zone):
    """The network a deploy without networkids gets: the account's only isolated network in the
    zone, or a new one from the Required isolated offering (as CloudStack does)."""
    offerings = {o["id"]: o for o in ctx.tx.all("networkoffering")}
    isolated = [n for n in ctx.tx.all("network") if n["zoneid"] == zone["id"] and offerings[n["networkofferingid"]]["guestiptype"] == "Isolated"]
    if len(isolated) > 1:
        raise errors.param_error(f"More than 1 default Isolated networks are found for account {ctx.account()['name']}; please specify networkIds")
    if isolated:
        return isolated[0]
    required = next((o for o in offerings.values() if o["availability"] == "Required" and o["guestiptype"] == "Isolated"), None)
    if required is None:
        raise errors.param_error("Unable to find physical network with id: null and tag: null")
    from .networks import create_network  # pylint: disable=import-outside-toplevel  # networks imports nothing from here
    name = f"{ctx.account()['name']}-network"
    saved = ctx.params
    ctx.params = {"domainid": None, "account": None, "projectid": None}
    try:
        args = {**{k: None for k in create_network.params}, "name": name, "displaytext": name, "networkofferingid": required["id"], "zoneid": zone["id"]}
        created = create_network.handler(ctx, args)
    finally:
        ctx.params = saved
    return ctx.tx.get("network", created["network"]["id"])


def _vm_offering(ctx, offering_id, details):
    offering = ctx.tx.get("serviceoffering", offering_id)
    details = details or {}
    return {"cpunumber": int(details.get("cpuNumber", offering["cpunumber"])), "cpuspeed": int(details.get("cpuSpeed", offering["cpuspeed"])),
            "memory": int(details.get("memory", offering["memory"]))}


# --- deploy -------------------------------------------------------------------------------


@command("deployVirtualMachine", {
    "serviceofferingid": P("uuid", required=True, kind="serviceoffering"), "templateid": P("uuid", required=True, kind="template"),
    "zoneid": P("uuid", required=True, kind="zone"), "name": P(), "displayname": P(), "group": P(), "account": P(),
    "domainid": P("uuid", kind="domain"), "projectid": P("uuid", kind="project"), "diskofferingid": P("uuid", kind="diskoffering"),
    "size": P("int"), "rootdisksize": P("int"), "networkids": P("uuids", kind="network"), "iptonetworklist": P("map"),
    "ipaddress": P(), "ip6address": P(), "keypair": P(), "keypairs": P("list"), "userdata": P(), "userdataid": P("uuid", kind="userdata"),
    "userdatadetails": P("map"), "keyboard": P(), "startvm": P("bool"), "affinitygroupids": P("list"), "affinitygroupnames": P("list"),
    "securitygroupids": P("list"), "securitygroupnames": P("list"), "hypervisor": P(), "hostid": P("uuid", kind="host"),
    "podid": P("uuid", kind="pod"), "clusterid": P("uuid", kind="cluster"), "details": P("map"), "displayvm": P("bool"),
    "macaddress": P(), "dhcpoptionsnetworklist": P("map"), "bootintosetup": P("bool"),
}, is_async=True, returns_id=True, java="org.apache.cloudstack.api.command.admin.vm.DeployVMCmdByAdmin")
def deploy_vm(ctx, p):  # pylint: disable=too-many-locals,too-many-branches
    ctx.check_owner()
    zone = ctx.tx.get("zone", p["zoneid"])
    template = ctx.tx.get("template", p["templateid"])
    if not template["isready"]:
        raise errors.param_error(f"Template {template['id']} has not been completely downloaded to zone {zone['id']}")
    if p["hypervisor"] and not same_name(p["hypervisor"], "Simulator"):
        raise errors.param_error(f"Hypervisor {p['hypervisor']} is not available in zone {zone['name']}")
    name = p["name"]
    if name is not None and (not _HOSTNAME.match(name) or name.endswith("-")):
        raise errors.param_error(_HOSTNAME_RULES)
    userdata = check_userdata(ctx, p["userdata"])
    keypairs = keypair_names(ctx, ([p["keypair"]] if p["keypair"] else []) + (p["keypairs"] or []))
    if p["affinitygroupids"] or p["affinitygroupnames"]:
        missing = (p["affinitygroupnames"] or p["affinitygroupids"])[0]
        raise errors.param_error(f"Unable to find affinity group {missing}")
    if p["securitygroupids"] or p["securitygroupnames"]:
        raise errors.param_error("Can't create vm with security groups; security group feature is not enabled in this zone")
    disk = ctx.tx.get("diskoffering", p["diskofferingid"]) if p["diskofferingid"] else None
    if disk and disk["iscustomized"] and not p["size"]:
        raise errors.param_error("This disk offering requires a custom size specified")
    requested = {}
    if p["iptonetworklist"]:
        if p["networkids"]:
            raise errors.param_error("ipToNetworkMap can't be specified along with networkIds or ipAddress")
        network_ids = []
        for entry in p["iptonetworklist"]:
            network_id = entry.get("networkid")
            if not network_id or ctx.tx.get("network", network_id) is None:
                raise errors.no_such_entity(ctx.command, "iptonetworklist", network_id)
            network_ids.append(network_id)
            if entry.get("ip"):
                requested[network_id] = entry["ip"]
    else:
        network_ids = p["networkids"] or []
    networks = [ctx.tx.get("network", i) for i in network_ids] or [_default_network(ctx, zone)]
    for network in networks:
        if network["zoneid"] != zone["id"]:
            raise errors.param_error(f"Network id={network['id']} doesn't belong to zone {zone['id']}")
    if p["ipaddress"]:
        requested.setdefault(networks[0]["id"], p["ipaddress"])
    vm_id = new_id()
    seq = ctx.tx.next_seq("vm")
    name = name or f"VM-{vm_id}"
    network_ids = {n["id"] for n in networks}
    for other in ctx.tx.all("vm"):
        if same_name(other["name"], name) and any(nic["networkid"] in network_ids for nic in ctx.tx.all("nic") if nic["vmid"] == other["id"]):
            network = next(n for n in networks if any(nic["networkid"] == n["id"] for nic in ctx.tx.all("nic") if nic["vmid"] == other["id"]))
            raise errors.param_error(
                f"The vm with hostName {name} already exists in the network domain: {network.get('networkdomain')}; network={network['name']}")
    start = p["startvm"] is not False
    details = {k: v for d in p["details"] or [] for k, v in d.items()}
    vm = {
        "id": vm_id, "seq": seq, "name": name, "displayname": p["displayname"] or name, "state": "Starting" if start else "Stopped",
        "zoneid": zone["id"], "templateid": template["id"], "serviceofferingid": p["serviceofferingid"], "ostypeid": template["ostypeid"],
        "diskofferingid": disk["id"] if disk else None, "group": p["group"], "groupid": new_id() if p["group"] else None,
        "keypairs": keypairs, "userdata": userdata, "created": ctx.timestamp(), "hostid": None, "haenable": False,
        "displayvm": p["displayvm"] is not False, "instancename": f"i-{ctx.account()['internalid']}-{seq}-VM",
        "details": details, **_vm_offering(ctx, p["serviceofferingid"], details),
    }
    ctx.tx.put("vm", vm)
    for device, network in enumerate(networks):
        ctx.tx.put("nic", {"id": new_id(), "vmid": vm_id, "networkid": network["id"], "isdefault": device == 0, "deviceid": device,
                           "ipaddress": allocate_guest_ip(ctx, network, requested.get(network["id"])), "macaddress": mac_address()})
    root_size = (p["rootdisksize"] * 1024 ** 3) if p["rootdisksize"] else template["size"]
    ctx.tx.put("volume", {"id": new_id(), "name": f"ROOT-{seq}", "vmid": vm_id, "type": "ROOT", "deviceid": 0, "size": root_size,
                          "zoneid": zone["id"], "created": ctx.timestamp()})
    if disk:
        ctx.tx.put("volume", {"id": new_id(), "name": f"DATA-{seq}", "vmid": vm_id, "type": "DATADISK", "deviceid": 1,
                              "size": (p["size"] or disk["disksize"]) * 1024 ** 3, "zoneid": zone["id"], "diskofferingid": disk["id"],
                              "created": ctx.timestamp()})
    return ctx.job({"id": vm_id, "start": start}, "VirtualMachine", vm_id)


def _run(ctx, vm):
    """What starting a VM on the simulated host does: its networks are implemented, it runs."""
    for nic in nics_of(ctx, vm["id"]):
        implement_network(ctx, ctx.tx.get("network", nic["networkid"]))
    host = ctx.tx.all("host")[0]
    vm.update(state="Running", hostid=host["id"], lastupdated=ctx.timestamp())


@deploy_vm.finisher
def _deploy_done(ctx, args):
    vm = ctx.require("vm", args["id"])
    if args["start"]:
        _run(ctx, vm)
    ctx.tx.put("vm", vm)
    return {"virtualmachine": render_vm(ctx, vm)}


@deploy_vm.on_failure
def _deploy_failed(ctx, args, _error):
    vm = ctx.tx.get("vm", args["id"])
    if vm:
        vm.update(state="Error", hostid=None)
        ctx.tx.put("vm", vm)


# --- listing ------------------------------------------------------------------------------


@command("listVirtualMachines", {
    "id": P("uuid", kind="vm"), "ids": P("uuids", kind="vm"), "name": P(), "state": P(), "zoneid": P("uuid", kind="zone"),
    "templateid": P("uuid", kind="template"), "serviceofferingid": P("uuid", kind="serviceoffering"), "networkid": P("uuid", kind="network"),
    "hostid": P("uuid", kind="host"), "groupid": P(), "tags": P("map"), "details": P("list"), "displayvm": P("bool"),
    "isoid": P(), "vpcid": P("uuid", kind="vpc"), "affinitygroupid": P(), "keypair": P(), "userid": P(), "hypervisor": P(),
}, list_key="virtualmachine", java="org.apache.cloudstack.api.command.admin.vm.ListVMsCmdByAdmin")
def list_vms(ctx, p):
    if p["vpcid"] or p["isoid"] or p["affinitygroupid"]:
        return []
    vms = by_ids(ctx.tx.all("vm"), p["id"], p["ids"])
    vms = where(vms, zoneid=p["zoneid"], templateid=p["templateid"], serviceofferingid=p["serviceofferingid"], hostid=p["hostid"],
                groupid=p["groupid"])
    if p["name"]:  # CloudStack filters names with LIKE %name%
        vms = [v for v in vms if p["name"].lower() in v["name"].lower()]
    if p["state"]:
        vms = [v for v in vms if same_name(v["state"], p["state"])]
    if p["networkid"]:
        in_network = {n["vmid"] for n in ctx.tx.all("nic") if n["networkid"] == p["networkid"]}
        vms = [v for v in vms if v["id"] in in_network]
    if p["keypair"]:
        vms = [v for v in vms if any(same_name(k, p["keypair"]) for k in v.get("keypairs") or [])]
    if p["hypervisor"] and not same_name(p["hypervisor"], "Simulator"):
        vms = []
    vms = with_tags(ctx, with_keyword(vms, p["keyword"], ("name", "displayname", "state")), "UserVm", p["tags"])
    return [render_vm(ctx, v) for v in vms]


@command("getVirtualMachineUserData", {"virtualmachineid": P("uuid", required=True, kind="vm")},
         java="org.apache.cloudstack.api.command.admin.vm.GetVMUserDataCmd")
def get_userdata(ctx, p):
    vm = ctx.tx.get("vm", p["virtualmachineid"])
    body = {"virtualmachineid": vm["id"]}
    if vm.get("userdata"):
        body["userdata"] = vm["userdata"]
    return {"virtualmachineuserdata": body}


@command("listNics", {"virtualmachineid": P("uuid", required=True, kind="vm"), "nicid": P("uuid", kind="nic"),
                      "networkid": P("uuid", kind="network")}, list_key="nic")
def list_nics(ctx, p):
    nics = where(nics_of(ctx, p["virtualmachineid"]), id=p["nicid"], networkid=p["networkid"])
    return [render_nic(ctx, n, with_vm=True) for n in nics]


@command("listVolumes", {"id": P("uuid", kind="volume"), "ids": P("uuids", kind="volume"), "virtualmachineid": P("uuid", kind="vm"),
                         "type": P(), "zoneid": P("uuid", kind="zone"), "name": P(), "tags": P("map"), "diskofferingid": P()},
         list_key="volume")
def list_volumes(ctx, p):
    volumes = where(by_ids(ctx.tx.all("volume"), p["id"], p["ids"]), vmid=p["virtualmachineid"], zoneid=p["zoneid"])
    if p["type"]:
        volumes = [v for v in volumes if same_name(v["type"], p["type"])]
    if p["name"]:
        volumes = [v for v in volumes if same_name(v["name"], p["name"])]
    volumes = with_tags(ctx, with_keyword(volumes, p["keyword"], ("name",)), "Volume", p["tags"])
    return [render_volume(ctx, v) for v in volumes]


@command("resizeVolume", {"id": P("uuid", required=True, kind="volume"), "size": P("int"), "shrinkok": P("bool"),
                          "diskofferingid": P("uuid", kind="diskoffering")}, is_async=True)
def resize_volume(ctx, p):
    volume = ctx.tx.get("volume", p["id"])
    size = p["size"]
    if size is None and p["diskofferingid"]:
        size = ctx.tx.get("diskoffering", p["diskofferingid"])["disksize"]
    if size is None or size <= 0:
        raise errors.param_error("Please specify a valid size for the volume")
    if size * 1024 ** 3 < volume["size"] and not p["shrinkok"]:
        raise errors.param_error("Going from existing size of {} to size of {} would shrink the volume. Need to sign off by supplying the "
                                 "shrinkok parameter with value of true.".format(volume["size"], size * 1024 ** 3))
    return ctx.job({"id": volume["id"], "size": size * 1024 ** 3}, "Volume", volume["id"])


@resize_volume.finisher
def _resize_done(ctx, args):
    volume = ctx.require("volume", args["id"])
    volume["size"] = args["size"]
    ctx.tx.put("volume", volume)
    return {"volume": render_volume(ctx, volume)}


# --- lifecycle ----------------------------------------------------------------------------

_VM_ID = {"id": P("uuid", required=True, kind="vm")}


def _transition(ctx, vm, state):
    vm.update(state=state, lastupdated=ctx.timestamp())
    ctx.tx.put("vm", vm)
    return vm


def _restore_state(ctx, args, _error):
    vm = ctx.tx.get("vm", args["id"])
    if vm and args.get("was"):
        _transition(ctx, vm, args["was"])


def _vm_result(ctx, vm):
    return {"virtualmachine": render_vm(ctx, vm)}


@command("startVirtualMachine", {**_VM_ID, "hostid": P("uuid", kind="host"), "podid": P("uuid", kind="pod"),
                                 "clusterid": P("uuid", kind="cluster"), "bootintosetup": P("bool")},
         is_async=True, java="org.apache.cloudstack.api.command.admin.vm.StartVMCmdByAdmin")
def start_vm(ctx, p):
    vm = ctx.tx.get("vm", p["id"])
    was = vm["state"]
    if was == "Stopped":
        _transition(ctx, vm, "Starting")
    return ctx.job({"id": vm["id"], "was": was}, "VirtualMachine", vm["id"])


@start_vm.finisher
def _start_done(ctx, args):
    vm = ctx.require("vm", args["id"])
    if args["was"] == "Running":
        raise errors.param_error(f"The virtual machine {vm['id']} ({vm['displayname']}) is already running")
    if args["was"] != "Stopped":
        raise errors.param_error(f"Unable to start VM instance {vm['id']} as it is in {args['was']} state")
    _run(ctx, vm)
    ctx.tx.put("vm", vm)
    return _vm_result(ctx, vm)


start_vm.on_failure(_restore_state)


@command("stopVirtualMachine", {**_VM_ID, "forced": P("bool")}, is_async=True, java="org.apache.cloudstack.api.command.admin.vm.StopVMCmdByAdmin")
def stop_vm(ctx, p):
    vm = ctx.tx.get("vm", p["id"])
    was = vm["state"]
    if was in GONE:
        raise errors.param_error(f"Unable to stop VM {vm['id']}: it is in {was} state")
    if was in ("Running", "Starting"):
        _transition(ctx, vm, "Stopping")
    return ctx.job({"id": vm["id"], "was": was}, "VirtualMachine", vm["id"])


@stop_vm.finisher
def _stop_done(ctx, args):
    vm = ctx.require("vm", args["id"])
    vm["hostid"] = None
    return _vm_result(ctx, _transition(ctx, vm, "Stopped"))


stop_vm.on_failure(_restore_state)


@command("rebootVirtualMachine", {**_VM_ID, "forced": P("bool"), "bootintosetup": P("bool")}, is_async=True,
         java="org.apache.cloudstack.api.command.admin.vm.RebootVMCmdByAdmin")
def reboot_vm(ctx, p):
    return ctx.job({"id": p["id"]}, "VirtualMachine", p["id"])


@reboot_vm.finisher
def _reboot_done(ctx, args):
    vm = ctx.require("vm", args["id"])
    if vm["state"] != "Running":
        raise errors.param_error(f"Unable to reboot VM instance {vm['id']}: it is not Running but {vm['state']}")
    return _vm_result(ctx, vm)


def _expunge(ctx, vm):
    delete_dependents(ctx, ("nic", "volume"), "vmid", vm["id"])
    delete_dependents(ctx, ("pfrule",), "virtualmachineid", vm["id"])
    delete_tags_of(ctx, vm["id"])
    result = render_vm(ctx, {**vm, "state": "Expunging"})
    ctx.tx.delete("vm", vm["id"])
    return {"virtualmachine": result}


@command("destroyVirtualMachine", {**_VM_ID, "expunge": P("bool"), "volumeids": P("list")}, is_async=True,
         java="org.apache.cloudstack.api.command.admin.vm.DestroyVMCmdByAdmin")
def destroy_vm(ctx, p):
    vm = ctx.tx.get("vm", p["id"])
    was = vm["state"]
    if was in ("Running", "Starting"):
        _transition(ctx, vm, "Stopping")
    return ctx.job({"id": vm["id"], "was": was, "expunge": bool(p["expunge"])}, "VirtualMachine", vm["id"])


@destroy_vm.finisher
def _destroy_done(ctx, args):
    vm = ctx.require("vm", args["id"])
    if args["expunge"]:
        return _expunge(ctx, vm)
    vm["hostid"] = None
    return _vm_result(ctx, _transition(ctx, vm, "Destroyed"))


destroy_vm.on_failure(_restore_state)


@command("expungeVirtualMachine", dict(_VM_ID), is_async=True, java="org.apache.cloudstack.api.command.admin.vm.ExpungeVMCmd")
def expunge_vm(ctx, p):
    vm = ctx.tx.get("vm", p["id"])
    if vm["state"] not in ("Destroyed", "Error"):
        raise errors.param_error(f"Please destroy vm with id {vm['id']} before expunging it")
    return ctx.job({"id": vm["id"]}, "VirtualMachine", vm["id"])


@expunge_vm.finisher
def _expunge_done(ctx, args):
    _expunge(ctx, ctx.require("vm", args["id"]))
    return {"success": True}


@command("recoverVirtualMachine", dict(_VM_ID), java="org.apache.cloudstack.api.command.admin.vm.RecoverVMCmd")
def recover_vm(ctx, p):
    vm = ctx.tx.get("vm", p["id"])
    if vm["state"] != "Destroyed":
        raise errors.param_error(f"Unable to recover VM {vm['id']}: it is in {vm['state']} state, not Destroyed")
    return _vm_result(ctx, _transition(ctx, vm, "Stopped"))


@command("updateVirtualMachine", {**_VM_ID, "displayname": P(), "group": P(), "userdata": P(), "haenable": P("bool"),
                                  "ostypeid": P("uuid", kind="ostype"), "displayvm": P("bool"), "name": P(), "details": P("map"),
                                  "isdynamicallyscalable": P("bool"), "userdataid": P("uuid", kind="userdata"), "userdatadetails": P("map"),
                                  "securitygroupnames": P("list"), "securitygroupids": P("list")},
         java="org.apache.cloudstack.api.command.admin.vm.UpdateVMCmdByAdmin")
def update_vm(ctx, p):
    vm = ctx.tx.get("vm", p["id"])
    if p["securitygroupnames"] or p["securitygroupids"]:
        raise errors.param_error("Security groups are not enabled in this zone")
    if p["name"] is not None and not same_name(p["name"], vm["name"]):
        if vm["state"] != "Stopped":
            raise errors.param_error("The VM's name can only be changed while it is Stopped")
        if not _HOSTNAME.match(p["name"]) or p["name"].endswith("-"):
            raise errors.param_error(_HOSTNAME_RULES)
        vm["name"] = p["name"]
    if p["userdata"] is not None:
        vm["userdata"] = check_userdata(ctx, p["userdata"])
    if p["group"] is not None:
        vm.update(group=p["group"] or None, groupid=(vm.get("groupid") or new_id()) if p["group"] else None)
    for field in ("displayname", "haenable", "ostypeid", "displayvm"):
        if p[field] is not None:
            vm[field] = p[field]
    return _vm_result(ctx, _transition(ctx, vm, vm["state"]))


@command("changeServiceForVirtualMachine", {**_VM_ID, "serviceofferingid": P("uuid", required=True, kind="serviceoffering"),
                                            "details": P("map")}, java="org.apache.cloudstack.api.command.admin.vm.UpgradeVMCmdByAdmin")
def change_service(ctx, p):
    vm = ctx.tx.get("vm", p["id"])
    if vm["state"] != "Stopped":
        raise errors.param_error(f"Unable to upgrade virtual machine {vm['id']}: it is {vm['state']}, not Stopped")
    details = {k: v for d in p["details"] or [] for k, v in d.items()}
    vm.update(serviceofferingid=p["serviceofferingid"], **_vm_offering(ctx, p["serviceofferingid"], details))
    return _vm_result(ctx, _transition(ctx, vm, "Stopped"))


@command("resetSSHKeyForVirtualMachine", {**_VM_ID, "keypair": P(), "keypairs": P("list"), "account": P(),
                                          "domainid": P("uuid", kind="domain"), "projectid": P("uuid", kind="project")},
         is_async=True, java="org.apache.cloudstack.api.command.user.vm.ResetVMSSHKeyCmd")
def reset_ssh_key(ctx, p):
    names = ([p["keypair"]] if p["keypair"] else []) + (p["keypairs"] or [])
    if not names:
        raise errors.missing_parameter(ctx.command, "keypair")
    return ctx.job({"id": p["id"], "keypairs": keypair_names(ctx, names)}, "VirtualMachine", p["id"])


@reset_ssh_key.finisher
def _reset_ssh_key_done(ctx, args):
    vm = ctx.require("vm", args["id"])
    if vm["state"] != "Stopped":
        raise errors.param_error(f"Vm {vm['instancename']} should be stopped to do SSH Key reset")
    vm["keypairs"] = args["keypairs"]
    return _vm_result(ctx, _transition(ctx, vm, "Stopped"))


@command("restoreVirtualMachine", {"virtualmachineid": P("uuid", required=True, kind="vm"), "templateid": P("uuid", kind="template"),
                                   "rootdisksize": P("int")}, is_async=True, java="org.apache.cloudstack.api.command.user.vm.RestoreVMCmd")
def restore_vm(ctx, p):
    vm = ctx.tx.get("vm", p["virtualmachineid"])
    if vm["state"] in GONE:
        raise errors.param_error(f"Unable to restore VM {vm['id']}: it is in {vm['state']} state")
    return ctx.job({"id": vm["id"], "templateid": p["templateid"] or vm["templateid"], "rootdisksize": p["rootdisksize"]}, "VirtualMachine", vm["id"])


@restore_vm.finisher
def _restore_done(ctx, args):
    vm = ctx.require("vm", args["id"])
    template = ctx.require("template", args["templateid"], "templateid")
    vm.update(templateid=template["id"], ostypeid=template["ostypeid"])
    for volume in ctx.tx.all("volume"):
        if volume.get("vmid") == vm["id"] and volume["type"] == "ROOT":
            ctx.tx.delete("volume", volume["id"])
            size = args["rootdisksize"] * 1024 ** 3 if args["rootdisksize"] else template["size"]
            ctx.tx.put("volume", {**volume, "id": new_id(), "size": size, "created": ctx.timestamp(), "seq": ctx.tx.next_seq("volume")})
    return _vm_result(ctx, _transition(ctx, vm, vm["state"]))
