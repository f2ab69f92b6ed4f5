"""The reference descriptor types in descriptors/: every valid example validates against
its type's schema, and every invalid one fails with the errors its type documents."""
import json
import pathlib

import pytest

from ansible_collections.dinfra.chain.plugins.module_utils.descriptors import parse_json, validation_errors

DESCRIPTORS = pathlib.Path(__file__).resolve().parents[2] / "descriptors"
TYPES = sorted(p.name for p in DESCRIPTORS.iterdir() if (p / "schema.json").is_file())


def schema_of(type_name):
    return parse_json((DESCRIPTORS / type_name / "schema.json").read_bytes(), max_depth=64)


def examples(kind):
    found = []
    for type_name in TYPES:
        for path in sorted((DESCRIPTORS / type_name / "examples" / kind).glob("*.json")):
            if path.name != "expected-errors.json":
                found.append(pytest.param(type_name, path, id=f"{type_name}/{path.name}"))
    return found


def test_the_reference_types_are_there():
    assert {"cloudstack-vm", "substrate-node"} <= set(TYPES)


@pytest.mark.parametrize("type_name", TYPES)
def test_each_type_has_two_valid_examples_and_documents_every_invalid_one(type_name):
    base = DESCRIPTORS / type_name / "examples"
    assert len(list((base / "valid").glob("*.json"))) >= 2
    invalid = {p.name for p in (base / "invalid").glob("*.json")} - {"expected-errors.json"}
    assert invalid and invalid == set(json.loads((base / "invalid" / "expected-errors.json").read_text()))


@pytest.mark.parametrize("type_name, path", examples("valid"))
def test_valid_examples_validate(type_name, path):
    document = parse_json(path.read_bytes())
    assert document["type"] == type_name
    assert validation_errors(document, schema_of(type_name)) == []


@pytest.mark.parametrize("type_name, path", examples("invalid"))
def test_invalid_examples_fail_with_their_documented_errors(type_name, path):
    expected = json.loads((path.parent / "expected-errors.json").read_text())[path.name]
    assert validation_errors(parse_json(path.read_bytes()), schema_of(type_name)) == expected
