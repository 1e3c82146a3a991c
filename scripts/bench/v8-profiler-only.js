'use strict';
// A preload for overhead.js --compare (AGENT=scripts/bench/v8-profiler-only.js): V8's CPU profiler
// and nothing else, sampling every PROFILER_ONLY_MICROS (default 40000, the agent's 25 Hz) from
// boot to exit through an inspector session, never stopped or read. Against the agent-less arm it
// is the cost of the profiler itself; against the agent, what the agent adds to it.
const inspector = require('node:inspector');

const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: Number(process.env.PROFILER_ONLY_MICROS || 40000) });
session.post('Profiler.start');
