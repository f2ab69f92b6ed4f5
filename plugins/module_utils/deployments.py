# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Reading deployments: the one place that knows how a decoded
``DinfraSubscriptions.Deployments`` entry becomes the variables playbooks see. Used by the
deployments inventory and by deployment_info."""

from __future__ import annotations

from .chain import PROVIDERS, SUBSCRIPTIONS, ChainUnavailable

STATES = ("awarded", "running", "terminating", "terminated", "failed")
LIVE_STATES = ("awarded", "running", "terminating")


def state_of(raw):
    """(state, reason) of a decoded DeploymentState: ``"Running"`` -> ("running", None),
    ``{"Failed": {"reason": {"Provider": "no template"}}}`` -> ("failed", "no template")."""
    if isinstance(raw, str):
        name, detail = raw, None
    elif isinstance(raw, dict) and len(raw) == 1:
        name, detail = next(iter(raw.items()))
    else:
        raise ChainUnavailable(f"unexpected deployment state encoding: {raw!r}")
    state = name.lower()
    if state not in STATES:
        raise ChainUnavailable(f"unknown deployment state {name!r}: is the collection older than the runtime?")
    reason = None
    if isinstance(detail, dict):
        reason = detail.get("reason")
        if isinstance(reason, dict):  # FailureReason::Provider(text)
            reason = next(iter(reason.values()))
    return state, reason


def deployment_record(deployment_id, raw, type_names):
    """One deployment as playbooks see it, from its decoded chain record."""
    state, reason = state_of(raw["state"])
    return {
        "id": deployment_id,
        "consumer": raw["consumer"],
        "provider": raw["provider"],
        "type_id": raw["type_id"],
        "type_name": type_names.get(raw["type_id"]),
        "descriptor_cid": raw["descriptor_cid"],
        "price_per_block": raw["price_per_block"],
        "deposit_remaining": raw["deposit"],
        "paid": raw["paid"],
        # The block the deposit runs out at is only fixed once billing starts.
        "runs_out_at": raw["deadline"] if state == "running" else None,
        "state": state,
        "state_reason": reason,
        "access_info": raw["access_info"],
        "awarded_at": raw["awarded_at"],
    }


def inventory_vars(record, block_number, block_hash):
    """Host variables of a deployment: its record, prefixed ``dinfra_``, and the block read."""
    host_vars = {("dinfra_deployment_id" if key == "id" else f"dinfra_{key}"): value for key, value in record.items()}
    host_vars.update(dinfra_read_at_block=block_number, dinfra_read_at_block_hash=block_hash)
    return host_vars


def deployment_type_names(client, block_hash, type_ids):
    """{type_id: name} for the given ids; an unknown id maps to None."""
    ids = sorted(set(type_ids))
    types = client.query_many(PROVIDERS, "DeploymentTypes", ids, block_hash) if ids else {}
    return {type_id: (value or {}).get("name") for type_id, value in types.items()}


def records(client, ids, block_hash):
    """{id: record} of the deployments with these ids; an id with no record maps to None."""
    raw = client.query_many(SUBSCRIPTIONS, "Deployments", list(ids), block_hash)
    names = deployment_type_names(client, block_hash, [r["type_id"] for r in raw.values() if r is not None])
    return {i: (deployment_record(i, r, names) if r is not None else None) for i, r in raw.items()}


def account_deployments(client, role, account, block_hash, limit):
    """The records of every deployment where ``account`` is the provider (role "provider") or
    the consumer (role "consumer"), from that account's index: other accounts' deployments
    are never read."""
    index = {"provider": "ProviderDeployments", "consumer": "ConsumerDeployments"}[role]
    ids = client.query_keys(SUBSCRIPTIONS, index, [account], block_hash, limit)
    found = records(client, ids, block_hash)
    missing = [i for i, r in found.items() if r is None]
    if missing:
        # The index and the records are written together; a gap means a broken read.
        raise ChainUnavailable(f"deployments {missing} are indexed for {account} but have no record")
    return [found[i] for i in sorted(found)]


def find_deployment_type(client, name, block_hash):
    """The deployment type called ``name`` (id, name, schema CID, owner), or None when the
    chain has none by that name."""
    type_id = client.query(PROVIDERS, "DeploymentTypeIdByName", [name], block_hash)
    if type_id is None:
        return None
    found = client.query(PROVIDERS, "DeploymentTypes", [type_id], block_hash)
    if found is None:
        raise ChainUnavailable(f"the chain names type {name!r} as id {type_id} but has no such type")
    return dict(type_id=type_id, name=found["name"], schema_cid=found["schema_cid"], owner=found["owner"])
