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


def deployment_vars(deployment_id, raw, type_names, block_number, block_hash):
    """The variables of one deployment, as the inventory and deployment_info return them."""
    state, reason = state_of(raw["state"])
    return {
        "dinfra_deployment_id": deployment_id,
        "dinfra_consumer": raw["consumer"],
        "dinfra_provider": raw["provider"],
        "dinfra_type_id": raw["type_id"],
        "dinfra_type_name": type_names.get(raw["type_id"]),
        "dinfra_descriptor_cid": raw["descriptor_cid"],
        "dinfra_price_per_block": raw["price_per_block"],
        "dinfra_deposit_remaining": raw["deposit"],
        "dinfra_paid": raw["paid"],
        # The block the deposit runs out at is only fixed once billing starts.
        "dinfra_runs_out_at": raw["deadline"] if state == "running" else None,
        "dinfra_state": state,
        "dinfra_state_reason": reason,
        "dinfra_access_info": raw["access_info"],
        "dinfra_awarded_at": raw["awarded_at"],
        "dinfra_read_at_block": block_number,
        "dinfra_read_at_block_hash": block_hash,
    }


def deployment_type_names(client, block_hash, type_ids):
    """{type_id: name} for the given ids; an unknown id maps to None."""
    ids = sorted(set(type_ids))
    types = client.query_many(PROVIDERS, "DeploymentTypes", ids, block_hash) if ids else {}
    return {type_id: (value or {}).get("name") for type_id, value in types.items()}


def provider_deployments(client, provider, block_hash, block_number, limit):
    """Every deployment listed for ``provider`` at ``block_hash``, as variables, without
    scanning other providers' deployments: the ids come from the ProviderDeployments prefix."""
    ids = [key for key, _ in client.query_keys(SUBSCRIPTIONS, "ProviderDeployments", [provider], block_hash, limit)]
    records = client.query_many(SUBSCRIPTIONS, "Deployments", ids, block_hash)
    missing = [i for i, r in records.items() if r is None]
    if missing:
        # The index and the records are written together; a gap means a broken read.
        raise ChainUnavailable(f"deployments {missing} are indexed for {provider} but have no record")
    names = deployment_type_names(client, block_hash, [r["type_id"] for r in records.values()])
    return [deployment_vars(i, records[i], names, block_number, block_hash) for i in sorted(records)]
