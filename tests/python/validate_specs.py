#!/usr/bin/env python3
"""Checks every spec in openapi/ with an independent validator.

1. openapi-spec-validator: the document is valid OpenAPI 3.0.
2. Every `example` (on a schema, a property or a media type) validates against
   the schema it illustrates, with OpenAPI 3.0 semantics (nullable and friends).
3. The rules the generator relies on: every operation has an operationId, and
   all error responses of one operation share one body schema.
4. No mapping repeats a key: YAML loaders (PyYAML, serde_yaml into a value)
   keep the last silently, so a schema defined twice would lose one.

Exits non-zero naming each problem, so a broken spec cannot land.
"""
import pathlib
import sys

import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = pathlib.Path(__file__).resolve().parents[2]


class StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a mapping with a repeated key."""


def _unique_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} repeated (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                             lambda loader, node: _unique_mapping(loader, node, deep=True))


def load(text):
    """The document, refusing repeated keys."""
    return yaml.load(text, Loader=StrictLoader)


def examples(node, path):
    """Yields (json-pointer, schema, example) for every example under node."""
    if isinstance(node, dict):
        if "example" in node:
            if "schema" in node:  # a media type or parameter: the example is of its schema
                yield path, node["schema"], node["example"]
            else:  # a schema illustrating itself
                yield path, node, node["example"]
        for key, value in node.items():
            if key != "example":
                yield from examples(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from examples(value, f"{path}/{i}")


def check(spec_path):
    problems = []
    try:
        doc = load(spec_path.read_text())
    except yaml.YAMLError as err:
        return [f"not loadable: {err}"], 0
    try:
        validate(doc)
    except Exception as err:  # the validator's own message names the place
        problems.append(f"not valid OpenAPI: {err}")

    registry = Registry().with_resource("urn:spec", Resource(doc, DRAFT4))
    count = 0
    for where, schema, example in examples(doc, "#"):
        count += 1
        schema = absolutise({k: v for k, v in schema.items() if k != "example"})
        errors = sorted(
            OAS30Validator(schema, registry=registry).iter_errors(example),
            key=lambda e: list(e.path),
        )
        for err in errors:
            problems.append(f"example at {where} does not match its schema: {err.message}")

    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or method.startswith("x-"):
                continue
            if "operationId" not in op:
                problems.append(f"{method.upper()} {path} has no operationId")
            error_schemas = set()
            for status, response in op.get("responses", {}).items():
                if status.startswith(("2", "3")):
                    continue
                response = deref(doc, response)
                for media in response.get("content", {}).values():
                    error_schemas.add(repr(media.get("schema")))
                if not response.get("content"):
                    error_schemas.add("(no body)")
            if len(error_schemas) > 1:
                problems.append(
                    f"{method.upper()} {path}: error responses use {len(error_schemas)} body "
                    "schemas; the generator needs one"
                )
    return problems, count


def deref(doc, node):
    """Follows local $refs (#/components/responses/X) to the node they name."""
    while isinstance(node, dict) and "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def absolutise(schema):
    """Rewrites local refs (#/components/...) to point into the registered document."""
    if isinstance(schema, dict):
        return {
            k: ("urn:spec" + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else absolutise(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [absolutise(v) for v in schema]
    return schema


def main():
    specs = sorted((ROOT / "openapi").glob("*.yaml"))
    if not specs:
        print("no specs found in openapi/")
        return 1
    failed = 0
    for spec in specs:
        problems, count = check(spec)
        rel = spec.relative_to(ROOT)
        if problems:
            failed += 1
            print(f"{rel}: {len(problems)} problem(s)")
            for p in problems:
                print(f"  - {p}")
        else:
            print(f"{rel}: valid, {count} examples match their schemas")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
