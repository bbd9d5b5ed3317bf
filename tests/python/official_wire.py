#!/usr/bin/env python3
"""Every request to Ideogram recorded by the wire snapshots (the raw client's,
tests/tests/snapshots/raw_wire__ideogram*.snap, and the facade's,
crates/ideogram/tests/snapshots/*__ideogram*.snap, written by the Rust tests
that send each operation to a capturing server) validates against Ideogram's
own published document, not only against this project's specs: a v1 request
against tests/official/ideogram-openapi.json, a v2 one (`/v2/...`) against
tests/official/ideogram-openapi-v2.json where that copy is kept (see
tests/official/README.md for where Ideogram publishes it and why it is not
here yet); without it each v2 record is listed as unchecked, never passed:

- a JSON body against the operation's JSON schema;
- a multipart body part by part: every part is a property of the
  operation's multipart schema; a file part is a `format: binary` property
  (or an array of them) and carries a file name and content type; a JSON
  part validates against its property's schema; a text part validates once
  read as its property's type (repeated parts as an array); required
  properties are present.

Exits non-zero naming each problem.
"""
import json
import pathlib
import sys

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from validate_specs import absolutise, deref

ROOT = pathlib.Path(__file__).resolve().parents[2]
OFFICIAL = ROOT / "tests/official"
V2_COPY = OFFICIAL / "ideogram-openapi-v2.json"


class Official:
    """One of Ideogram's published documents, with its `$ref`s resolvable."""

    def __init__(self, path):
        self.doc = json.loads(path.read_text())
        self.registry = Registry().with_resource("urn:spec", Resource(self.doc, DRAFT4))

    def resolve(self, schema):
        return deref(self.doc, schema)

    def errors(self, schema, value):
        validator = OAS30Validator(absolutise(schema), registry=self.registry)
        return [e.message for e in validator.iter_errors(value)]

    def is_binary(self, schema):
        schema = self.resolve(schema)
        return schema.get("format") == "binary" or (
            schema.get("type") == "array" and self.resolve(schema.get("items", {})).get("format") == "binary")

    def text_value(self, schema, content):
        """A text part as its property's type (the capture already read numbers)."""
        schema = self.resolve(schema)
        if schema.get("type") == "string" and not isinstance(content, str):
            return json.dumps(content)
        return content


def check_record(official, record):
    resolve, errors, is_binary, text_value = (
        official.resolve, official.errors, official.is_binary, official.text_value)
    op = official.doc["paths"].get(record["path"], {}).get(record["method"].lower())
    if op is None:
        return [f"{record['method']} {record['path']} is not in the official document"]
    content = op.get("requestBody", {}).get("content", {})
    kind = record.get("content_type")
    if kind not in content:
        return [f"{record['path']}: the document takes {sorted(content)}, not {kind}"]
    schema = resolve(content[kind]["schema"])
    if kind == "application/json":
        return [f"{record['path']}: {e}" for e in errors(schema, record["body"])]
    problems, values, names = [], {}, set()
    properties = schema.get("properties", {})
    for part in record["body"]:
        part_name = part["name"]
        names.add(part_name)
        prop = properties.get(part_name)
        if prop is None:
            problems.append(f"part {part_name}: not a property of {sorted(properties)}")
            continue
        if is_binary(prop):
            if not part.get("filename") or not part.get("content_type"):
                problems.append(f"part {part_name}: a file part needs a file name and a content type")
            continue
        if part.get("filename"):
            problems.append(f"part {part_name}: sent as a file, but the document types it {resolve(prop)}")
            continue
        resolved = resolve(prop)
        if resolved.get("type") == "array":
            values.setdefault(part_name, []).append(text_value(resolved.get("items", {}), part["content"]))
        else:
            values[part_name] = text_value(prop, part["content"])
    for part_name, value in values.items():
        problems += [f"part {part_name}: {e}" for e in errors(properties[part_name], value)]
    for required in schema.get("required", []):
        if required not in names:
            problems.append(f"required part {required} is missing")
    return [f"{record['path']}: {p}" for p in problems]


def main():
    snapshots = sorted((ROOT / "tests/tests/snapshots").glob("raw_wire__ideogram*.snap"))
    snapshots += sorted((ROOT / "crates/ideogram/tests/snapshots").glob("*__ideogram*.snap"))
    v1 = Official(OFFICIAL / "ideogram-openapi.json")
    v2 = Official(V2_COPY) if V2_COPY.exists() else None
    failures = skipped = 0
    for path in snapshots:
        text = path.read_text()
        record = json.loads(text[text.index("\n---\n") + 5:])
        official = v2 if record.get("path", "").startswith("/v2/") else v1
        # Without a copy of the v2 document a v2 request is said to be
        # unchecked, not passed.
        if official is None:
            skipped += 1
            print("skip " + path.relative_to(ROOT).as_posix()
                  + f"\n     v2: no copy of Ideogram's v2 document at {V2_COPY.relative_to(ROOT)} to check it against")
            continue
        problems = check_record(official, record) if "method" in record else ["not a wire record"]
        failures += bool(problems)
        print(("FAIL " if problems else "ok   ") + path.relative_to(ROOT).as_posix() + "".join(f"\n     {p}" for p in problems))
    print(f"{len(snapshots) - failures - skipped} passed, {failures} failed, {skipped} v2 unchecked")
    return 1 if failures or not snapshots else 0


if __name__ == "__main__":
    sys.exit(main())
