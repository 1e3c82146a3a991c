#!/usr/bin/env node
'use strict';
// The race against naive replay (issue 11). One service, several alternated rounds; per round:
// preheat (warm mode), cold (no warm-up), and naive replay: the same recorded requests, in the same
// proportions and at the same concurrency as preheat's replay, sent from this separate process
// before traffic, for 1×, 2× and 4× the warm-up time preheat took in the same round.
// For each contender, after "ready": the first 1000 requests one at a time, then `--settle` more
// (20 000) at concurrency 4 and a pause, then 1000 more one at a time: the steady state of the same
// process. Headline: the median of the first 10 / 100 / 1000 requests divided by the steady median;
// means beside. And the figure that matters: how much longer than preheat the naive replay needs
// to match preheat's first-100 ratio (interpolated between the multiples measured).
// Usage: node scripts/bench/warmup.js [--service catalog|docs-shop] [--runs N] [--quick] [--json FILE]
//   or on a third-party service: --external "<script.js> [args]" --paths FILE [--cwd DIR], where
//   {port} in the args becomes a free port, the script is relative to --cwd (default: here) and
//   FILE lists the GET paths to record and measure with, one per line. A --cwd of
//   scripts/bench/services gets its dependencies installed on demand (npm ci there).
//   --naive 1,2,4  the multiples of preheat's warm-up time the naive replay is given
//   --settle N     requests between the first window and the steady measurement (default 20000)
//   --steady-after-ms MS  PREHEAT_STEADY_AFTER_MS while recording (default 2000): latencies are kept
//   --variant NAME:K=V,K=V  one more preheat contender with extra environment (repeatable)
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { fireLoad } = require('../lib/load');
const { bootService, bootExternal, stopService, freePort, servicePaths, readPaths, httpStatus } = require('../lib/service');

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const optAll = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const quick = args.includes('--quick');
const external = opt('--external');
const cwd = path.resolve(opt('--cwd', '.'));
const serviceName = opt('--name', external ? `external: ${external}` : opt('--service', 'docs-shop'));
const runs = Number(opt('--runs', quick ? 1 : 3));
const measured = quick ? 200 : 1000;
const settle = Number(opt('--settle', quick ? 1000 : 20000));
const multiples = opt('--naive', quick ? '1' : '1,2,4').split(',').map(Number);
const steadyAfterMs = Number(opt('--steady-after-ms', quick ? 1000 : 2000));
/**
 * What preheat's replay uses by default (PREHEAT_REPLAY_CONCURRENCY unset: one per usable CPU, 2 to
 * 8): the naive replay sends as many. It was a fixed 4 before preheat's default followed the CPUs.
 */
const REPLAY_CONCURRENCY = require('../../dist/src/warmup/cpu-budget').defaultReplayConcurrency();
const variants = optAll('--variant').map((v) => {
  const [name, envs = ''] = v.split(':');
  return { name, env: Object.fromEntries(envs.split(',').filter(Boolean).map((kv) => kv.split('='))) };
});
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
// Real HTTP clients ask for compression (browsers, curl --compressed, Node's fetch): the measured
// traffic does too, so a compression path the warm-up leaves cold shows.
const clientHeaders = { 'accept-encoding': 'gzip, deflate, br' };
installServiceDeps(cwd);
/**
 * A third-party service listens on one port for the whole race, as a deployed service does on
 * every boot: preheat warms the server on the recorded port at once. With a new port per boot it
 * waited 3 s for a server on the recorded one before warming the first (README, "Warm-up"), and
 * that wait was counted in its warm-up time.
 */
let externalPort = null;
const boot = (env, withAgent) => (external ? bootExternal(external, { cwd, env, withAgent, port: externalPort }) : bootService(serviceName, { env, withAgent }));
const stop = stopService;
const sinceMs = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x, d = 3) => (x === null || x === undefined ? x : +x.toFixed(d));

