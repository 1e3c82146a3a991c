#!/usr/bin/env node
'use strict';
// Instructions per request that a part of the agent adds, counted by valgrind (cachegrind's `I
// refs`): the one measure of cost on this machine fine enough for the 1% of issue #14. CPU time
// per request swings by several percent between processes and even between seconds of one
// process (docs/overhead.md), and the virtual machine exposes no hardware counters to
// `perf stat`. An instruction count does not see cache misses or a slower clock, and valgrind
// inflates some paths (a clock read costs about 1600 instructions under it, some 65 ns natively),
// so it ranks and sizes costs; it does not replace the A/B of overhead.js.
//
// Each run is an http.Server and its keep-alive client in one process under valgrind, with one part
// switched on from the start: N1 requests, then another run with N2; the difference over N2 - N1
// cancels start-up and the part's one-time cost (a profiler's start walks the heap), leaving what
// it adds per request. Requests 500 to 3000 are early in a process's life (V8 still compiles), so
// costs per new code object (the profiler's code events) weigh more than they do at steady state.
//
// Parts (the agent's own modules from dist/: run `npm run build` first):
//   none                    nothing: the baseline
//   profiler:SAMPLER:HZ     V8's CPU profiler through the agent's sampler (native | inspector).
//                           Valgrind runs the process about 100x slower and V8 samples by wall
//                           time, so 0.25 Hz here is about 25 Hz of a native run's samples per
//                           request, and 0.01 Hz is the profiler running with almost no sample
//   dc:noop | dc:headers    a diagnostics_channel subscriber to http.server.request.start that does
//                           nothing, or reads request.headers
//   capture:N               the agent's request capture, N recorded a second: under valgrind that
//                           is about 100x more of the requests than N is natively
//
// Usage:
//   node scripts/bench/instructions.js [--node PATH] [--parts none,profiler:native:0.01,…]
//        [--repeat K] [--requests 500,3000] [--json FILE]
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const repo = path.join(__dirname, '..', '..');
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);

async function parent() {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.error('instructions: valgrind is not installed (apt-get install valgrind); nothing measured');
    process.exit(1);
  }
  const nodeBin = path.resolve(opt('--node', process.execPath));
  const parts = opt('--parts', 'none,profiler:native:0.01,profiler:native:0.25,profiler:inspector:0.01,profiler:inspector:0.25,dc:noop,dc:headers,capture:1').split(',');
  const repeat = Number(opt('--repeat', 2));
  const [n1, n2] = opt('--requests', '500,3000').split(',').map(Number);
  const version = spawnSync(nodeBin, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim();
  const abi = spawnSync(nodeBin, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).stdout.trim();
  const nativeBuilt = fs.existsSync(path.join(repo, 'node_modules', 'v8-profiler-next', 'build', 'binding', 'Release', `node-v${abi}-${process.platform}-${process.arch}`));
  if (!nativeBuilt && parts.some((p) => p.startsWith('profiler:native'))) console.log(`the native sampler's addon is not built for ABI ${abi}: its arms are left out`);
  const jobs = [];
  for (let r = 0; r < repeat; r++)
    for (const part of parts) {
      if (part.startsWith('profiler:native') && !nativeBuilt) continue;
      for (const n of [n1, n2]) jobs.push({ part, n, r });
    }
  console.log(`instructions per request under valgrind, Node ${version}, requests ${n1} and ${n2}, ${repeat} repeat(s), ${jobs.length} runs, two at a time`);
  // Two at a time (the machine's cores); valgrind runs each thread of a process one at a time.
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      job.ir = await countInstructions(nodeBin, job.part, job.n);
      process.stderr.write(`\r  ${++done}/${jobs.length} runs`);
    }
  };
  await Promise.all([worker(), worker()]);
  process.stderr.write('\n');
  const perRequest = {};
  for (const part of new Set(jobs.map((j) => j.part)))
    perRequest[part] = Array.from({ length: repeat }, (_, r) => {
      const a = jobs.find((j) => j.part === part && j.r === r && j.n === n1).ir;
      const b = jobs.find((j) => j.part === part && j.r === r && j.n === n2).ir;
      return (b - a) / (n2 - n1);
    }).filter(Number.isFinite);
  const base = median(perRequest.none ?? []);
  const out = { node: version, requests: [n1, n2], repeat, parts: {} };
  for (const [part, xs] of Object.entries(perRequest)) {
    const m = median(xs);
    const entry = { perRequest: Math.round(m), runs: xs.map(Math.round) };
    if (part !== 'none' && base) Object.assign(entry, { addedPerRequest: Math.round(m - base), ratio: Math.round((m / base) * 10000) / 10000 });
    out.parts[part] = entry;
    console.log(
      `  ${part.padEnd(24)} ${(m / 1000).toFixed(1).padStart(7)}k per request` +
        (entry.ratio ? `, ${entry.addedPerRequest >= 0 ? '+' : ''}${(entry.addedPerRequest / 1000).toFixed(1)}k (${entry.ratio})` : '') +
        `   runs: ${xs.map((x) => (x / 1000).toFixed(1)).join(', ')}`,
    );
  }
  const json = opt('--json');
  if (json) fs.writeFileSync(json, JSON.stringify(out, null, 2) + '\n');
}

