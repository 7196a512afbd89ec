#!/usr/bin/env bash
# Builds every part of Planescope into dist/: the TypeScript bundles, the DWARF .wasm (Debian's offline
# Rust toolchain), planegrind and librecord.so. Incremental: with nothing changed it takes seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Several builds at once (parallel test runs, engineers sharing a tree) would write the same outputs.
exec 8>"${TMPDIR:-/tmp}/planescope-build-$(pwd | sha1sum | cut -c1-12).lock"
flock 8

step() { printf 'build: %s\n' "$*"; }

step "native (planegrind, librecord)"
make -s -C native
mkdir -p dist/native
for f in native/build/vglib/planegrind-amd64-linux native/build/librecord.so; do
  to="dist/native/$(basename "$f")"
  # copy, then rename: a program running the old file keeps its mapping (overwriting it in place crashes them)
  cmp -s "$f" "$to" || { cp "$f" "$to.tmp.$$" && mv -f "$to.tmp.$$" "$to"; }
done

step "wasm (gimli DWARF reader)"
# Debian's cargo and rustc (not a rustup toolchain on PATH): they have the wasm32 std and the offline registry.
(cd wasm && /usr/bin/cargo build --release --quiet)
cmp -s wasm/target/wasm32-unknown-unknown/release/planescope_dwarf.wasm dist/planescope_dwarf.wasm ||
  cp wasm/target/wasm32-unknown-unknown/release/planescope_dwarf.wasm dist/planescope_dwarf.wasm

step "typescript (esbuild bundles)"
node scripts/bundle.mjs
chmod +x dist/cli.js
