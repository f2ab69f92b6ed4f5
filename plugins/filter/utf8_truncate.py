# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: utf8_truncate
short_description: Cut text to a number of UTF-8 bytes, on a character boundary
version_added: 0.1.0
description:
  - The chain bounds its texts (a failure reason, access info) in bytes, not characters. This cuts a
    text so that its UTF-8 encoding fits, never inside a character, and ends a cut text with C(…) so that
    a reader sees it was cut.
  - Control characters (line breaks included) become spaces, so that the text stays one line wherever it
    is shown.
positional: limit
options:
  _input:
    description: The text.
    type: str
    required: true
  limit:
    description: The most bytes the result may take; at least 3 (the length of C(…)).
    type: int
    required: true
author:
  - DINFRA developers (@dinfra)
"""

EXAMPLES = r"""
- name: A reason the chain takes (at most 256 bytes)
  dinfra.chain.deployment_status:
    id: "{{ dinfra_deployment_id }}"
    state: failed
    reason: "{{ why | dinfra.chain.utf8_truncate(256) }}"
"""

RETURN = r"""
_value:
  description: The text, whole if it fits, else cut and ending in C(…).
  type: str
"""

from ansible.errors import AnsibleFilterError

ELLIPSIS = "\u2026"


def utf8_truncate(text, limit):
    limit = int(limit)
    if limit < len(ELLIPSIS.encode("utf-8")):
        raise AnsibleFilterError("dinfra.chain.utf8_truncate: the limit must be at least 3 bytes")
    one_line = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in str(text))
    encoded = one_line.encode("utf-8")
    if len(encoded) <= limit:
        return one_line
    room = limit - len(ELLIPSIS.encode("utf-8"))
    # errors="ignore" drops the partial character a byte cut may leave at the end.
    return encoded[:room].decode("utf-8", errors="ignore") + ELLIPSIS


class FilterModule:
    def filters(self):
        return {"utf8_truncate": utf8_truncate}
