#!/usr/bin/env node
'use strict';
// Agent overhead in record mode at default settings: throughput and CPU per request with and
// without the agent, runs alternated, and resident memory over a long run.
// Usage: node scripts/bench/overhead.js [--service docs-shop|catalog] [--runs N] [--seconds S] [--quick] [--json FILE]
//        node scripts/bench/overhead.js --default-cycle N [--json FILE]   (N pairs of 125 s runs with the real defaults)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fireLoad } = require('../lib/load');
const { bootService, stopService, servicePaths } = require('../lib/service');

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const quick = args.includes('--quick');
const serviceName = opt('--service', 'docs-shop');
const runs = Number(opt('--runs', quick ? 2 : 4));
const requests = quick ? 4000 : 30000;
const dutyRequests = quick ? 4000 : 60000;
const soakSeconds = Number(opt('--seconds', quick ? 10 : 90));
const paths = servicePaths(serviceName);
const TICK = 100; // USER_HZ on Linux

function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}
function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

async function boot(withAgent, dir, extraEnv = {}) {
  const { child, port } = bootService(serviceName, { withAgent, env: withAgent ? { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, ...extraEnv } : {} });
  return { child, port: await port };
}
const stop = stopService;

async function throughputRun(withAgent, dir, extraEnv, count, seconds = 0) {
  const { child, port } = await boot(withAgent, dir, extraEnv);
  await fireLoad({ port, paths, count: 3000, concurrency: 8 });
  const c0 = cpuTicks(child.pid);
  const t0 = process.hrtime.bigint();
  let r = { failed: 0 };
  if (seconds > 0) {
    // A fixed time instead of a fixed count: long enough to span a whole default period.
    count = 0;
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      const part = await fireLoad({ port, paths, count: 2000, concurrency: 8 });
      count += 2000;
      r.failed += part.failed;
    }
  } else {
    r = await fireLoad({ port, paths, count, concurrency: 8 });
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuMs = ((cpuTicks(child.pid) - c0) * 1000) / TICK;
  await stop(child);
  return { rps: count / elapsed, cpuMicrosPerRequest: (cpuMs * 1000) / count, failed: r.failed };
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

/** Alternated pairs; which goes first alternates too, so a drift of the machine hits both alike. */
async function pairs(dir, extraEnv, count, seconds = 0, n = runs) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const order = i % 2 ? [true, false] : [false, true];
    const r = {};
    for (const withAgent of order) r[withAgent ? 'agent' : 'bare'] = await throughputRun(withAgent, dir, extraEnv, count, seconds);
    out.push(r);
  }
  return out;
}

function ratios(list) {
  const rps = list.map((p) => p.agent.rps / p.bare.rps);
  const cpu = list.map((p) => p.agent.cpuMicrosPerRequest / p.bare.cpuMicrosPerRequest);
  return {
    throughputRatio: { median: +median(rps).toFixed(4), range: spread(rps) },
    cpuPerRequestRatio: { median: +median(cpu).toFixed(4), range: spread(cpu) },
    bare: { rps: Math.round(median(list.map((p) => p.bare.rps))), cpuMicrosPerRequest: +median(list.map((p) => p.bare.cpuMicrosPerRequest)).toFixed(1) },
    agent: { rps: Math.round(median(list.map((p) => p.agent.rps))), cpuMicrosPerRequest: +median(list.map((p) => p.agent.cpuMicrosPerRequest)).toFixed(1) },
  };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-overhead-'));
  if (args.includes('--default-cycle')) {
    // The real defaults (10 s of every 120 s) over runs of 125 s: long, so not part of npm run bench.
    const cycleRuns = Number(opt('--default-cycle', 2));
    const cycle = ratios(await pairs(dir, {}, 0, 125, cycleRuns));
    const out = { service: serviceName, node: process.version, pairs: cycleRuns, secondsPerRun: 125, ...cycle };
    if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify(out, null, 2));
    console.log(`default duty cycle, ${cycleRuns} alternated pairs of 125 s: throughput ratio ${cycle.throughputRatio.median} (${cycle.throughputRatio.range.join('–')}), CPU per request ratio ${cycle.cpuPerRequestRatio.median} (${cycle.cpuPerRequestRatio.range.join('–')})`);
    fs.rmSync(dir, { recursive: true, force: true });
    return;
  }
  // 1. Inside a sampling window (the first seconds after start): the worst case of the duty cycle.
  const inWindow = ratios(await pairs(dir, {}, requests));
  // 2. Over whole duty cycles: the default ratio (10 s of every 120 s) scaled down to 1 s of every
  //    12 s so that runs of ~20 s span whole periods. Ten times the window starts and stops of the
  //    default: a pessimistic stand-in.
  const duty = ratios(await pairs(dir, { PREHEAT_WINDOW_MS: '1000', PREHEAT_PERIOD_MS: '12000' }, dutyRequests));
  const memory = await soak(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  const out = { service: serviceName, node: process.version, runs, requestsPerRun: requests, inWindow, dutyRequestsPerRun: dutyRequests, duty, soakSeconds, rss: memory };
  if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify(out, null, 2));
  console.log(`agent overhead (record mode, defaults) on ${serviceName}, Node ${process.version}, ${runs} alternated pairs of ${requests} requests`);
  for (const [label, r] of [['inside a sampling window', inWindow], ['over whole duty cycles (1 s of every 12 s)', duty]]) {
    console.log(`  ${label}: throughput with/without median ${r.throughputRatio.median} (range ${r.throughputRatio.range.join('–')}), ` +
      `CPU per request median ${r.cpuPerRequestRatio.median} (range ${r.cpuPerRequestRatio.range.join('–')})`);
  }
  console.log(`  RSS over ${soakSeconds} s under load (MB): ${memory.map((m) => `${m.s}s:${m.rssMb}`).join(' ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
