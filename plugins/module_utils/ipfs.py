# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""IPFS for dinfra.chain: fetch verified files through any HTTP gateway, and publish and pin
through Kubo's HTTP RPC.

Fetching asks the gateway for raw blocks (the trustless gateway protocol, ``?format=raw``)
and checks each one against its CID, so that nothing a gateway says is believed. Every
fetch is bounded in size, in blocks and in time. ``IpfsUnavailable`` means "could not get
it now" (retry later) and is never to be read as "the content is bad": a reactor must not
fail a consumer's deployment because a gateway was down.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import uuid

from ansible.module_utils.urls import open_url

from .cid import DAG_PB, RAW, CidError, ContentMismatch, parse_cid, raw_cid, verify_block
from .unixfs import DagError, file_node

DEFAULT_GATEWAY = "http://127.0.0.1:8080"
DEFAULT_API = "http://127.0.0.1:5001"
DEFAULT_MAX_SIZE = 1024 * 1024
# Kubo never makes blocks above 1 MiB for files (its chunkers stop at 1 MiB); a gateway that
# sends more for one block is refused before it is read.
MAX_BLOCK_SIZE = 1024 * 1024 + 1024
MAX_DAG_DEPTH = 16
_READ_CHUNK = 64 * 1024
# Kubo's default chunk size: files up to this size are one block.
CHUNK_SIZE = 256 * 1024


class IpfsError(Exception):
    """Base of the errors of this module."""


class IpfsUnavailable(IpfsError):
    """The gateway or the node did not answer in time, or refused: try again later."""


class GatewayMismatch(IpfsUnavailable):
    """The gateway sent bytes that are not the ones the CID names. Nothing is returned. It is
    the gateway's fault, not the content's, so it is retried (elsewhere) like an outage."""


class ContentRefused(IpfsError):
    """The content itself is refused, for good: a bad CID, too large, not a file."""


def _check_url(url, what):
    parsed = urllib.parse.urlparse(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise IpfsError(f"{what} must be an http:// or https:// URL, not {url!r}")
    return url.rstrip("/")


class _Deadline:
    def __init__(self, seconds):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self, what):
        left = self.end - time.monotonic()
        if left <= 0:
            raise IpfsUnavailable(f"{what}: no answer within {self.seconds}s")
        return left


