#!/usr/bin/env bash
# `npm run package`: builds and packages planescope-<version>.vsix (bundled JS, .wasm, native
# binaries for linux-x64, media, syntaxes). Prints the path of the .vsix.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f dist/cli.js ] || bash scripts/build.sh
version=$(node -p 'require("./package.json").version')
out="planescope-${version}.vsix"
# Everything run-time is bundled into dist/, so node_modules is not packaged (--no-dependencies).
npx --no-install vsce package --no-dependencies --allow-missing-repository --skip-license \
  --baseContentUrl https://planescope.invalid/ --baseImagesUrl https://planescope.invalid/ \
  --target linux-x64 -o "$out" >&2
echo "$out"
