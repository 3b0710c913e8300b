#!/usr/bin/python3
"""Checks what photodrop-api answered against its OpenAPI document.

usage: check_openapi.py OPENAPI.json EXCHANGES.json

EXCHANGES is a list of {"method", "path" (the document's path template),
"status", "content_type", "body"} that a test recorded from the real server.
Every answer must be documented (path, method, status), a JSON answer must
validate against the document's schema (JSON Schema 2020-12, as OpenAPI 3.1
says), and every operation of the document must have been exercised.
Prints what is wrong and exits 1, or prints a summary and exits 0.
"""
import json
import sys

import jsonschema


def main():
    document = json.load(open(sys.argv[1]))
    exchanges = json.load(open(sys.argv[2]))
    problems = []
    seen = set()
    for x in exchanges:
        method = "get" if x["method"] == "HEAD" else x["method"].lower()
        where = f'{x["method"]} {x["path"]} -> {x["status"]}'
        operations = document["paths"].get(x["path"])
        if operations is None or method not in operations:
            problems.append(f"{where}: the document has no such operation")
            continue
        seen.add((x["path"], method))
        response = operations[method]["responses"].get(str(x["status"]))
        if response is None:
            problems.append(f"{where}: the status is not documented")
            continue
        if "$ref" in response:
            response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        content = response.get("content", {})
        if x["method"] == "HEAD" or x["status"] == 304:
            continue
        media = x["content_type"].split(";")[0].strip()
        if media == "application/json":
            if "application/json" not in content:
                problems.append(f"{where}: answered JSON where the document says {list(content)}")
                continue
            schema = dict(content["application/json"]["schema"])
            schema["components"] = document["components"]  # so that "#/components/..." resolves
            try:
                jsonschema.validate(json.loads(x["body"]), schema, cls=jsonschema.Draft202012Validator)
            except jsonschema.ValidationError as e:
                problems.append(f"{where}: {e.message} at {list(e.absolute_path)}")
        elif not any(media == m or (m.endswith("/*") and media.startswith(m[:-1])) for m in content):
            problems.append(f"{where}: answered {media} where the document says {list(content)}")
    for path, operations in document["paths"].items():
        for method in operations:
            if method in ("get", "post", "patch", "put", "delete") and (path, method) not in seen:
                problems.append(f"{method.upper()} {path}: documented but not exercised by the test")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{len(exchanges)} answers match the OpenAPI document; {len(seen)} operations exercised")
    return 0


if __name__ == "__main__":
    sys.exit(main())