def _read_bounded(response, limit, deadline, what):
    """Reads a response body of at most ``limit`` bytes before the deadline."""
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise ContentRefused(f"{what} is {length} bytes, more than the limit of {limit}")
    body = bytearray()
    while True:
        deadline.remaining(what)
        chunk = response.read(min(_READ_CHUNK, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body.extend(chunk)
        if len(body) > limit:
            raise ContentRefused(f"{what} is more than the limit of {limit} bytes")


def _http(url, limit, deadline, what, **kwargs):
    try:
        with open_url(url, timeout=deadline.remaining(what), **kwargs) as response:
            return _read_bounded(response, limit, deadline, what)
    except urllib.error.HTTPError as exc:
        detail = exc.read(512).decode("utf-8", "replace").strip().splitlines()
        raise IpfsUnavailable(f"{what}: HTTP {exc.code} {exc.reason}" + (f" ({detail[0][:200]})" if detail else "")) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise IpfsUnavailable(f"{what}: no answer within {deadline.seconds}s") from None
        raise IpfsUnavailable(f"{what}: {reason}") from None


class Gateway:
    """Fetches files by CID through an HTTP gateway, verifying every block locally."""

    def __init__(self, url=DEFAULT_GATEWAY, timeout=30, max_size=DEFAULT_MAX_SIZE):
        self.url = _check_url(url, "gateway_url")
        self.timeout = timeout
        self.max_size = max_size

    def block(self, cid, deadline):
        data = _http(f"{self.url}/ipfs/{cid}?format=raw", MAX_BLOCK_SIZE, deadline,
                     f"fetching block {cid} from {self.url}", headers={"Accept": "application/vnd.ipld.raw"})
        try:
            verify_block(cid, data)
        except ContentMismatch as exc:
            raise GatewayMismatch(f"{exc} ({self.url}; it must serve verifiable raw blocks, ?format=raw)") from None
        return data

    def fetch(self, cid_text):
        """The verified bytes of the file ``cid_text`` names. Raises ContentRefused for a bad
        CID, wrong bytes or content over ``max_size``, IpfsUnavailable when it cannot be had
        within ``timeout`` seconds in all."""
        try:
            root = parse_cid(cid_text)
        except CidError as exc:
            raise ContentRefused(str(exc)) from None
        deadline = _Deadline(self.timeout)
        out = bytearray()
        self._collect(root, out, deadline, depth=0)
        return bytes(out)

    def _collect(self, cid, out, deadline, depth):
        if depth > MAX_DAG_DEPTH:
            raise ContentRefused(f"the file is more than {MAX_DAG_DEPTH} levels deep")
        block = self.block(cid, deadline)
        if cid.codec == RAW:
            inline, links = block, []
        else:
            try:
                inline, links = file_node(block)
            except DagError as exc:
                raise ContentRefused(f"{cid}: {exc}") from None
        out.extend(inline)
        if len(out) > self.max_size:
            raise ContentRefused(f"the file is more than the limit of {self.max_size} bytes")
        for child in links:
            if child.codec not in (RAW, DAG_PB):
                raise ContentRefused(f"{cid} links to {child}, which is not part of a file")
            self._collect(child, out, deadline, depth + 1)


class KuboError(IpfsUnavailable):
    """Kubo answered a call with an error."""

    def __init__(self, command, status, message):
        super().__init__(f"Kubo RPC {command} failed (HTTP {status}): {message}")
        self.message = message


class Kubo:
    """Kubo's HTTP RPC (``/api/v0``): add, pin and unpin. Adds use CIDv1 with raw leaves, so a
    file of one chunk gets the raw CID that anyone can compute from its bytes."""

    def __init__(self, url=DEFAULT_API, timeout=60, auth=None):
        self.url = _check_url(url, "api_url")
        self.timeout = timeout
        self.auth = auth

    def _call(self, command, params, body=None, content_type=None):
        query = urllib.parse.urlencode(params, doseq=True)
        headers = {}
        if self.auth:
            headers["Authorization"] = self.auth
        if content_type:
            headers["Content-Type"] = content_type
        deadline = _Deadline(self.timeout)
        what = f"Kubo RPC {command} at {self.url}"
        try:
            with open_url(f"{self.url}/api/v0/{command}?{query}", data=body or b"", headers=headers, method="POST",
                          timeout=deadline.remaining(what)) as response:
                raw = _read_bounded(response, 1024 * 1024, deadline, what)
        except urllib.error.HTTPError as exc:
            message = exc.read(4096).decode("utf-8", "replace")
            try:
                decoded = json.loads(message)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict) and isinstance(decoded.get("Message"), str):
                message = decoded["Message"]
            raise KuboError(command, exc.code, message.strip()[:300]) from None
        except (urllib.error.URLError, OSError) as exc:
            raise IpfsUnavailable(f"{what}: {getattr(exc, 'reason', exc)}") from None
        lines = [line for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]
        try:
            return [json.loads(line) for line in lines]
        except ValueError:
            raise IpfsUnavailable(f"{what}: the answer is not JSON") from None

    def add(self, data, pin=True, only_hash=False):
        """Adds ``data`` as one file; returns its CID text as Kubo computed it."""
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"descriptor.json\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        params = {"cid-version": 1, "raw-leaves": "true", "hash": "sha2-256", "chunker": f"size-{CHUNK_SIZE}",
                  "pin": str(pin and not only_hash).lower(), "only-hash": str(only_hash).lower(), "quieter": "true"}
        answers = self._call("add", params, body, f"multipart/form-data; boundary={boundary}")
        if not answers or "Hash" not in answers[-1]:
            raise IpfsUnavailable("Kubo RPC add: no CID in the answer")
        return answers[-1]["Hash"]

    def is_pinned(self, cid):
        """Whether ``cid`` is pinned recursively; raises when Kubo cannot say."""
        try:
            answers = self._call("pin/ls", {"arg": str(cid), "type": "recursive"})
        except KuboError as exc:
            if "not pinned" in exc.message:
                return False
            raise
        keys = answers[0].get("Keys", {}) if answers else {}
        return any(parse_cid(key) == parse_cid(str(cid)) for key in keys)

    def unpin(self, cid):
        self._call("pin/rm", {"arg": str(cid), "recursive": "true"})


def expected_cid(data):
    """The CID Kubo gives ``data`` when it fits in one chunk, or None (then only Kubo knows)."""
    return raw_cid(data) if len(data) <= CHUNK_SIZE else None
