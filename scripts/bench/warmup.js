#!/usr/bin/env node
'use strict';
// Warm-up effect, measured side by side in one run: cold start, naive warm-up (the recorded
// requests fired before taking traffic, for as long as preheat's warm-up took) and preheat.
// For each, after "ready": the first 10 / 100 / 1000 requests against steady state.
// Usage: node scripts/bench/warmup.js [--service catalog|docs-shop] [--runs N] [--quick] [--json FILE]
//   or, on a third-party service: --external "<script.js> [args]" --paths FILE [--cwd DIR], where
//   {port} in the args becomes a free port, the script is relative to --cwd (default: here) and
//   FILE lists the GET paths to record and measure with, one per line.
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { fireLoad } = require('../lib/load');
const { bootService, bootExternal, stopService, freePort, servicePaths, readPaths, httpStatus } = require('../lib/service');

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const quick = args.includes('--quick');
const external = opt('--external');
const cwd = path.resolve(opt('--cwd', '.'));
const serviceName = external ? `external: ${external}` : opt('--service', 'docs-shop');
const runs = Number(opt('--runs', quick ? 1 : 3));
const measured = quick ? 200 : 1000;
if (external && !opt('--paths')) {
  console.error('warmup: --external needs --paths FILE: there is no request mix to guess for a service we do not know');
  process.exit(2);
}
const paths = (() => {
  try {
    return external ? readPaths(opt('--paths')) : servicePaths(serviceName);
  } catch (error) {
    console.error(`warmup: ${error.message}`);
    process.exit(2);
  }
})();
// bootExternal first finds a free port for the app, so boot() is awaited for either kind.
const boot = (env, withAgent) => (external ? bootExternal(external, { cwd, env, withAgent }) : bootService(serviceName, { env, withAgent }));
const stop = stopService;

const sinceMs = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** Polls /ready until 200; `first` is the first status it answered with (503 while warming). */
async function waitReady(port, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let first = 0;
  while (Date.now() < end) {
    const code = await httpStatus(port, '/ready');
    if (!first) first = code; // 0 is no answer yet, not a status
    if (code === 200) return { ok: true, first };
    await new Promise((r) => setTimeout(r, 5));
  }
  return { ok: false, first };
}

