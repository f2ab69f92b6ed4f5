"""What the simulator is seeded with and never changes (zones, domains, accounts, templates,
offerings, hosts...) and what it keeps empty (projects, ISOs, VPCs, affinity and security groups)."""
from .. import errors
from ..params import P
from ..registry import COMMANDS, command
from .common import by_ids, same_name, tags_of, where, with_keyword, with_tags

_EMPTY_LIST_PARAMS = {"id": P(), "name": P(), "zoneid": P("uuid", kind="zone")}


def _zone_name(ctx, zone_id):
    zone = ctx.tx.get("zone", zone_id)
    return zone["name"] if zone else None


@command("listZones", {"id": P("uuid", kind="zone"), "ids": P("uuids", kind="zone"), "name": P(), "available": P("bool"),
                       "networktype": P(), "showcapacities": P("bool"), "tags": P("map")}, list_key="zone")
def list_zones(ctx, p):
    zones = by_ids(ctx.tx.all("zone"), p["id"], p["ids"])
    if p["name"]:
        zones = [z for z in zones if same_name(z["name"], p["name"])]
    if p["networktype"]:
        zones = [z for z in zones if same_name(z["networktype"], p["networktype"])]
    zones = with_tags(ctx, with_keyword(zones, p["keyword"], ("name",)), "Zone", p["tags"])
    return [{**{k: v for k, v in z.items() if k != "seq"}, "tags": tags_of(ctx, "Zone", z["id"]), "hasannotations": False} for z in zones]


@command("listDomains", {"id": P("uuid", kind="domain"), "name": P(), "level": P("int"), "details": P("list")}, list_key="domain")
def list_domains(ctx, p):
    domains = by_ids(ctx.tx.all("domain"), p["id"], None)
    if p["name"]:
        domains = [d for d in domains if same_name(d["name"], p["name"])]
    domains = where(domains, level=p["level"])
    return [{"id": d["id"], "name": d["name"], "path": d["path"], "level": d["level"], "haschild": False,
             "state": "Active", "created": d["created"], "hasannotations": False} for d in with_keyword(domains, p["keyword"], ("name",))]


def render_account(ctx, account):
    domain = ctx.tx.get("domain", account["domainid"])
    users = [u for u in ctx.tx.all("user") if u["accountid"] == account["id"]]
    return {
        "id": account["id"], "name": account["name"], "accounttype": account["accounttype"], "roleid": account["roleid"],
        "rolename": account["rolename"], "roletype": account["roletype"], "domainid": domain["id"], "domain": domain["name"],
        "domainpath": domain["path"], "state": "enabled", "isdefault": True, "created": account["created"],
        "user": [{"id": u["id"], "username": u["username"], "firstname": u["firstname"], "lastname": u["lastname"],
                  "email": u["email"], "created": u["created"], "state": "enabled", "account": account["name"],
                  "accounttype": account["accounttype"], "accountid": account["id"], "roleid": account["roleid"],
                  "rolename": account["rolename"], "roletype": account["roletype"], "domainid": domain["id"],
                  "domain": domain["name"], "isdefault": True, "iscallerchilddomain": False} for u in users],
    }


@command("listAccounts", {"id": P("uuid", kind="account"), "name": P(), "accounttype": P("int"), "state": P()}, list_key="account")
def list_accounts(ctx, p):
    accounts = by_ids(ctx.tx.all("account"), p["id"], None)
    if p["name"]:
        accounts = [a for a in accounts if same_name(a["name"], p["name"])]
    accounts = where(accounts, accounttype=p["accounttype"])
    return [render_account(ctx, a) for a in with_keyword(accounts, p["keyword"], ("name",))]


@command("listUsers", {"id": P("uuid", kind="user"), "username": P()}, list_key="user")
def list_users(ctx, p):
    account = render_account(ctx, ctx.account())
    users = [u for u in account["user"] if (not p["id"] or u["id"] == p["id"]) and (not p["username"] or same_name(u["username"], p["username"]))]
    return users


@command("listProjects", {**_EMPTY_LIST_PARAMS, "state": P(), "tags": P("map")}, list_key="project")
def list_projects(_ctx, _p):
    return []


_TEMPLATE_FILTERS = ("featured", "self", "selfexecutable", "sharedexecutable", "executable", "community", "all")


def render_template(ctx, t):
    ostype = ctx.tx.get("ostype", t["ostypeid"])
    domain = ctx.domain()
    body = {k: v for k, v in t.items() if k != "seq"}
    body.update(zonename=_zone_name(ctx, t["zoneid"]), ostypename=ostype["description"], account="system",
                domainid=domain["id"], domain=domain["name"], tags=tags_of(ctx, "Template", t["id"]),
                directdownload=False, deployasis=False, requireshvm=False, isrouting=False, hasannotations=False)
    return body


