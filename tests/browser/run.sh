#!/usr/bin/env bash
# The console's browser test: run by tests/integration/run.sh (make test,
# make console-test) against its httpd and PostgreSQL, with playwright-core
# installed by the Makefile into build/browser.
set -euo pipefail
cd "$(dirname "$0")/../.."
export MV_BROWSER_MODULES=${MV_BROWSER_MODULES:-$PWD/build/browser}
export MV_SCREENSHOTS=${MV_SCREENSHOTS:-$PWD/build/console-screens}
exec node --test --test-reporter=spec tests/browser/console.test.mjs