/** The first requests a real user would send, one at a time, then steady state after a long run. */
async function measure(port) {
  const first = await fireLoad({ port, paths, count: measured, concurrency: 1 });
  await fireLoad({ port, paths, count: quick ? 1000 : 8000, concurrency: 4 });
  const steady = await fireLoad({ port, paths, count: measured, concurrency: 1 });
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const s = { mean: mean(steady.latenciesMs), median: median(steady.latenciesMs) };
  const l = first.latenciesMs;
  // One request at a time, so throughput is 1 / latency: the time from ready until a bucket of
  // 50 requests first runs at 95% of the steady throughput (null: not within the measured ones).
  const bucket = 50;
  const peakPerMs = bucket / (s.mean * bucket);
  let elapsed = 0;
  let timeTo95Ms = null;
  for (let i = 0; i + bucket <= l.length; i += bucket) {
    const ms = l.slice(i, i + bucket).reduce((a, b) => a + b, 0);
    if (bucket / ms >= 0.95 * peakPerMs) {
      timeTo95Ms = elapsed;
      break;
    }
    elapsed += ms;
  }
  return {
    failed: first.failed + steady.failed,
    timeTo95Ms,
    first10: mean(l.slice(0, 10)) / s.mean,
    first100: mean(l.slice(0, 100)) / s.mean,
    firstNmedian: median(l) / s.median,
    steadyMedianMs: s.median,
  };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-bench-'));
  // 1. Record a profile under the same traffic the measurement sends.
  {
    const { child, port } = await boot({ PREHEAT_MODE: 'record', PREHEAT_DIR: dir }, true);
    await fireLoad({ port: await port, paths, count: quick ? 2000 : 6000, concurrency: 4 });
    await stop(child);
  }
  const results = { cold: [], naive: [], preheat: [] };
  let warmBudgetMs = 1000;
  for (let r = 0; r < runs; r++) {
    // preheat first: its time to ready is the naive warm-up's budget in the same round.
    {
      const rp = await freePort();
      const { child, port, t0 } = await boot({ PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(rp) }, true);
      const p = await port;
      const { ok, first } = await waitReady(rp);
      const readyMs = sinceMs(t0);
      const st = await new Promise((resolve) =>
        http
          .get({ host: '127.0.0.1', port: rp, path: '/status' }, (res) => {
            let b = '';
            res.on('data', (d) => (b += d));
            res.on('end', () => resolve(JSON.parse(b)));
          })
          .on('error', () => resolve({})),
      );
      warmBudgetMs = Math.max(50, readyMs);
      // What /status said at ready: when the ratios miss, stale or failing replays say why.
      const at = { phase: st.phase, stale: st.stale, replayed: st.replayed, errors: st.errors };
      results.preheat.push({ readyMs, ready: ok, firstReadyStatus: first, optimized: st.optimized, hot: st.hot, atReady: at, ...(await measure(p)) });
      await stop(child);
    }
    {
      const { child, port, t0 } = await boot({}, false);
      const p = await port;
      const readyMs = sinceMs(t0);
      results.cold.push({ readyMs, ...(await measure(p)) });
      await stop(child);
    }
    {
      const { child, port, t0 } = await boot({}, false);
      const p = await port;
      const until = Date.now() + warmBudgetMs - sinceMs(t0);
      while (Date.now() < until) await fireLoad({ port: p, paths, count: 20, concurrency: 4 });
      const readyMs = sinceMs(t0);
      results.naive.push({ readyMs, ...(await measure(p)) });
      await stop(child);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const summary = {};
  for (const [k, list] of Object.entries(results)) {
    summary[k] = Object.fromEntries(
      ['readyMs', 'first10', 'first100', 'firstNmedian', 'steadyMedianMs', 'failed'].map((f) => [f, +median(list.map((x) => x[f])).toFixed(2)]),
    );
    const t95 = list.map((x) => x.timeTo95Ms);
    summary[k].timeTo95Ms = t95.includes(null) ? null : +median(t95).toFixed(1);
    if (k === 'preheat') {
      summary[k].optimizedOfHot = `${median(list.map((x) => x.optimized))}/${median(list.map((x) => x.hot))}`;
      // Every run's, not a median: a single 200 at first means a run took traffic before warm-up.
      summary[k].firstReadyStatus = [...new Set(list.map((x) => x.firstReadyStatus))].join('/');
    }
  }
  const out = { service: serviceName, node: process.version, runs, measuredRequests: measured, summary, results };
  if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify(out, null, 2));
  console.log(`warm-up on ${serviceName}, Node ${process.version}, ${runs} run(s), medians; latency ratios against steady state`);
  console.log('contender  ready ms  first10  first100  median(first ' + measured + ')  steady median ms  to 95% peak ms  failed');
  for (const [k, s] of Object.entries(summary)) {
    console.log(`${k.padEnd(9)} ${String(s.readyMs).padStart(8)} ${String(s.first10).padStart(8)} ${String(s.first100).padStart(9)} ${String(s.firstNmedian).padStart(20)} ${String(s.steadyMedianMs).padStart(17)} ${String(s.timeTo95Ms ?? 'not reached').padStart(15)} ${String(s.failed).padStart(7)}${s.optimizedOfHot ? `  (optimized ${s.optimizedOfHot}, first /ready ${s.firstReadyStatus})` : ''}`);
  }
  for (const [i, x] of results.preheat.entries()) console.log(`preheat run ${i + 1} at ready: ${JSON.stringify({ ready: x.ready, ...x.atReady, optimized: x.optimized, hot: x.hot })}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
