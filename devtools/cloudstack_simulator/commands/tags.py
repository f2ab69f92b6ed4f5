"""Resource tags: createTags, deleteTags (both async, as in CloudStack) and listTags."""
from .. import errors
from ..params import P
from ..registry import command
from .common import new_id, render_tag, resource_type, with_keyword


def _resources(ctx, p):
    name, kind = resource_type(p["resourcetype"])
    for resource_id in p["resourceids"]:
        if kind is None or ctx.tx.get(kind, resource_id) is None:
            raise errors.param_error(f"Unable to find resource by id {resource_id} and type {name}")
    return name


@command("createTags", {"resourceids": P("list", required=True), "resourcetype": P(required=True), "tags": P("map", required=True),
                        "customer": P()}, is_async=True, java="org.apache.cloudstack.api.command.user.tag.CreateTagsCmd")
def create_tags(ctx, p):
    name = _resources(ctx, p)
    pairs = []
    for item in p["tags"]:
        key, value = item.get("key"), item.get("value")
        if not key or value is None:
            raise errors.param_error("A tag needs both a key and a value")
        pairs.append((key, value))
    existing = {(t["resourceid"], t["key"]) for t in ctx.tx.all("tag") if t["resourcetype"] == name}
    for resource_id in p["resourceids"]:
        for key, _value in pairs:
            if (resource_id, key) in existing:
                raise errors.param_error(f"tag {key} already on {name} with id {resource_id}")
    return ctx.job({"type": name, "ids": p["resourceids"], "tags": pairs, "customer": p["customer"]})


@create_tags.finisher
def _create_tags_done(ctx, args):
    for resource_id in args["ids"]:
        for key, value in args["tags"]:
            ctx.tx.put("tag", {"id": new_id(), "key": key, "value": value, "resourcetype": args["type"],
                               "resourceid": resource_id, "customer": args["customer"]})
    return {"success": True}


@command("deleteTags", {"resourceids": P("list", required=True), "resourcetype": P(required=True), "tags": P("map")},
         is_async=True, java="org.apache.cloudstack.api.command.user.tag.DeleteTagsCmd")
def delete_tags(ctx, p):
    name = _resources(ctx, p)
    wanted = [(item.get("key"), item.get("value")) for item in p["tags"] or []]
    doomed = [t["id"] for t in ctx.tx.all("tag") if t["resourcetype"] == name and t["resourceid"] in p["resourceids"] and (
        not wanted or any(t["key"] == key and (value is None or t["value"] == value) for key, value in wanted))]
    if not doomed:
        raise errors.param_error("Unable to find any tags which conform to specified delete parameters.")
    return ctx.job({"ids": doomed})


@delete_tags.finisher
def _delete_tags_done(ctx, args):
    for tag_id in args["ids"]:
        ctx.tx.delete("tag", tag_id)
    return {"success": True}


@command("listTags", {"resourceid": P(), "resourcetype": P(), "key": P(), "value": P(), "customer": P()}, list_key="tag")
def list_tags(ctx, p):
    tags = ctx.tx.all("tag")
    if p["resourcetype"]:
        name, _kind = resource_type(p["resourcetype"])
        tags = [t for t in tags if t["resourcetype"] == name]
    for field in ("resourceid", "key", "value", "customer"):
        if p[field] is not None:
            tags = [t for t in tags if t.get(field) == p[field]]
    return [render_tag(ctx, t, full=True) for t in with_keyword(tags, p["keyword"], ("key", "value"))]
