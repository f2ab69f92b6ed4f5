# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Reading a provider: the one place that knows how a decoded ``DinfraProviders.Providers``
entry and its offers become plain data. Used by the provider module and the Chain Reactor
API."""

from __future__ import annotations

from .chain import PROVIDERS

MAX_OFFERS = 1000
MAX_ALLOW_LIST = 10000


def read_provider(client, address, block_hash):
    """The provider at ``block_hash`` as plain data, or None when it is not registered."""
    info = client.query(PROVIDERS, "Providers", [address], block_hash)
    if info is None:
        return None
    offers = {
        type_id: {"capacity": o["capacity"], "in_use": o["in_use"], "price_per_block": o["price_per_block"]}
        for type_id, o in client.query_entries(PROVIDERS, "Offers", [address], block_hash, MAX_OFFERS)
    }
    allowed = sorted(client.query_keys(PROVIDERS, "AllowList", [address], block_hash, MAX_ALLOW_LIST))
    return dict(
        address=address, name=info["name"], status=info["status"], consumer_policy=info["policy"],
        live_deployments=info["live_deployments"], offers=offers, allowed_consumers=allowed,
    )