function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function countInstructions(nodeBin, part, n) {
  return new Promise((resolve) => {
    const child = spawn('valgrind', ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', '--smc-check=all', nodeBin, __filename], {
      env: { ...process.env, PREHEAT_INSTRUCTIONS_CHILD: JSON.stringify({ part, n, repo }) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', () => {
      const m = /I\s+refs:\s+([\d,]+)/.exec(err);
      if (!m || !/requests in/.test(err)) process.stderr.write(`\n  ${part} ${n}: no count (${err.split('\n').filter((l) => /Error|error/.test(l)).slice(0, 2).join(' | ')})\n`);
      resolve(m && /requests in/.test(err) ? Number(m[1].replace(/,/g, '')) : NaN);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The child: the server and client, one part on from the start, n requests.

function child({ part, n, repo: root }) {
  const dist = path.join(root, 'dist', 'src');
  const http = require('node:http');
  const body = JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) });
  // The handler reads neither headers nor body, as a plain http service's route may not.
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    res.setHeader('content-type', 'application/json');
    res.end(u.searchParams.get('q') ? body : '{}');
  });
  const stop = switchOn(part, dist);
  server.listen(0, '127.0.0.1', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const port = server.address().port;
    const get = (i) =>
      new Promise((resolve) => {
        http.get({ host: '127.0.0.1', port, path: `/items?q=${i % 50}`, agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', resolve);
      });
    let sent = 0;
    const t0 = Date.now();
    const lane = async () => {
      while (sent < n) await get(sent++);
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    stop();
    agent.destroy();
    server.close();
    process.stderr.write(`${n} requests in ${Date.now() - t0} ms\n`);
  });
}

/** Switches the part on; returns what switches it off. */
function switchOn(part, dist) {
  const [kind, a, b] = part.split(':');
  if (kind === 'none') return () => {};
  if (kind === 'profiler') {
    const m = require(path.join(dist, 'sampler', a === 'native' ? 'native-sampler' : 'inspector-sampler'));
    const sampler = (a === 'native' ? m.createNativeSampler : m.createInspectorSampler)(Math.round(1e6 / Number(b)));
    sampler.start();
    return () => {
      sampler.stop();
      sampler.dispose();
    };
  }
  if (kind === 'dc') {
    const dc = require('node:diagnostics_channel');
    const fn = a === 'headers' ? (m) => void m.request.headers : () => {};
    dc.subscribe('http.server.request.start', fn);
    return () => dc.unsubscribe('http.server.request.start', fn);
  }
  if (kind === 'capture') {
    const { startRequestCapture } = require(path.join(dist, 'capture', 'request-capture'));
    const { createReplayMarker } = require(path.join(dist, 'capture', 'replay-marker'));
    // The agent's defaults (src/config/options.ts): GET and HEAD, 200 requests, 16 KiB bodies.
    const capture = startRequestCapture({ methods: ['GET', 'HEAD'], maxRequests: 200, maxBodyBytes: 16 * 1024, marker: createReplayMarker(), steadyAfterMs: 0, maxPerSecond: Number(a) });
    capture.resume();
    return () => capture.pause();
  }
  throw new Error(`unknown part ${part}`);
}

if (process.env.PREHEAT_INSTRUCTIONS_CHILD) child(JSON.parse(process.env.PREHEAT_INSTRUCTIONS_CHILD));
else parent();
