#!/usr/bin/env bash
# Runs each cmocka unit-test binary; fails if any fails.
set -u
fail=0
for t in "$@"; do
    echo "== $t"
    "$t" 2>&1 || fail=1
done
exit $fail
