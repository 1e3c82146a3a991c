'use strict';
// The preload entry: `node --require preheat/agent app.js`. It must never throw into the app.
const fs = require('node:fs');
const path = require('node:path');

/**
 * Whether this process is a tool rather than the app. With NODE_OPTIONS=--require preheat/agent in
 * a container's environment every node process loads this file:
 *  - the `preheat` command itself (the health check's `preheat probe`): an agent in it would record
 *    into PREHEAT_DIR and bind PREHEAT_PORT, then answer the probe itself. Any copy of preheat
 *    counts (a global install beside the app's own): the script is `bin/preheat.js` of a package
 *    named preheat;
 *  - a package manager that starts the app (`npm start`, npx, yarn, pnpm, corepack): it is a node
 *    process too, and its agent would bind PREHEAT_PORT first and answer /ready for an app it never
 *    sees listen. The app it starts inherits NODE_OPTIONS and gets the agent.
 */
const LAUNCHERS = new Set(['npm', 'yarn', 'pnpm', 'corepack', '@yarnpkg/cli-dist']);

function isTool(entry) {
  if (!entry) return false;
  let real;
  try {
    real = fs.realpathSync(entry);
  } catch (_) {
    return false;
  }
  const nameAt = (dir) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name;
    } catch (_) {
      return undefined;
    }
  };
  if (path.basename(real) === 'preheat.js' && path.basename(path.dirname(real)) === 'bin' && nameAt(path.join(path.dirname(real), '..')) === 'preheat') return true;
  // The package the script belongs to: the nearest package.json above it that has a name.
  for (let dir = path.dirname(real), i = 0; i < 8 && path.dirname(dir) !== dir; dir = path.dirname(dir), i++) {
    const name = nameAt(dir);
    if (name !== undefined) return LAUNCHERS.has(name);
  }
  return false;
}

try {
  if (!isTool(process.argv[1])) require('../dist/src/agent/main.js').startAgent();
} catch (error) {
  try {
    const missing = error && error.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]agent/.test(String(error.message));
    const why = missing ? 'preheat is not built (run `npm run build` in its folder)' : String((error && error.message) || error);
    process.stderr.write(`preheat: the agent could not load: ${why.split('\n')[0]}; the app runs without it [PREHEAT_W008]\n`);
  } catch (_) {
    // stderr is gone too: stay silent.
  }
}
