#!/usr/bin/env bash
# Installs every system package Planescope needs (build, native tools, tests), then npm packages,
# idempotently: when everything is present it only checks and returns in about a second.
# Usage: scripts/setup.sh [--no-npm]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian/Ubuntu package names, one concern per line.
packages=(
  build-essential make gcc g++ binutils        # native/ and C fixtures
  valgrind gdb                                 # planegrind and the debugger back end
  rustc cargo libstd-rust-dev-wasm32 librust-gimli-dev lld-14  # wasm/ (offline; rust-lld is lld-14)
  llvm                                         # llvm-dwarfdump for DWARF comparisons and benchmarks
  iproute2                                     # network-namespace tests
  chromium libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev ripgrep  # real VS Code e2e
  git zip unzip ca-certificates
)

# One dpkg-query for all packages: those not reported as installed are missing.
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  # dpkg-query exits 1 when a package was never installed (the case this check exists for): ignore that.
  installed=" $({ dpkg-query -W -f='${Package}:${Status}\n' "${packages[@]}" 2>/dev/null || true; } | sed -n 's/:install ok installed$//p' | tr '\n' ' ') "
else
  installed=" "
fi
for p in "${packages[@]}"; do
  [[ "$installed" == *" $p "* ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "planescope setup: this system has no apt-get. Install these packages (Debian names) by hand:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "planescope setup: not root and no sudo; run as root: apt-get install ${missing[*]}" >&2; exit 1
    fi
  fi
  echo "planescope setup: installing ${#missing[@]} system packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" != "--no-npm" ]; then
  cd "$here"
  # npm ci only when package-lock.json changed since the last install.
  stamp=node_modules/.planescope-lock-hash
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "planescope setup: npm ci"
    npm ci --no-audit --no-fund
    echo "$want" > "$stamp"
  fi
fi
