"""Strict JSON parsing and JSON Schema validation of descriptors (pure)."""
import json

import pytest

from ansible_collections.dinfra.chain.plugins.module_utils.descriptors import (
    DescriptorError,
    SchemaCache,
    json_path,
    parse_json,
    validation_errors,
)
from ansible_collections.dinfra.chain.plugins.module_utils.cid import raw_cid


def test_parses_utf8_json():
    assert parse_json('{"name": "café", "n": [1, 2.5]}'.encode()) == {"name": "café", "n": [1, 2.5]}


@pytest.mark.parametrize("data, message", [
    (b'{"a": 1,}', "not valid JSON: .* line 1 column 9"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"a": 1, "a": 2}', "'a' appears twice"),
    (b'{"a": NaN}', "NaN is not valid JSON"),
    (b"[" * 33 + b"]" * 33, "nested 33 levels deep"),
    (b"[" * 100000, "nested 100000 levels deep"),
])
def test_bad_json_gets_a_clear_error(data, message):
    with pytest.raises(DescriptorError, match=message):
        parse_json(data)


@pytest.mark.parametrize("data, where", [
    (b'{"name": "\\ud800"}', "$.name"),
    (b'{"name": "ok \\udfff"}', "$.name"),
    (b'{"a": [{"b": "x\\ude00\\ud83d"}]}', "$.a[0].b"),  # a pair in the wrong order is two lone halves
    (b'{"ports": [{"\\udc00": 1}]}', "$.ports[0] (a key)"),
])
def test_lone_surrogates_are_not_strict_utf8_json(data, where):
    """Ansible refuses any module result that holds one, so the reactor could never report why."""
    with pytest.raises(DescriptorError) as raised:
        parse_json(data)
    message = str(raised.value)
    assert f"the string at {where} escapes a lone UTF-16 surrogate" in message
    message.encode("utf-8")  # the message itself is text Ansible accepts


def test_surrogate_pairs_and_other_escapes_are_characters():
    assert parse_json(b'{"emoji": "\\ud83d\\ude00", "nul": "\\u0000", "bom": "\\ufeff"}') == {
        "emoji": "\U0001f600", "nul": "\x00", "bom": "\ufeff"}


def test_encoded_surrogates_and_a_leading_bom_are_refused():
    with pytest.raises(DescriptorError, match="not UTF-8 text"):
        parse_json(b'{"a": "\xed\xa0\x80"}')  # U+D800 encoded as UTF-8 bytes: not UTF-8
    with pytest.raises(DescriptorError, match="not valid JSON"):
        parse_json(b'\xef\xbb\xbf{}')


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"user_data": "[" * 500 + '\\"{' * 100})
    assert parse_json(text.encode())["user_data"].startswith("[[[")


def test_json_paths_are_readable():
    assert json_path(["ports", 0, "port"]) == "$.ports[0].port"
    assert json_path(["odd key", "x-y"]) == '$["odd key"]["x-y"]'


SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "ports": {"type": "array", "items": {"maximum": 10}}},
}


def test_every_error_comes_back_with_its_path_sorted():
    errors = validation_errors({"ports": [11, 5, 12]}, SCHEMA)
    assert errors == [
        {"path": "$", "message": "'name' is a required property"},
        {"path": "$.ports[0]", "message": "11 is greater than the maximum of 10"},
        {"path": "$.ports[2]", "message": "12 is greater than the maximum of 10"},
    ]


def test_a_schema_that_points_outside_itself_is_refused():
    schema = dict(SCHEMA, properties={"name": {"$ref": "https://example.com/name.json"}})
    with pytest.raises(DescriptorError, match="outside itself"):
        validation_errors({"name": "x"}, schema)


@pytest.mark.parametrize("schema, message", [
    ({"$schema": "http://json-schema.org/draft-07/schema#"}, "uses .*draft-07"),
    ({"type": "no-such-type"}, "not a valid JSON Schema"),
    ([], "not a JSON object"),
])
def test_unusable_schemas_are_refused(schema, message):
    with pytest.raises(DescriptorError, match=message):
        validation_errors({}, schema)


def test_schema_cache_serves_verified_bytes_and_drops_tampered_ones(tmp_path):
    schema = json.dumps(SCHEMA).encode()
    cid = str(raw_cid(schema))
    fetched = []

    def fetch(text):
        fetched.append(text)
        return schema

    cache = SchemaCache(str(tmp_path))
    assert cache.get(cid, fetch) == schema and fetched == [cid]
    assert cache.get(cid, fetch) == schema and fetched == [cid]  # from the cache
    (tmp_path / f"{cid}.json").write_bytes(b"{}")  # tampered on disk
    assert cache.get(cid, fetch) == schema and fetched == [cid, cid]
