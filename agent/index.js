'use strict';
// The preload entry: `node --require preheat/agent app.js`. It must never throw into the app.
const fs = require('node:fs');
const path = require('node:path');

/**
 * Whether this process is the `preheat` command itself. With NODE_OPTIONS=--require preheat/agent
 * in a container's environment every node process loads this file, the health check's
 * `preheat probe` too: the command is a tool, not the app, and an agent in it would record into
 * PREHEAT_DIR and bind PREHEAT_PORT (and then answer the probe itself). Any copy of preheat counts
 * (a global install beside the app's own): the script is `bin/preheat.js` of a package named preheat.
 */
function isPreheatCommand(entry) {
  if (!entry) return false;
  let real;
  try {
    real = fs.realpathSync(entry);
  } catch (_) {
    return false;
  }
  if (path.basename(real) !== 'preheat.js' || path.basename(path.dirname(real)) !== 'bin') return false;
  try {
    return JSON.parse(fs.readFileSync(path.join(path.dirname(real), '..', 'package.json'), 'utf8')).name === 'preheat';
  } catch (_) {
    return false;
  }
}

try {
  if (!isPreheatCommand(process.argv[1])) require('../dist/src/agent/main.js').startAgent();
} catch (error) {
  try {
    const missing = error && error.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]agent/.test(String(error.message));
    const why = missing ? 'preheat is not built (run `npm run build` in its folder)' : String((error && error.message) || error);
    process.stderr.write(`preheat: the agent could not load: ${why.split('\n')[0]}; the app runs without it [PREHEAT_W008]\n`);
  } catch (_) {
    // stderr is gone too: stay silent.
  }
}
