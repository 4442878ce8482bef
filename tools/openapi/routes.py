#!/usr/bin/env python3
"""The route-set check of `make test`: the (method, path) pairs of the
module's route table and those of the OpenAPI document are the same set.

    routes.py build/openapi.json src/dispatch.c src/*.c

The code's table is read from the sources: dispatch.c's route_groups names
the live groups, and each group is a `const mv_route NAME[] = {...}` array
of `{"METHOD", "/path", ...}` entries.  A group named in route_groups but
not found, or an entry that cannot be read, fails the check.

Operations marked `x-mocaverse-pending` in the document are described ahead
of their code: missing from the code, they are listed and tolerated;
present in the code, the marker must go (the check fails until it does).
"""
import json
import re
import sys

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def code_routes(dispatch_path, sources):
    with open(dispatch_path, encoding="utf-8") as f:
        dispatch = f.read()
    m = re.search(r"route_groups\[\]\s*=\s*\{(.*?)\};", dispatch, re.S)
    if not m:
        sys.exit(f"routes: no route_groups table in {dispatch_path}")
    groups = [g for g in re.findall(r"\w+", m.group(1)) if g != "NULL"]
    tables = {}
    for path in sources:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for name, body in re.findall(
                r"const\s+mv_route\s+(\w+)\[\]\s*=\s*\{(.*?)\n\};", text, re.S):
            tables[name] = (path, body)
    routes = set()
    for g in groups:
        if g not in tables:
            sys.exit(f"routes: route group {g} (route_groups in {dispatch_path}) not found")
        path, body = tables[g]
        entries = re.findall(r"\{\s*(\"[^\"]*\"|NULL)\s*,\s*(\"[^\"]*\"|NULL)", body)
        if not entries or entries[-1] != ("NULL", "NULL"):
            sys.exit(f"routes: cannot read {g} in {path}")
        for method, route in entries[:-1]:
            routes.add((method.strip('"').upper(), route.strip('"')))
    return routes


def document_routes(doc):
    live, pending = set(), {}
    for path, item in doc["paths"].items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            key = (method.upper(), path)
            if op.get("x-mocaverse-pending"):
                pending[key] = op["x-mocaverse-pending"]
            else:
                live.add(key)
    return live, pending


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: routes.py OPENAPI.json DISPATCH.c SOURCES...")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    code = code_routes(sys.argv[2], sys.argv[3:])
    live, pending = document_routes(doc)
    fmt = lambda k: f"{k[0]} {k[1]}"
    problems = []
    for k in sorted(code - live - set(pending)):
        problems.append(f"in the code, not in the document: {fmt(k)}")
    for k in sorted(live - code):
        problems.append(f"in the document, not in the code: {fmt(k)}")
    for k in sorted(code & set(pending)):
        problems.append(f"in the code but marked x-mocaverse-pending ({pending[k]}): "
                        f"{fmt(k)}: drop the marker")
    print(f"route set: {len(code)} routes in the code, {len(live)} documented, "
          f"{len(pending)} pending")
    for k in sorted(set(pending) - code):
        print(f"  PENDING ({pending[k]}), documented ahead of the code: {fmt(k)}")
    if problems:
        for p in problems:
            print(f"FAIL: {p}")
        sys.exit(1)
    print("route set: the code and the document agree")


if __name__ == "__main__":
    main()
