#!/usr/bin/env bash
# The setup every entry point needs: system packages, npm packages, a build. Quick when all is there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash scripts/build.sh
