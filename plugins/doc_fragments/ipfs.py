# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations


class ModuleDocFragment:
    """IPFS options: the gateway that fetches (GATEWAY) and Kubo's RPC that publishes (API).
    Modules read the environment fallbacks in their argument spec; plugins through ``env``."""

    GATEWAY = r"""
options:
  gateway_url:
    description:
      - IPFS HTTP gateway to fetch from, for example the provider's own Kubo
        (C(http://127.0.0.1:8080)) or a public trustless gateway.
      - The gateway is not trusted. Blocks are requested raw (C(?format=raw)) and each is
        checked against its CID here, so a gateway that sends other bytes is caught.
      - Falls back to E(DINFRA_IPFS_GATEWAY).
    type: str
    default: http://127.0.0.1:8080
  max_size:
    description:
      - Largest document accepted, in bytes. Fetching stops as soon as it is exceeded.
    type: int
    default: 1048576
  ipfs_timeout:
    description:
      - Seconds that fetching a document may take in all, every block included.
    type: int
    default: 30
  schema_cache:
    description:
      - Directory that keeps verified schemas by CID. A CID names its bytes for ever, so
        entries never go stale; they are verified again whenever they are read.
      - Defaults to C(~/.cache/dinfra/schemas) (or under E(XDG_CACHE_HOME)).
    type: path
"""

    API = r"""
options:
  api_url:
    description:
      - Kubo's HTTP RPC endpoint (C(/api/v0) is added). Keep it on loopback or behind an
        authenticating proxy; it can write to the node.
      - Falls back to E(DINFRA_IPFS_API).
    type: str
    default: http://127.0.0.1:5001
  api_auth:
    description:
      - Value of the C(Authorization) header for Kubo's RPC (Kubo's C(API.Authorizations)),
        for example C(Bearer <secret>). Never logged.
      - Falls back to E(DINFRA_IPFS_API_AUTH).
    type: str
  ipfs_timeout:
    description:
      - Seconds that one RPC call may take.
    type: int
    default: 60
"""
