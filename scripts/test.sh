#!/usr/bin/env bash
# `npm test`: sets up and builds what is needed, type-checks, then runs every test suite in one mocha
# run (unit, native, debug, e2e), ending with mocha's summary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-ready.sh
echo "typecheck: tsc --noEmit"
npx --no-install tsc --noEmit -p .
bash scripts/package.sh >/tmp/planescope-package.log 2>&1 || { cat /tmp/planescope-package.log; exit 1; }
# Real VS Code for the e2e suite (code-server, cached outside the repository; seconds when installed).
if [ "$(uname -s)" = Linux ]; then bash scripts/install-code-server.sh >/dev/null; fi
# With no arguments: every suite. With arguments (files or globs): only those.
if (($# == 0)); then set -- 'test/unit/**/*.test.ts' 'test/native/**/*.test.ts' 'test/debug/**/*.test.ts' 'test/e2e/**/*.test.ts'; fi
exec npx --no-install mocha --config test/.mocharc.json "$@"