def _template_matches(t, template_filter):
    # The seeded templates are public, featured and owned by the system account.
    return template_filter in ("featured", "executable", "all") or (template_filter == "community" and not t["isfeatured"])


@command("listTemplates", {"templatefilter": P(required=True), "id": P("uuid", kind="template"), "ids": P("uuids", kind="template"),
                           "name": P(), "zoneid": P("uuid", kind="zone"), "hypervisor": P(), "tags": P("map"),
                           "showremoved": P("bool"), "showunique": P("bool")}, list_key="template")
def list_templates(ctx, p):
    if p["templatefilter"] not in _TEMPLATE_FILTERS:
        raise errors.param_error(f"Template filter {p['templatefilter']} is not supported; use one of {', '.join(_TEMPLATE_FILTERS)}")
    templates = [t for t in by_ids(ctx.tx.all("template"), p["id"], p["ids"]) if _template_matches(t, p["templatefilter"])]
    if p["name"]:
        templates = [t for t in templates if same_name(t["name"], p["name"])]
    if p["zoneid"]:
        templates = [t for t in templates if t["crossZones"] or t["zoneid"] == p["zoneid"]]
    if p["hypervisor"]:
        templates = [t for t in templates if same_name(t["hypervisor"], p["hypervisor"])]
    templates = with_tags(ctx, with_keyword(templates, p["keyword"], ("name",)), "Template", p["tags"])
    return [render_template(ctx, t) for t in templates]


@command("listIsos", {**_EMPTY_LIST_PARAMS, "isofilter": P(), "bootable": P("bool"), "isready": P("bool"), "tags": P("map")}, list_key="iso")
def list_isos(_ctx, _p):
    return []


@command("listServiceOfferings", {"id": P("uuid", kind="serviceoffering"), "name": P(), "zoneid": P("uuid", kind="zone"),
                                  "virtualmachineid": P("uuid", kind="vm"), "issystem": P("bool"), "systemvmtype": P()},
         list_key="serviceoffering")
def list_service_offerings(ctx, p):
    offerings = by_ids(ctx.tx.all("serviceoffering"), p["id"], None)
    if p["name"]:
        offerings = [o for o in offerings if same_name(o["name"], p["name"])]
    if p["issystem"]:
        offerings = []
    return [{k: v for k, v in o.items() if k != "seq"} | {"hasannotations": False} for o in with_keyword(offerings, p["keyword"])]


@command("listDiskOfferings", {"id": P("uuid", kind="diskoffering"), "name": P(), "zoneid": P("uuid", kind="zone")}, list_key="diskoffering")
def list_disk_offerings(ctx, p):
    offerings = by_ids(ctx.tx.all("diskoffering"), p["id"], None)
    if p["name"]:
        offerings = [o for o in offerings if same_name(o["name"], p["name"])]
    return [{k: v for k, v in o.items() if k != "seq"} | {"hasannotations": False} for o in with_keyword(offerings, p["keyword"])]


@command("listNetworkOfferings", {"id": P("uuid", kind="networkoffering"), "name": P(), "zoneid": P("uuid", kind="zone"),
                                  "state": P(), "guestiptype": P(), "forvpc": P("bool"), "isdefault": P("bool"),
                                  "traffictype": P(), "availability": P(), "specifyvlan": P("bool")}, list_key="networkoffering")
def list_network_offerings(ctx, p):
    offerings = by_ids(ctx.tx.all("networkoffering"), p["id"], None)
    if p["name"]:
        offerings = [o for o in offerings if same_name(o["name"], p["name"])]
    for field in ("state", "guestiptype", "traffictype", "availability"):
        if p[field]:
            offerings = [o for o in offerings if same_name(o[field], p[field])]
    offerings = where(offerings, forvpc=p["forvpc"], isdefault=p["isdefault"], specifyvlan=p["specifyvlan"])
    return [{k: v for k, v in o.items() if k != "seq"} | {"hasannotations": False} for o in with_keyword(offerings, p["keyword"])]


@command("listVPCs", {**_EMPTY_LIST_PARAMS, "state": P(), "tags": P("map")}, list_key="vpc")
def list_vpcs(_ctx, _p):
    return []


@command("listVPCOfferings", {**_EMPTY_LIST_PARAMS}, list_key="vpcoffering")
def list_vpc_offerings(_ctx, _p):
    return []


