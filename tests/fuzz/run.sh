#!/usr/bin/env bash
# make fuzz: runs each libFuzzer target for FUZZ_SECONDS (default 60),
# starting from seeds made from its unit tests' inputs (seeds.pl) and from
# the corpus earlier runs grew in build/fuzz/corpus/.  Fails when a target
# finds a crash, a sanitizer report or a broken property; the input is
# saved as build/fuzz/crashes/TARGET-crash-* (make it a unit test).
# Prints each target's executions per second at the end.
#   run.sh BIN...
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${FUZZ_SECONDS:-60}
out=$(cd "$(dirname "$1")" && pwd)

# The unit tests whose inputs seed each target.
seeds_of() {
    case "$1" in
    fuzz_json_fields | fuzz_rfc3339) echo test_json.c ;;
    fuzz_validate) echo test_validate.c test_rewards.c test_crypto.c ;;
    fuzz_jwt) echo test_jwt.c ;;
    fuzz_query) echo test_query.c ;;
    fuzz_router) echo test_router.c ;;
    *) echo "no seeds named for $1" >&2; return 1 ;;
    esac
}

export ASAN_OPTIONS=detect_leaks=1:print_stacktrace=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fail=0
summary=()
for bin in "$@"; do
    t=$(basename "$bin")
    seeds="$out/seeds/$t" corpus="$out/corpus/$t"
    rm -rf "$seeds"; mkdir -p "$seeds" "$corpus" "$out/crashes"
    files=$(seeds_of "$t") || { fail=1; continue; }
    "$here/seeds.pl" "$seeds" $(printf "$here/../unit/%s " $files) >/dev/null \
        || { fail=1; continue; }
    echo "== $t: ${seconds}s, $(ls "$seeds" | wc -l) seeds"
    "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -artifact_prefix="$out/crashes/$t-" "$corpus" "$seeds" \
        >"$out/$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$t.log")
    if [ $rc != 0 ]; then
        echo "FAIL: $t (exit $rc):"; grep -v '^#' "$out/$t.log" | tail -40
        fail=1
    fi
    summary+=("$(printf '%-18s %10s runs %8s exec/s %s' "$t" "${runs:-?}" \
        "${rate:-?}" "$([ $rc = 0 ] && echo ok || echo FAILED)")")
done
echo "== fuzz summary (${seconds}s each)"
printf '%s\n' "${summary[@]}"
exit $fail