/** scripts/bench/services keeps the third-party services' dependencies out of preheat's own. */
function installServiceDeps(dir) {
  const manifest = path.join(dir, 'package.json');
  if (path.relative(path.join(__dirname, 'services'), dir) !== '' || !fs.existsSync(manifest)) return;
  if (fs.existsSync(path.join(dir, 'node_modules', '.package-lock.json'))) return;
  console.log(`warmup: installing the benchmark services' dependencies (npm ci --prefix ${path.relative(process.cwd(), dir)})`);
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Polls /ready until 200; `first` is the first status it answered with (503 while warming). */
async function waitReady(port, timeoutMs = 60000) {
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

function getJson(port, p) {
  return new Promise((resolve) =>
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => {
          try {
            resolve(JSON.parse(b));
          } catch {
            resolve({});
          }
        });
      })
      .on('error', () => resolve({})),
  );
}

/** The recorded requests, read from the profile directory as warm mode merges them. */
function recordedRequests(dir) {
  const { readProfileDir, mergedProfile } = require('../../dist/src/profile/profile-dir');
  const snapshot = readProfileDir(dir);
  const merged = mergedProfile(snapshot, { decay: 1, maxFunctions: 1000, maxRequests: 10000 });
  return merged?.requests ?? [];
}

/**
 * The naive contender: the recorded requests in preheat's own schedule (same proportions, same
 * order), REPLAY_CONCURRENCY at a time, with their recorded headers, until `untilMs` (Date.now()).
 */
async function naiveReplay(port, requests, untilMs) {
  const { replaySchedule } = require('../../dist/src/warmup/replay');
  const schedule = replaySchedule(requests.filter((r) => r.method === 'GET'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: REPLAY_CONCURRENCY });
  let next = 0;
  let sent = 0;
  const one = (r) =>
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: r.url, headers: r.headers, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', resolve);
    });
  const worker = async () => {
    while (Date.now() < untilMs) {
      sent++;
      await one(schedule[next++ % schedule.length]);
    }
  };
  await Promise.all(Array.from({ length: REPLAY_CONCURRENCY }, worker));
  agent.destroy();
  return sent;
}

/** The first requests a real user would send, one at a time; then the same process settled. */
async function measure(port) {
  const first = await fireLoad({ port, paths, count: measured, concurrency: 1, headers: clientHeaders });
  const settled = await fireLoad({ port, paths, count: settle, concurrency: 4, headers: clientHeaders });
  await new Promise((r) => setTimeout(r, 1000));
  const steady = await fireLoad({ port, paths, count: measured, concurrency: 1, headers: clientHeaders });
  const l = first.latenciesMs;
  const sMed = median(steady.latenciesMs);
  const sMean = mean(steady.latenciesMs);
  const windows = [10, 100, measured];
  return {
    failed: first.failed + settled.failed + steady.failed,
    steadyMedianMs: sMed,
    steadyMeanMs: sMean,
    median: Object.fromEntries(windows.map((n) => [n, median(l.slice(0, n)) / sMed])),
    mean: Object.fromEntries(windows.map((n) => [n, mean(l.slice(0, n)) / sMean])),
  };
}

async function runPreheat(dir, env = {}) {
  const rp = await freePort();
  const { child, port, t0 } = await boot({ PREHEAT_MODE: 'warm', PREHEAT_DIR: dir, PREHEAT_PORT: String(rp), ...env }, true);
  const p = await port;
  const listenMs = sinceMs(t0);
  const { ok, first } = await waitReady(rp);
  const readyMs = sinceMs(t0);
  const st = await getJson(rp, '/status');
  // What /status said at ready: when the ratios miss, stale or failing replays say why.
  const atReady = { phase: st.phase, reason: st.reason, stale: st.stale, replayed: st.replayed, errors: st.errors, rule: st.rule, thread: st.replayThread };
  const result = { readyMs, warmMs: readyMs - listenMs, ready: ok, firstReadyStatus: first, optimized: st.optimized, hot: st.hot, atReady, ...(await measure(p)) };
  // The deopt watch (60 s after ready) over the measured traffic: hot functions it took the forced code of.
  const after = await getJson(rp, '/status');
  result.deoptimizedAfterReady = (after.deoptimized ?? []).map((d) => `${d.name || '(anonymous)'} ${d.file}:${d.line} ${d.times}x`);
  await stop(child);
  return result;
}