@command("listAffinityGroups", {**_EMPTY_LIST_PARAMS, "virtualmachineid": P("uuid", kind="vm"), "type": P()}, list_key="affinitygroup")
def list_affinity_groups(_ctx, _p):
    return []


@command("listAffinityGroupTypes", {}, list_key="affinityGroupType")
def list_affinity_group_types(_ctx, _p):
    return [{"type": "host anti-affinity"}, {"type": "host affinity"}]


@command("listSecurityGroups", {**_EMPTY_LIST_PARAMS, "securitygroupname": P(), "virtualmachineid": P("uuid", kind="vm"),
                                "tags": P("map")}, list_key="securitygroup")
def list_security_groups(_ctx, _p):
    return []


@command("listNetworkACLLists", {**_EMPTY_LIST_PARAMS, "networkid": P("uuid", kind="network"), "vpcid": P()}, list_key="networkacllist")
def list_network_acl_lists(_ctx, _p):
    return []


@command("listUserData", {**_EMPTY_LIST_PARAMS}, list_key="userdata")
def list_user_data(_ctx, _p):
    return []


@command("listHypervisors", {"zoneid": P("uuid", kind="zone")}, list_key="hypervisor")
def list_hypervisors(_ctx, _p):
    return [{"name": "Simulator"}]


@command("listOsTypes", {"id": P("uuid", kind="ostype"), "description": P(), "oscategoryid": P()}, list_key="ostype")
def list_os_types(ctx, p):
    ostypes = by_ids(ctx.tx.all("ostype"), p["id"], None)
    if p["description"]:
        ostypes = [o for o in ostypes if same_name(o["description"], p["description"])]
    return [{"id": o["id"], "description": o["description"], "name": o["description"], "oscategoryid": o["oscategoryid"],
             "oscategoryname": "Linux", "isuserdefined": False, "fordisplay": True} for o in with_keyword(ostypes, p["keyword"], ("description",))]


def _infra(kind, name_field="name"):
    def handler(ctx, p):
        items = by_ids(ctx.tx.all(kind), p["id"], None)
        if p.get("name"):
            items = [i for i in items if same_name(i[name_field], p["name"])]
        items = where(items, zoneid=p.get("zoneid"), podid=p.get("podid"), clusterid=p.get("clusterid"))
        items = with_keyword(items, p["keyword"], (name_field,))
        return [{k: v for k, v in i.items() if k != "seq"} | {"zonename": _zone_name(ctx, i["zoneid"])} for i in items]
    return handler


list_hosts = command("listHosts", {"id": P("uuid", kind="host"), "name": P(), "zoneid": P("uuid", kind="zone"), "podid": P("uuid", kind="pod"),
                                   "clusterid": P("uuid", kind="cluster"), "type": P(), "state": P()}, list_key="host")(_infra("host"))
list_pods = command("listPods", {"id": P("uuid", kind="pod"), "name": P(), "zoneid": P("uuid", kind="zone")}, list_key="pod")(_infra("pod"))
list_clusters = command("listClusters", {"id": P("uuid", kind="cluster"), "name": P(), "zoneid": P("uuid", kind="zone"),
                                         "podid": P("uuid", kind="pod")}, list_key="cluster")(_infra("cluster"))
list_physical_networks = command("listPhysicalNetworks", {"id": P("uuid", kind="physicalnetwork"), "name": P(), "zoneid": P("uuid", kind="zone")},
                                 list_key="physicalnetwork")(_infra("physicalnetwork"))


@command("listCapabilities", {})
def list_capabilities(_ctx, _p):
    return {"capability": {
        "cloudstackversion": "4.19.0.0", "securitygroupsenabled": False, "userpublictemplateenabled": True,
        "supportELB": "false", "projectinviterequired": False, "allowusercreateprojects": True,
        "customdiskofferingminsize": 1, "customdiskofferingmaxsize": 1024, "regionsecondaryenabled": False,
        "kvmsnapshotenabled": True, "allowuserviewdestroyedvm": True, "allowuserexpungerecovervm": True,
        "apilimitinterval": 1, "apilimitmax": 0, "dynamicrolesenabled": True, "defaultuipagesize": 20,
    }}


@command("listApis", {"name": P()}, list_key="api")
def list_apis(_ctx, p):
    names = sorted(n for n in COMMANDS if not p["name"] or n == p["name"])
    return [{"name": n, "isasync": COMMANDS[n].is_async, "params": [{"name": k} for k in sorted(COMMANDS[n].params)]} for n in names]
