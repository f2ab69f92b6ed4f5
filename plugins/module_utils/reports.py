# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""A provider's reports on chain (deployed, failed, terminated), made idempotent: the one place
that decides whether a report would change anything, and that makes it. Used by the
deployment_status module and the Chain Reactor API."""

from __future__ import annotations

from .chain import SUBSCRIPTIONS, ExtrinsicFailed
from .chain_follower import same_account
from .deployments import records

# For each report: the state in which it is already true (nothing to do), and the call.
REPORTS = {
    "deployed": ("running", "report_deployed"),
    "failed": ("failed", "report_failed"),
    "terminated": ("terminated", "report_terminated"),
}
# What the chain takes, in bytes of UTF-8.
MAX_ACCESS_INFO = 256
MAX_REASON = 256


class ReportRefused(ValueError):
    """A report that is not the provider's to make; ``kind`` is not_found or not_the_provider."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


def needs_report(current, state, access_info=""):
    """Whether the report would change anything on chain."""
    if current["state"] != REPORTS[state][0]:
        return True
    return state == "deployed" and current["access_info"] != access_info


def current_for(client, deployment_id, provider, block_hash):
    """The deployment's record, if it is ``provider``'s; ReportRefused otherwise."""
    current = records(client, [deployment_id], block_hash)[deployment_id]
    if current is None:
        raise ReportRefused("not_found", f"deployment {deployment_id} does not exist (or was purged after it ended)")
    if not same_account(current["provider"], provider):
        raise ReportRefused("not_the_provider",
                            f"deployment {deployment_id} is assigned to {current['provider']}, not to {provider}")
    return current


def submit(client, signer, current, state, access_info="", reason=None):
    """Makes the report on ``current`` (its record, as current_for read it); the result, with
    ``changed`` false when the chain already says so, also after a race with another
    reporter. Chain errors (ExtrinsicFailed with the pallet's error) propagate."""
    deployment_id = current["id"]
    if not needs_report(current, state, access_info):
        return dict(changed=False, deployment=current)
    args = {"id": deployment_id}
    if state == "deployed":
        args["access_info"] = access_info
    elif state == "failed":
        args["reason"] = reason
    try:
        result = client.submit(signer, SUBSCRIPTIONS, REPORTS[state][1], args)
    except ExtrinsicFailed:
        # Another reporter may have made the same report in the meantime: read again first.
        now = records(client, [deployment_id], client.head()[0])[deployment_id]
        if now is not None and not needs_report(now, state, access_info):
            return dict(changed=False, deployment=now)
        raise
    now = records(client, [deployment_id], client.head()[0])[deployment_id]
    after = dict(current, state=REPORTS[state][0], **({"access_info": access_info} if state == "deployed" else {}))
    return dict(changed=True, deployment=now or after, block_hash=result["block_hash"], events=result["events"])
