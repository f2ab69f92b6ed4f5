"""SSH key pairs: createSSHKeyPair, registerSSHKeyPair, deleteSSHKeyPair, listSSHKeyPairs."""
from .. import errors, keys
from ..params import P
from ..registry import command
from .common import by_ids, new_id, owner, same_name, with_keyword

_OWNER = {"account": P(), "domainid": P("uuid", kind="domain"), "projectid": P("uuid", kind="project")}


def render_keypair(ctx, pair):
    return {"id": pair["id"], "name": pair["name"], "fingerprint": pair["fingerprint"], "hasannotations": False, **owner(ctx)}


def find(ctx, name):
    return next((k for k in ctx.tx.all("sshkeypair") if same_name(k["name"], name)), None)


def _new(ctx, name, public_key):
    if find(ctx, name):
        raise errors.param_error(f"A key pair with name '{name}' already exists.")
    try:
        key_type, blob = keys.parse_public_key(public_key)
    except keys.InvalidKey:
        raise errors.param_error("Public key is invalid") from None
    fingerprint = keys.fingerprint(blob)
    if any(k["fingerprint"] == fingerprint for k in ctx.tx.all("sshkeypair")):
        raise errors.param_error(f"A key pair with key '{public_key.strip()}' already exists.")
    # CloudStack keeps "type base64", without the comment.
    stored = f"{key_type} {public_key.split()[1]}"
    return ctx.tx.put("sshkeypair", {"id": new_id(), "name": name, "fingerprint": fingerprint, "publickey": stored, "created": ctx.timestamp()})


@command("createSSHKeyPair", {"name": P(required=True), **_OWNER})
def create_keypair(ctx, p):
    ctx.check_owner()
    if find(ctx, p["name"]):
        raise errors.param_error(f"A key pair with name '{p['name']}' already exists.")
    private, public = keys.generate_rsa()
    pair = _new(ctx, p["name"], public)
    return {"keypair": {**render_keypair(ctx, pair), "privatekey": private}}


@command("registerSSHKeyPair", {"name": P(required=True), "publickey": P(required=True), **_OWNER})
def register_keypair(ctx, p):
    ctx.check_owner()
    return {"keypair": render_keypair(ctx, _new(ctx, p["name"], p["publickey"]))}


@command("deleteSSHKeyPair", {"name": P(required=True), **_OWNER})
def delete_keypair(ctx, p):
    ctx.check_owner()
    pair = find(ctx, p["name"])
    if pair is None:
        raise errors.param_error(f"A key pair with name '{p['name']}' does not exist for account {ctx.account()['name']} in specified domain id")
    ctx.tx.delete("sshkeypair", pair["id"])
    return {"success": True}


@command("listSSHKeyPairs", {"id": P("uuid", kind="sshkeypair"), "name": P(), "fingerprint": P()}, list_key="sshkeypair")
def list_keypairs(ctx, p):
    pairs = by_ids(ctx.tx.all("sshkeypair"), p["id"], None)
    if p["name"]:
        pairs = [k for k in pairs if same_name(k["name"], p["name"])]
    if p["fingerprint"]:
        pairs = [k for k in pairs if k["fingerprint"] == p["fingerprint"].lower()]
    return [render_keypair(ctx, k) for k in with_keyword(pairs, p["keyword"], ("name",))]
