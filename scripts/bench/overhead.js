#!/usr/bin/env node
'use strict';
// Agent overhead in record mode at default settings: throughput and CPU per request with and
// without the agent, runs alternated, and resident memory over a long run.
// Usage: node scripts/bench/overhead.js [--service docs-shop|catalog] [--runs N] [--seconds S] [--quick] [--json FILE]
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fireLoad, catalogPaths } = require('../lib/load');

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const quick = args.includes('--quick');
const serviceName = opt('--service', 'docs-shop');
const runs = Number(opt('--runs', quick ? 2 : 6));
const requests = quick ? 4000 : 30000;
const soakSeconds = Number(opt('--seconds', quick ? 10 : 130));
const repo = path.join(__dirname, '..', '..');
const agent = path.join(repo, 'agent', 'index.js');
const script = path.join(repo, 'fixtures', 'services', serviceName, 'server.js');
const paths =
  serviceName === 'catalog'
    ? catalogPaths(300)
    : Array.from({ length: 300 }, (_, i) => (i % 4 === 0 ? `/product/${(i * 13) % 300}` : `/products?tag=${['home', 'garden', 'tools'][i % 3]}&page=${1 + (i % 5)}`));
const TICK = 100; // USER_HZ on Linux

function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}
function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

async function boot(withAgent, dir) {
  const child = spawn(process.execPath, [...(withAgent ? ['--require', agent] : []), script], {
    cwd: path.dirname(script),
    env: { ...process.env, PORT: '0', ...(withAgent ? { PREHEAT_MODE: 'record', PREHEAT_DIR: dir } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  return { child, port };
}
const stop = (child) => new Promise((r) => { child.on('exit', r); child.kill('SIGTERM'); });

async function throughputRun(withAgent, dir) {
  const { child, port } = await boot(withAgent, dir);
  await fireLoad({ port, paths, count: 3000, concurrency: 8 });
  const c0 = cpuTicks(child.pid);
  const t0 = process.hrtime.bigint();
  const r = await fireLoad({ port, paths, count: requests, concurrency: 8 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuMs = ((cpuTicks(child.pid) - c0) * 1000) / TICK;
  await stop(child);
  return { rps: requests / seconds, cpuMicrosPerRequest: (cpuMs * 1000) / requests, failed: r.failed };
}

async function soak(dir) {
  const { child, port } = await boot(true, dir);
  const samples = [];
  const end = Date.now() + soakSeconds * 1000;
  let next = Date.now();
  while (Date.now() < end) {
    await fireLoad({ port, paths, count: 500, concurrency: 4 });
    if (Date.now() >= next) {
      samples.push({ s: Math.round((Date.now() - (end - soakSeconds * 1000)) / 1000), rssMb: +(rssKb(child.pid) / 1024).toFixed(1) });
      next += 5000;
    }
  }
  await stop(child);
  return samples;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const spread = (xs) => [Math.min(...xs), Math.max(...xs)].map((x) => +x.toFixed(4));

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-overhead-'));
  const pairs = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first, so a drift of the machine hits both alike.
    const order = i % 2 ? [true, false] : [false, true];
    const r = {};
    for (const withAgent of order) r[withAgent ? 'agent' : 'bare'] = await throughputRun(withAgent, dir);
    pairs.push(r);
  }
  const rpsRatio = pairs.map((p) => p.agent.rps / p.bare.rps);
  const cpuRatio = pairs.map((p) => p.agent.cpuMicrosPerRequest / p.bare.cpuMicrosPerRequest);
  const memory = await soak(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  const out = {
    service: serviceName,
    node: process.version,
    runs,
    requestsPerRun: requests,
    throughputRatio: { median: +median(rpsRatio).toFixed(4), range: spread(rpsRatio) },
    cpuPerRequestRatio: { median: +median(cpuRatio).toFixed(4), range: spread(cpuRatio) },
    bare: { rps: Math.round(median(pairs.map((p) => p.bare.rps))), cpuMicrosPerRequest: +median(pairs.map((p) => p.bare.cpuMicrosPerRequest)).toFixed(1) },
    agent: { rps: Math.round(median(pairs.map((p) => p.agent.rps))), cpuMicrosPerRequest: +median(pairs.map((p) => p.agent.cpuMicrosPerRequest)).toFixed(1) },
    soakSeconds,
    rss: memory,
  };
  if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify(out, null, 2));
  console.log(`agent overhead (record mode, defaults) on ${serviceName}, Node ${process.version}, ${runs} alternated pairs of ${requests} requests`);
  console.log(`  throughput with/without: median ${out.throughputRatio.median} (range ${out.throughputRatio.range.join('–')})`);
  console.log(`  CPU per request with/without: median ${out.cpuPerRequestRatio.median} (range ${out.cpuPerRequestRatio.range.join('–')})`);
  console.log(`  RSS over ${soakSeconds} s under load (MB): ${memory.map((m) => `${m.s}s:${m.rssMb}`).join(' ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
