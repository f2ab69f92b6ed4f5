# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: reactor_summary
short_description: What a Chain Reactor run did, from each deployment's recorded outcome
version_added: 0.1.0
description:
  - Takes a mapping of inventory host to the C(reactor_record) the C(dinfra.chain.reactor) role set on it
    (or nothing, when the host's play stopped before it recorded an outcome) and counts the outcomes.
  - A deployment needs a human when its outcome is C(retrying) (the chain, IPFS or the cloud failed, and it
    is tried again on the next run) or C(error) (no outcome was recorded, the run's output says why).
options:
  _input:
    description: Inventory host name to its C(reactor_record), or to null.
    type: dict
    required: true
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: Summarise the run
  ansible.builtin.set_fact:
    reactor_summary: >-
      {{ dict(hosts | zip(hosts | map('extract', hostvars) | map(attribute='reactor_record', default=None)))
         | dinfra.chain.reactor_summary }}
"""

RETURN = r"""
_value:
  description: The run's summary.
  type: dict
  contains:
    counts:
      description: How many deployments had each outcome (C(deployed), C(failed), C(torn_down), C(unchanged), C(retrying), C(error)).
      type: dict
    deployments:
      description: Each deployment's record, by id, with C(host) added.
      type: list
      elements: dict
    attention:
      description: The records of the deployments that need a human.
      type: list
      elements: dict
    attention_lines:
      description: One readable line per deployment that needs a human.
      type: list
      elements: str
    lines:
      description: One readable line per deployment that something happened to, then the counts.
      type: list
      elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

OUTCOMES = ("deployed", "failed", "torn_down", "unchanged", "retrying", "error")
NEEDS_A_HUMAN = ("retrying", "error")


def record_of(host, record):
    if record is None:
        return {"host": host, "id": None, "state": None, "type": None, "outcome": "error",
                "detail": "no outcome was recorded: the run failed on this deployment (see its failed task)"}
    if not isinstance(record, Mapping) or str(record.get("outcome")) not in OUTCOMES:
        raise AnsibleFilterError(f"dinfra.chain.reactor_summary: {host} has no valid reactor_record")
    return {"host": str(host), "id": None if record.get("id") is None else int(record["id"]),
            "state": str(record.get("state")), "type": str(record.get("type")),
            "outcome": str(record["outcome"]), "detail": str(record.get("detail") or "")}


def line(record):
    who = f"deployment {record['id']}" if record["id"] is not None else record["host"]
    what = f"{who} ({record['type']}, {record['state']}): {record['outcome'].replace('_', ' ')}"
    return f"{what}: {record['detail']}" if record["detail"] else what


def reactor_summary(records):
    if not isinstance(records, Mapping):
        raise AnsibleFilterError("dinfra.chain.reactor_summary: expects a mapping of host to reactor_record")
    deployments = sorted((record_of(host, record) for host, record in records.items()),
                         key=lambda r: (r["id"] is None, r["id"] or 0, r["host"]))
    counts = {outcome: 0 for outcome in OUTCOMES}
    for record in deployments:
        counts[record["outcome"]] += 1
    attention = [r for r in deployments if r["outcome"] in NEEDS_A_HUMAN]
    lines = [line(r) for r in deployments if r["outcome"] != "unchanged"]
    lines.append(", ".join(f"{count} {outcome.replace('_', ' ')}" for outcome, count in counts.items()))
    return {"counts": counts, "deployments": deployments, "attention": attention,
            "attention_lines": [line(r) for r in attention], "lines": lines}


class FilterModule:
    def filters(self):
        return {"reactor_summary": reactor_summary}
