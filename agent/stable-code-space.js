'use strict';
// Preloaded by `preheat flame --native` under perf when the command is not `node` itself, where
// NODE_OPTIONS cannot carry V8 flags: V8 moves code when it compacts code space, and perf maps
// do not follow moves, so a long run would name hot code after whatever was written there first.
try {
  require('node:v8').setFlagsFromString('--no-compact-code-space');
} catch {
  // A guest never throws into the app; the names may then be wrong on long runs.
}
