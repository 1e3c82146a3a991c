'use strict';
// The preload entry: `node --require preheat/agent app.js`. It must never throw into the app.
try {
  require('../dist/src/agent/main.js').startAgent();
} catch (error) {
  try {
    const missing = error && error.code === 'MODULE_NOT_FOUND' && /dist[\\/]src[\\/]agent/.test(String(error.message));
    const why = missing ? 'preheat is not built (run `npm run build` in its folder)' : String((error && error.message) || error);
    process.stderr.write(`preheat: the agent could not load: ${why.split('\n')[0]}; the app runs without it [PREHEAT_W008]\n`);
  } catch (_) {
    // stderr is gone too: stay silent.
  }
}
