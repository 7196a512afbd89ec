#!/usr/bin/env bash
# `npm run demo`: sets up, builds, then runs the whole pipeline on the bundled example.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-ready.sh
exec node dist/cli.js demo "$@"
