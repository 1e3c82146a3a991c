#!/usr/bin/env bash
# Builds v8-profiler-next for the Node binary given, into the addon's per-ABI folder
# (build/binding/Release/node-v<ABI>-linux-x64/), beside the builds for other Node versions.
# node-gyp's rebuild wipes build/, so it runs in a copy of the package. A failed build is not a CI
# failure: the agent falls back to the inspector sampler, and the tests check that it says so.
set -uo pipefail
node_bin="${1:?usage: build-addon.sh <path/to/node>}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
pkg="$root/node_modules/v8-profiler-next"
nodedir="$(cd "$(dirname "$node_bin")/.." && pwd)"
abi="$("$node_bin" -p process.versions.modules)"
target="$pkg/build/binding/Release/node-v$abi-linux-x64"
if [ -f "$target/profiler.node" ]; then
  echo "v8-profiler-next for ABI $abi: already built" >&2
  exit 0
fi
gyp="$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$pkg" "$work/pkg"
rm -rf "$work/pkg/build"
# The package's config.gypi asks for node-pre-gyp's copy step; plain node-gyp builds without it.
printf '{ "variables": { "action_after_build": "false" } }\n' >"$work/pkg/config.gypi"
# The binding resolves nan with `node -e "require('nan')"`: give it the project's node_modules.
if (cd "$work/pkg" && PATH="$(dirname "$node_bin"):$PATH" NODE_PATH="$root/node_modules" \
    "$node_bin" "$gyp" rebuild --nodedir="$nodedir" --jobs=2 >"$work/build.log" 2>&1); then
  mkdir -p "$target"
  cp "$work/pkg/build/Release/profiler.node" "$target/"
  echo "v8-profiler-next for ABI $abi: built" >&2
else
  echo "v8-profiler-next for ABI $abi: build FAILED (the agent will fall back to node:inspector); last lines:" >&2
  tail -n 15 "$work/build.log" >&2
fi
exit 0
