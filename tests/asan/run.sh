#!/usr/bin/env bash
# make test-asan: runs the unit and integration tests built with
# AddressSanitizer and UBSan against an httpd that loads the module built
# the same way (tests/asan/apache2).  Fails when a test fails or when a
# sanitizer reports anything: in the tests' output, in httpd's error logs
# or in the sanitizer's log files (tests/integration/run.sh checks those
# two before it removes its directory).
#   run.sh --unit BIN... --integration BIN...
# ASAN_CC names the compiler that built them, ASAN_SO the module.
set -uo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
unit=() integration=() list=
for a in "$@"; do
    case "$a" in
    --unit) list=unit ;;
    --integration) list=integration ;;
    *) [ "$list" = unit ] && unit+=("$a") || integration+=("$a") ;;
    esac
done

export ASAN_RUNTIME=$("${ASAN_CC:-gcc}" -print-file-name=libasan.so)
[ -f "$ASAN_RUNTIME" ] || die "no sanitizer runtime for ${ASAN_CC:-gcc}"
export HTTPD=$MV_ROOT/tests/asan/apache2
export MV_MODULE=$MV_ROOT/${ASAN_SO:?ASAN_SO is not set}
# The test binaries: every report is fatal, leaks included.
export ASAN_OPTIONS=halt_on_error=1:print_stacktrace=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

out=$(mktemp /tmp/mvasan.XXXXXX)
trap 'rm -f "$out"' EXIT
fail=0
"$MV_ROOT/scripts/run-unit.sh" "${unit[@]}" 2>&1 | tee "$out" || fail=1
"$MV_ROOT/tests/integration/run.sh" "${integration[@]}" 2>&1 | tee -a "$out" \
    || fail=1
if sanitizer_reports "$out" >/dev/null; then
    echo "FAIL: sanitizer reports in the tests' output:"
    sanitizer_reports "$out"; fail=1
fi
[ $fail = 0 ] && echo "test-asan: no sanitizer report, every test passed"
exit $fail
