#!/usr/bin/env bash
# The README's table of directives is generated from MV_DIRECTIVES by
# build/tools/directives-md.  `check` fails when README.md differs from it;
# `write` puts it between the markers.
set -euo pipefail
tool=$1 mode=$2 readme=README.md
begin='<!-- directives: generated from include/mv_config.h by `make directives-readme` -->'
end='<!-- end of directives -->'
grep -qxF "$begin" "$readme" && grep -qxF "$end" "$readme" ||
    { echo "README.md: directive table markers missing" >&2; exit 1; }
table=$("$tool")
current=$(awk -v b="$begin" -v e="$end" '$0==e{p=0} p{print} $0==b{p=1}' "$readme")
if [ "$mode" = check ]; then
    if [ "$table" != "$current" ]; then
        echo "README.md's directive table differs from include/mv_config.h:" >&2
        diff <(echo "$current") <(echo "$table") >&2 || true
        echo "run: make directives-readme" >&2
        exit 1
    fi
    echo "directives-check: README table matches the code ($(echo "$table" | tail -n +3 | wc -l) directives)"
else
    tmp=$(mktemp)
    awk -v b="$begin" -v e="$end" -v t="$table" '
        $0==b{print; print t; skip=1; next} $0==e{skip=0} !skip{print}' "$readme" >"$tmp"
    mv "$tmp" "$readme"
fi