async function runCold() {
  const { child, port, t0 } = await boot({}, false);
  const p = await port;
  const readyMs = sinceMs(t0);
  const result = { readyMs, warmMs: 0, ...(await measure(p)) };
  await stop(child);
  return result;
}

async function runNaive(requests, budgetMs) {
  const { child, port, t0 } = await boot({}, false);
  const p = await port;
  const listenMs = sinceMs(t0);
  const sent = await naiveReplay(p, requests, Date.now() + budgetMs);
  const readyMs = sinceMs(t0);
  const result = { readyMs, warmMs: readyMs - listenMs, sent, ...(await measure(p)) };
  await stop(child);
  return result;
}

async function record(dir) {
  // Seconds here stand for the hours a service records: 1 kHz and every request, so the profile
  // holds what the default 25 samples and 5 requests a second gather over a long recording.
  const { child, port } = await boot(
    { PREHEAT_MODE: 'record', PREHEAT_DIR: dir, PREHEAT_STEADY_AFTER_MS: String(steadyAfterMs), PREHEAT_SAMPLE_INTERVAL_MICROS: '1000', PREHEAT_CAPTURE_PER_SECOND: '0' },
    true,
  );
  const p = await port;
  const t0 = Date.now();
  // Past PREHEAT_STEADY_AFTER_MS, long enough that every path has its latency samples.
  let sent = 0;
  while (sent < (quick ? 2000 : 6000) || Date.now() - t0 < steadyAfterMs * 2 + 1000) {
    await fireLoad({ port: p, paths, count: 500, concurrency: 4, headers: clientHeaders });
    sent += 500;
  }
  await stop(child);
  const requests = recordedRequests(dir);
  const withLatency = requests.filter((r) => r.latencyMs !== undefined).length;
  console.log(`recorded ${sent} requests: ${requests.length} distinct in the profile, ${withLatency} with a steady latency`);
  return requests;
}

/** Naive multiples against their first-100 median ratio: the multiple where naive matches preheat. */
function timeToMatch(naiveByMultiple, target) {
  const points = [[0, Infinity], ...naiveByMultiple].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < points.length; i++) {
    const [k, r] = points[i];
    if (r <= target) {
      const [k0, r0] = points[i - 1];
      if (k0 === 0) return { multiple: k, atMost: true };
      // Linear between the two multiples measured around the crossing.
      return { multiple: round(k0 + ((r0 - target) / (r0 - r)) * (k - k0), 2), atMost: false };
    }
  }
  return { multiple: points[points.length - 1][0], beyond: true };
}

