#!/usr/bin/env bash
# Installs code-server 4.100.3 (the real VS Code 1.100.3, served to a browser) for the e2e tests, into a
# cache directory outside the repository, without downloads beyond the npm registry (DESIGN §9).
# Idempotent: when the stamp file is there it returns at once. Prints the path of code-server's entry
# script (run it with `node`) on stdout; progress goes to stderr.
#
#   ${PLANESCOPE_CACHE:-$HOME/.cache/planescope}/code-server-4.100.3/
#     package.json                     a wrapper project that depends on code-server (ours, not code-server's)
#     node_modules/code-server/        the package; lib/vscode holds VS Code's server
#     node_modules/argon2/             code-server's only native module (password hashing, loaded at start)
#     .planescope-installed            the stamp: written last, only when everything was built
set -euo pipefail

version=4.100.3
cache="${PLANESCOPE_CACHE:-$HOME/.cache/planescope}"
dir="$cache/code-server-$version"
stamp="$dir/.planescope-installed"
entry="$dir/node_modules/code-server/out/node/entry.js"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
# The stamp names what the native modules were built against: another Node.js major means another ABI.
want_stamp="code-server@$version node@$node_major"

say() { printf 'install-code-server: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] && [ -f "$entry" ]; then
  echo "$entry"
  exit 0
fi

[ "$node_major" = 20 ] ||
  die "code-server $version runs only on Node.js 20 (this is $(node -v)); install Node.js 20 and retry."

# The Debian packages the native modules compile against (scripts/setup.sh installs them).
missing=()
for p in libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev ripgrep make g++; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) || die "missing Debian packages: ${missing[*]}. Run: bash scripts/setup.sh --no-npm"
[ -x /usr/bin/rg ] || die "/usr/bin/rg is missing (Debian package ripgrep). Run: bash scripts/setup.sh --no-npm"

mkdir -p "$cache"
# Two test runs starting together must not build into the same directory.
exec 9>"$cache/code-server-$version.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] && [ -f "$entry" ]; then
  echo "$entry"
  exit 0
fi

started=$SECONDS
# Left by an install that was killed (we hold the lock, so no other install is using them).
rm -rf "$cache/.code-server-$version.tmp-"*
work="$cache/.code-server-$version.tmp-$$"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

# node-gyp must compile against the headers of the installed Node.js (Debian's nodejs ships them in
# /usr/include/node); left alone it would download them, which fails offline.
if [ -f /usr/include/node/node_api.h ]; then export npm_config_nodedir=/usr; fi
export npm_config_yes=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
quiet() { # runs npm quietly, showing its output only when it fails
  local log="$work/npm.log"
  if ! "$@" >"$log" 2>&1; then cat "$log" >&2; die "'$*' failed in $(pwd) (output above)"; fi
}

# 1. The package itself, scripts off: code-server's postinstall would run `npm install` in lib/vscode, whose
#    @vscode/ripgrep postinstall downloads ripgrep from the internet.
cat >"$work/package.json" <<EOF
{ "name": "planescope-code-server", "private": true, "dependencies": { "code-server": "$version" } }
EOF
say "npm install code-server@$version (scripts off)"
(cd "$work" && quiet npm install --ignore-scripts --no-package-lock)

cs="$work/node_modules/code-server"
vs="$cs/lib/vscode"

# 2. What code-server's postinstall.sh does, minus the download: VS Code's server dependencies.
say "npm install in lib/vscode and lib/vscode/extensions (scripts off)"
(cd "$vs" && quiet npm install --omit=dev --ignore-scripts --no-package-lock)
(cd "$vs/extensions" && quiet npm install --omit=dev --ignore-scripts --no-package-lock)
mkdir -p "$vs/node_modules/@vscode/ripgrep/bin"
ln -sf /usr/bin/rg "$vs/node_modules/@vscode/ripgrep/bin/rg"
ln -sfn node_modules "$vs/node_modules.asar"
ln -sf code-linux.sh "$vs/bin/remote-cli/code-server"
ln -sf browser-linux.sh "$vs/bin/helpers/browser.sh"

# 3. Build the native modules with node-gyp. npm 11 gates dependency install scripts by an allow list
#    (`allowScripts`); name exactly the ones to run. Not built: @vscode/ripgrep (its script downloads;
#    /usr/bin/rg is linked instead), @parcel/watcher (its prebuilt linux-x64 binary is an optional
#    dependency), @vscode/windows-* (Windows only). The extensions directory has no native module.
native=(@vscode/spdlog node-pty native-watchdog kerberos @vscode/deviceid)
printf 'allow-scripts=%s\n' "$(IFS=,; echo "${native[*]}")" >"$vs/.npmrc"
say "building VS Code's native modules: ${native[*]} (about a minute)"
(cd "$vs" && quiet npm rebuild "${native[@]}")
printf 'allow-scripts=argon2\n' >"$work/.npmrc"
say "building argon2"
(cd "$work" && quiet npm rebuild argon2)

# 4. Check that what the server loads at start really got built, and that it starts.
for f in \
  "$vs/node_modules/@vscode/spdlog/build/Release/spdlog.node" \
  "$vs/node_modules/node-pty/build/Release/pty.node" \
  "$vs/node_modules/native-watchdog/build/Release/watchdog.node" \
  "$vs/node_modules/kerberos/build/Release/kerberos.node" \
  "$work/node_modules/argon2/lib/binding/napi-v3/argon2.node"; do
  [ -f "$f" ] || die "native module not built: ${f#"$work/"}. Check the Debian packages above and rerun."
done
# (its own config directory, so that the check leaves no ~/.config/code-server behind)
got="$(XDG_CONFIG_HOME="$work/.config" node "$cs/out/node/entry.js" --version 2>&1)"
grep -q "^$version " <<<"$got" || die "code-server does not start: $got"
rm -rf "$work/.config"

rm -f "$work/npm.log"
echo "$want_stamp" >"$work/.planescope-installed"
rm -rf "$dir"
mv "$work" "$dir"
trap - EXIT
say "installed code-server $version in $dir ($((SECONDS - started)) s)"
echo "$entry"
