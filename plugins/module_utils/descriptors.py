# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""Deployment descriptors: strict JSON parsing and JSON Schema 2020-12 validation.

Descriptors and schemas come from consumers through IPFS, so they are attacker-controlled.
Parsing refuses what JSON allows but a consumer cannot mean (duplicate keys, NaN, deep
nesting that would exhaust the parser), and validation never fetches anything: a schema's
``$ref`` may only point inside the schema itself. Validation errors come back as a list of
``{path, message}`` that a consumer can act on.
"""

from __future__ import annotations

import json
import os

try:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from referencing import Registry
    from referencing.exceptions import NoSuchResource, Unresolvable

    HAS_JSONSCHEMA = True
    JSONSCHEMA_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the callers
    HAS_JSONSCHEMA = False
    JSONSCHEMA_IMPORT_ERROR = exc

from .cid import RAW, ContentMismatch, parse_cid, verify_block
from .files import write_atomically

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_DEPTH = 32
MAX_ERRORS = 50


class DescriptorError(ValueError):
    """A document that is not a usable descriptor or schema; the message says why."""


def _nesting_depth(text):
    """The deepest nesting of arrays and objects in JSON text, found without recursion
    (json.loads would recurse and could exhaust the stack first)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _no_duplicate_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise DescriptorError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _refuse_constant(name):
    raise DescriptorError(f"{name} is not valid JSON")


def lone_surrogate(value):
    """The JSON path of the first string (key or value) in ``value`` that holds a lone UTF-16
    surrogate (U+D800 to U+DFFF), or None. JSON's ``\\ud800`` escape can write one, but it is
    not a Unicode character: no UTF-8 text can hold it, and Ansible refuses a module result
    that does ("Refusing to deserialize an invalid UTF8 string value"). Iterative, so that any
    depth is safe."""
    pending = [((), value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if any("\ud800" <= char <= "\udfff" for char in item):
                return json_path(path)
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and any("\ud800" <= char <= "\udfff" for char in key):
                    return json_path(path) + " (a key)"
                pending.append((path + (key,), child))
        elif isinstance(item, (list, tuple)):
            pending.extend((path + (index,), child) for index, child in enumerate(item))
    return None


def parse_json(data, what="the descriptor", max_depth=MAX_DEPTH):
    """Parses strict UTF-8 JSON bytes into a document; raises DescriptorError with a clear
    message. Strict: the bytes are UTF-8, and no string escapes a lone surrogate."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DescriptorError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    depth = _nesting_depth(text)
    if depth > max_depth:
        raise DescriptorError(f"{what} is nested {depth} levels deep; at most {max_depth} are allowed")
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise DescriptorError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except DescriptorError as exc:
        raise DescriptorError(f"{what} is not acceptable JSON: {exc}") from None
    where = lone_surrogate(document)
    if where:
        raise DescriptorError(f"{what} is not strict UTF-8 JSON: the string at {where} escapes a lone UTF-16 surrogate "
                              "(\\ud800 to \\udfff), which is not a Unicode character")
    return document


def json_path(parts):
    """``$.a.b[0]["odd key"]`` for a path from jsonschema."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _refuse_retrieval(uri):
    raise NoSuchResource(ref=uri)


def schema_validator(schema):
    """A 2020-12 validator for ``schema``; DescriptorError if it is not a usable schema."""
    if not isinstance(schema, dict):
        raise DescriptorError("the type's schema is not a JSON object")
    dialect = schema.get("$schema", SCHEMA_DIALECT)
    if dialect != SCHEMA_DIALECT:
        raise DescriptorError(f"the type's schema uses {dialect!r}; DINFRA types use JSON Schema 2020-12")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise DescriptorError(f"the type's schema is not a valid JSON Schema: {exc.message}") from None
    # Only references inside the schema resolve: a schema that points elsewhere would make
    # validation depend on whatever that address serves at the time.
    return Draft202012Validator(
        schema, registry=Registry(retrieve=_refuse_retrieval),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _closest_branch(error):
    """Of the branches a ``oneOf``/``anyOf`` tried, the errors of the one that came closest:
    fewest errors, then the deepest (a wrong value inside the right shape beats a wrong shape)."""
    branches = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)
    return min(branches.values(), key=lambda errs: (len(errs), -max(len(e.absolute_path) for e in errs)))


def _describe(error):
    """{path, message} for one error, with what a consumer needs to fix it."""
    if error.context:
        closest = _closest_branch(error)
        first = min(closest, key=lambda e: (list(map(str, e.absolute_path)), e.message))
        return {"path": json_path(first.absolute_path), "message": _message(first)}
    return {"path": json_path(error.absolute_path), "message": _message(error)}


def _message(error):
    # A regular expression says little to a consumer; the field's description says more.
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator in ("pattern", "format") and description:
        return f"{error.message} ({description})"
    return error.message


def summarize(errors):
    """One line for a failure message: the first error, and how many more there are."""
    first = f"{errors[0]['path']}: {errors[0]['message']}"
    return first + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")


def validation_errors(document, schema):
    """Every way ``document`` breaks ``schema`` (at most MAX_ERRORS), sorted by path."""
    validator = schema_validator(schema)
    try:
        errors = sorted(validator.iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    except (NoSuchResource, Unresolvable) as exc:
        raise DescriptorError(f"the type's schema refers to {exc.ref!r}, outside itself") from None
    return [_describe(error) for error in errors[:MAX_ERRORS]]


class SchemaCache:
    """Schemas by CID on local disk. A CID names its bytes for ever, so a cached schema
    never goes stale; it is still verified on every read, so a tampered cache is caught."""

    def __init__(self, directory):
        self.directory = directory

    def _path(self, cid):
        return os.path.join(self.directory, f"{cid}.json")

    def get(self, cid_text, fetch):
        """The verified schema bytes of ``cid_text``, from the cache or from ``fetch(cid)``."""
        cid = parse_cid(cid_text)
        path = self._path(cid)
        if cid.codec == RAW and os.path.exists(path):
            with open(path, "rb") as cached:
                data = cached.read()
            try:
                verify_block(cid, data)
                return data
            except ContentMismatch:
                os.unlink(path)
        data = fetch(cid_text)
        if cid.codec == RAW:
            self._store(path, data)
        return data

    def _store(self, path, data):
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            write_atomically(path, data, 0o600)
        except OSError:
            pass  # a cache that cannot be written only costs a fetch next time


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dinfra", "schemas")


def load(gateway, cid, schema_cid=None, cache=None, max_depth=MAX_DEPTH):
    """Fetches and verifies the descriptor ``cid`` and, given ``schema_cid``, its type's schema;
    returns (document, size, errors). IpfsUnavailable (retry later) and ContentRefused or
    DescriptorError (the descriptor is unusable) propagate."""
    data = gateway.fetch(cid)
    document = parse_json(data, max_depth=max_depth)
    errors = []
    if schema_cid:
        fetch = gateway.fetch
        schema_bytes = cache.get(schema_cid, fetch) if cache else fetch(schema_cid)
        schema = parse_json(schema_bytes, "the type's schema", max_depth=64)
        errors = validation_errors(document, schema)
    return document, len(data), errors