async function main() {
  if (external) externalPort = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-bench-'));
  const requests = await record(dir);
  const names = ['preheat', ...variants.map((v) => `preheat ${v.name}`), 'cold', ...multiples.map((k) => `naive ${k}x`)];
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < runs; r++) {
    // preheat first: its warm-up time is the naive replay's budget in the same round; the rest
    // rotate so no contender always runs right after another.
    const base = await runPreheat(dir);
    results.preheat.push(base);
    const rest = names.slice(1);
    const order = [...rest.slice(r % rest.length), ...rest.slice(0, r % rest.length)];
    for (const name of order) {
      const variant = variants.find((v) => `preheat ${v.name}` === name);
      if (variant) results[name].push(await runPreheat(dir, variant.env));
      else if (name === 'cold') results[name].push(await runCold());
      else results[name].push(await runNaive(requests, Math.max(50, base.warmMs) * Number(name.split(' ')[1].slice(0, -1))));
    }
    console.log(`round ${r + 1}/${runs}: ` + names.map((n) => `${n} ${round(results[n][r].median[100], 2)}`).join(', '));
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const windows = [10, 100, measured];
  const summary = {};
  for (const [k, list] of Object.entries(results)) {
    summary[k] = {
      readyMs: round(median(list.map((x) => x.readyMs)), 0),
      warmMs: round(median(list.map((x) => x.warmMs)), 0),
      median: Object.fromEntries(windows.map((n) => [n, round(median(list.map((x) => x.median[n])), 2)])),
      medianRange: Object.fromEntries(windows.map((n) => [n, [round(Math.min(...list.map((x) => x.median[n])), 2), round(Math.max(...list.map((x) => x.median[n])), 2)]])),
      mean: Object.fromEntries(windows.map((n) => [n, round(median(list.map((x) => x.mean[n])), 2)])),
      steadyMedianMs: round(median(list.map((x) => x.steadyMedianMs))),
      failed: list.reduce((n, x) => n + x.failed, 0),
    };
    if (k.startsWith('preheat')) {
      summary[k].optimizedOfHot = `${median(list.map((x) => x.optimized ?? 0))}/${median(list.map((x) => x.hot ?? 0))}`;
      // Every run's, not a median: a single 200 at first means a run took traffic before warm-up.
      summary[k].firstReadyStatus = [...new Set(list.map((x) => x.firstReadyStatus))].join('/');
    }
  }
  const match = timeToMatch(
    multiples.map((k) => [k, summary[`naive ${k}x`].median[100]]),
    summary.preheat.median[100],
  );
  match.ms = match.beyond ? null : round(match.multiple * summary.preheat.warmMs, 0);
  // Whether the replays (preheat's and the naive one) sent the compression header the measured clients send.
  const replayedEncoding = requests.some((r) => r.headers?.['accept-encoding']);
  const out = { service: serviceName, node: process.version, runs, replayedEncoding, variants, replayConcurrency: REPLAY_CONCURRENCY, measuredRequests: measured, settleRequests: settle, steadyAfterMs, multiples, naiveToMatch: match, summary, results };
  if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify(out, null, 2));
  console.log(`\nwarm-up race on ${serviceName}, Node ${process.version}, ${runs} run(s); window median / steady median (mean / steady mean)`);
  console.log('contender        ready ms  warm ms   first10        first100       first' + measured);
  for (const [k, s] of Object.entries(summary)) {
    const cell = (n) => `${s.median[n]} (${s.mean[n]})`.padEnd(15);
    console.log(`${k.padEnd(16)} ${String(s.readyMs).padStart(8)} ${String(s.warmMs).padStart(8)}   ${cell(10)}${cell(100)}${cell(measured)} steady ${s.steadyMedianMs} ms, failed ${s.failed}${s.optimizedOfHot ? `, optimized ${s.optimizedOfHot}, first /ready ${s.firstReadyStatus}` : ''}`);
  }
  console.log(
    match.beyond
      ? `naive replay did not match preheat's first-100 ratio within ${match.multiple}x its warm-up time`
      : match.atMost
        ? `naive replay matched preheat's first-100 ratio already at ${match.multiple}x its warm-up time`
        : `naive replay needs ${match.multiple}x preheat's warm-up time (${match.ms} ms) to match its first-100 ratio`,
  );
  for (const [name, list] of Object.entries(results)) {
    if (name.startsWith('preheat')) for (const [i, x] of list.entries()) console.log(`${name} run ${i + 1} at ready: ${JSON.stringify({ ready: x.ready, warmMs: round(x.warmMs, 0), ...x.atReady, optimized: x.optimized, hot: x.hot })}`);
    if (name.startsWith('naive')) console.log(`${name} sent per run: ${list.map((x) => x.sent).join(', ')}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
