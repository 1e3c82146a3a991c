#!/usr/bin/env node
'use strict';
// Agent overhead in record mode: CPU time per request of the service process, throughput, p99
// latency and resident memory, with and without the agent, with 95% confidence intervals.
//
// The machine this runs on is shared (2 cores, other benchmarks beside it): throughput and even
// CPU time per request swing by 2x from one second to the next. So:
//  - the primary figure is CPU time per request of the service process, process.cpuUsage() (every
//    thread, V8's profiler thread too) read inside the service through an IPC preload that every
//    arm loads, with or without the agent;
//  - the arms run at the same time, each under its own load (concurrency 8), in batches of one
//    second: a slowdown of the machine falls on all of them alike (--sequential alternates the arms
//    batch by batch instead, ABAB…, which was measured to pair the noise far worse here);
//  - every round starts fresh processes (a process's JIT luck is part of the noise), and gives one
//    paired ratio per arm, agent over agent-less, from the sums of its batches; the intervals are
//    over rounds: the median with a bootstrap interval, the mean with a t-interval;
//  - the profiler thread's own CPU is read apart from /proc (schedstat of the `v8:ProfEvntProc`
//    thread), and with --attribute, `perf record` of an agent process splits the agent's direct
//    cost into its parts (profiler thread, sampling signal on the main thread, code events, the
//    agent's own JavaScript), a share of the same process's samples, insensitive to the noise.
//
// Three moments of recording (`--only` picks some):
//  busiest: the agent with its default rate, a window ending (a rotation and its writes) every 10 s
//           instead of every 60 s: each 10 s measured holds a window's end and its whole write, as
//           the old benchmark's "inside a window" held 10 s of the old window;
//  periods: the agent with its real defaults over whole periods (batches spanning 65 s);
//  boot:    the first minute after boot in `auto` mode (no profile yet), from the first request.
//
// Usage:
//   node scripts/bench/overhead.js [--services docs-shop,catalog] [--runs N] [--quick] [--json FILE]
//        [--node PATH]      the Node that runs the services (default: this one)
//        [--agent PATH]     the agent to preload (default: this checkout's)
//        [--before PATH]    adds an arm with another checkout's agent (its own defaults), e.g. main's
//        [--only busiest,periods,boot] [--attribute]
//        [--samplers native,inspector]   one agent arm per sampler instead of the default one
//        [--control]        adds a second agent-less arm: its ratio to the first is the bench's own
//                           bias and noise (an A/A check), the floor under any agent figure
//   node scripts/bench/overhead.js --default-cycle N [--json FILE]   (N rounds over whole periods only)
//   node scripts/bench/overhead.js --compare NAME:ENV=V,ENV=V [--compare …] [--service S] [--runs N]
//        each arm against the agent-less one, the agent sampling all the time (no window ends):
//        the cost breakdown of docs/overhead.md. AGENT=path in an arm preloads another build, or
//        any preload (a bare V8 profiler, say); AGENT=none makes the arm agent-less.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { servicePaths } = require('../lib/service');

const repo = path.join(__dirname, '..', '..');
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const opts = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const quick = args.includes('--quick');
const nodeBin = path.resolve(opt('--node', process.execPath));
const defaultAgent = path.resolve(opt('--agent', path.join(repo, 'agent', 'index.js')));
const runs = Number(opt('--runs', quick ? 2 : 12));
const services = opt('--services', opt('--service', quick ? 'docs-shop' : 'docs-shop,catalog')).split(',');
const only = new Set(opt('--only', 'busiest,periods,boot').split(','));
const batchMs = Number(opt('--batch-ms', 1000));
const warmMs = Number(opt('--warm-ms', quick ? 5000 : 20_000));
const sequential = args.includes('--sequential');

// ---------------------------------------------------------------------------------------------
// Statistics.

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const mean = (xs) => sum(xs) / xs.length;
function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
}
const median = (xs) => quantile(xs, 0.5);
// Student's t, two-sided 95%, by degrees of freedom (1–30; above, 1.96 is close enough).
const T95 = [NaN, 12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
function tInterval(xs) {
  const n = xs.length;
  if (n < 2) return [NaN, NaN];
  const m = mean(xs);
  const sd = Math.sqrt(sum(xs.map((x) => (x - m) ** 2)) / (n - 1));
  const h = (n - 1 < T95.length ? T95[n - 1] : 1.96) * (sd / Math.sqrt(n));
  return [m - h, m + h];
}
/** Percentile bootstrap interval of a statistic; a fixed seed, so a rerun on the same data agrees. */
function bootstrap(xs, stat, reps = 5000) {
  if (xs.length < 2) return [NaN, NaN];
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out = [];
  for (let r = 0; r < reps; r++) out.push(stat(xs.map(() => xs[Math.floor(rnd() * xs.length)])));
  return [quantile(out, 0.025), quantile(out, 0.975)];
}
const r4 = (x) => (Number.isFinite(x) ? +x.toFixed(4) : null);
/** Paired values: median with its bootstrap interval, mean with its t-interval, range, n. */
function summarize(xs) {
  return {
    n: xs.length,
    median: r4(median(xs)),
    medianCi: bootstrap(xs, median).map(r4),
    mean: r4(mean(xs)),
    meanCi: tInterval(xs).map(r4),
    range: [Math.min(...xs), Math.max(...xs)].map(r4),
  };
}
const fmt = (s) => `${s.median} [${s.medianCi.join('–')}] (mean ${s.mean} [${s.meanCi.join('–')}], n ${s.n})`;

// ---------------------------------------------------------------------------------------------
// Services under measurement.

/** Loaded before the app in every process, with or without the agent: answers CPU and RSS over IPC. */
const STATS_PRELOAD = `'use strict';
process.on('message', (m) => {
  if (!m || m.type !== 'preheat-bench-stats') return;
  const c = process.cpuUsage();
  process.send({ id: m.id, cpuMicros: c.user + c.system, rss: process.memoryUsage.rss() });
});
process.channel && process.channel.unref();
`;
let statsPreload = null;
let scratch = null;

function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PREHEAT_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ...extra };
}

/** CPU time (ns) of the process's threads named like V8's profiler thread, from /proc. */
function profilerThreadNanos(pid) {
  let total = 0;
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        if (!fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith('v8:Prof')) continue;
        total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    return NaN;
  }
  return total;
}

/**
 * Starts `service` under `nodeBin`, with the stats preload and, for an agent arm, the agent
 * (record mode unless the arm says otherwise, a PREHEAT_DIR of its own). Resolves once it listens.
 */
async function startService(service, arm, nodeArgs = []) {
  const script = path.join(repo, 'fixtures', 'services', service, 'server.js');
  const preloads = [...nodeArgs, '--require', statsPreload];
  const env = { PORT: '0' };
  if (arm.agent) {
    preloads.push('--require', arm.agentPath ?? defaultAgent);
    const dir = fs.mkdtempSync(path.join(scratch, 'dir-'));
    Object.assign(env, { PREHEAT_MODE: 'record', PREHEAT_DIR: dir }, arm.env);
  }
  const child = spawn(nodeBin, [...preloads, script], { cwd: path.dirname(script), env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const pending = new Map();
  let nextId = 0;
  child.on('message', (m) => {
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (c) => reject(new Error(`${service} exited with ${c} before listening:\n${stderr}`)));
  });
  child.stdout.resume();
  const proc = {
    arm,
    child,
    port,
    stderr: () => stderr,
    stats: () =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        child.send({ type: 'preheat-bench-stats', id });
      }).then((m) => ({ ...m, profilerNanos: profilerThreadNanos(child.pid) })),
    stop: () => {
      proc.http?.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.on('exit', resolve);
        child.kill('SIGTERM');
      });
    },
  };
  return proc;
}

/**
 * Load on one service until `until` (a Date.now() time): `concurrency` keep-alive connections,
 * each sending its next request as soon as the last one is answered. The paths go on where the
 * last batch stopped, so every batch sees the same mix.
 */
async function loadUntil(proc, paths, until, concurrency = 8) {
  proc.http ??= new http.Agent({ keepAlive: true, maxSockets: concurrency });
  proc.next ??= 0;
  const latenciesMs = [];
  let failed = 0;
  const one = (p) =>
    new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const done = (ok) => {
        latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (!ok) failed++;
        resolve();
      };
      const req = http.get({ host: '127.0.0.1', port: proc.port, path: p, agent: proc.http, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode < 500));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => done(false));
    });
  const worker = async () => {
    while (Date.now() < until) await one(paths[proc.next++ % paths.length]);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latenciesMs, failed };
}

/** One batch of `ms` on each of `procs`: at once (the default), or one after another. */
async function measureBatch(procs, paths, ms) {
  const one = async (p) => {
    const s0 = await p.stats();
    const t0 = process.hrtime.bigint();
    const load = await loadUntil(p, paths, Date.now() + ms);
    return { s0, load, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  };
  let runsOf;
  if (sequential) {
    runsOf = [];
    for (const p of procs) runsOf.push(await one(p));
  } else {
    const s0 = await Promise.all(procs.map((p) => p.stats()));
    const t0 = process.hrtime.bigint();
    const until = Date.now() + ms;
    const loads = await Promise.all(procs.map((p) => loadUntil(p, paths, until)));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    runsOf = procs.map((_, i) => ({ s0: s0[i], load: loads[i], seconds }));
  }
  const s1 = await Promise.all(procs.map((p) => p.stats()));
  return procs.map((_, i) => {
    const { s0, load, seconds } = runsOf[i];
    return {
      requests: load.latenciesMs.length,
      seconds,
      cpuMicros: s1[i].cpuMicros - s0.cpuMicros,
      profilerMicros: (s1[i].profilerNanos - s0.profilerNanos) / 1000,
      p99: quantile(load.latenciesMs, 0.99),
      failed: load.failed,
      rss: s1[i].rss,
    };
  });
}

/** Per-arm figures of one round, from the sums of its batches. */
function roundFigures(batches) {
  const requests = sum(batches.map((b) => b.requests));
  return {
    cpuMicrosPerRequest: sum(batches.map((b) => b.cpuMicros)) / requests,
    // A profiler thread that ended (a sampler stopped) takes its CPU with it: no figure then.
    profilerMicrosPerRequest: batches.some((b) => !(b.profilerMicros >= 0)) ? NaN : sum(batches.map((b) => b.profilerMicros)) / requests,
    rps: requests / sum(batches.map((b) => b.seconds)),
    p99: median(batches.map((b) => b.p99)),
    failed: sum(batches.map((b) => b.failed)),
    rss: batches.at(-1).rss,
  };
}

/**
 * Rounds of batches. Each round starts one fresh process per arm (the first arm is the agent-less
 * one); unless `fromBoot`, warms them together for `warmMs`; then measures `batches` batches of
 * `batchMs`. With `fromBoot` the arms start together and the first batch starts as soon as all
 * listen: the first minute of a process's life.
 */
async function rounds({ service, arms, n, batches, fromBoot = false, label }) {
  const paths = servicePaths(service);
  const perRound = [];
  for (let r = 0; r < n; r++) {
    // The order the arms start in alternates, so neither always boots on a quieter machine.
    const order = arms.map((_, i) => (i + r) % arms.length);
    const started = await Promise.all(order.map((i) => startService(service, arms[i])));
    const procs = arms.map((_, i) => started[order.indexOf(i)]);
    try {
      // From boot, the CPU a process used before it listened: its start-up and the agent's.
      const boot = fromBoot ? await Promise.all(procs.map((p) => p.stats())) : null;
      if (!fromBoot) await Promise.all(procs.map((p) => loadUntil(p, paths, Date.now() + warmMs)));
      const got = procs.map(() => []);
      for (let b = 0; b < batches; b++) {
        // Sequential batches rotate which arm goes first.
        const turn = sequential ? procs.map((_, k) => procs[(k + b + r) % procs.length]) : procs;
        const res = await measureBatch(turn, paths, batchMs);
        turn.forEach((p, k) => got[procs.indexOf(p)].push(res[k]));
      }
      perRound.push(Object.fromEntries(arms.map((a, i) => [a.name, { ...roundFigures(got[i]), bootCpuMs: boot ? boot[i].cpuMicros / 1000 : undefined }])));
    } finally {
      for (const p of procs) {
        const said = p.stderr().trim();
        if (/preheat:/.test(said)) console.error(`\n  ${p.arm.name}: ${said.split('\n').slice(-3).join(' | ')}`);
        await p.stop();
      }
    }
    if (label) process.stdout.write(`\r  ${label}: round ${r + 1}/${n}   `);
  }
  if (label) process.stdout.write('\n');
  return compareArms(arms, perRound);
}

/** Each agent arm against the first (agent-less) arm: paired ratios per round, and absolute medians. */
function compareArms(arms, perRound) {
  const bare = arms[0].name;
  const out = { rounds: perRound.length, batchMs, arms: {} };
  for (const arm of arms) {
    const col = perRound.map((r) => r[arm.name]);
    const entry = {
      cpuMicrosPerRequest: r4(median(col.map((c) => c.cpuMicrosPerRequest))),
      profilerMicrosPerRequest: r4(median(col.map((c) => c.profilerMicrosPerRequest).filter(Number.isFinite))),
      // The profiler thread's CPU per second of the run: what the rate costs, whatever the load.
      profilerMsPerSecond: r4(median(col.map((c) => (c.profilerMicrosPerRequest * c.rps) / 1000).filter(Number.isFinite))),
      rps: Math.round(median(col.map((c) => c.rps))),
      p99Ms: r4(median(col.map((c) => c.p99))),
      rssMb: r4(median(col.map((c) => c.rss / 2 ** 20))),
      failed: sum(col.map((c) => c.failed)),
    };
    if (col[0].bootCpuMs !== undefined) entry.bootCpuMs = r4(median(col.map((c) => c.bootCpuMs)));
    if (arm.name !== bare) {
      entry.cpuPerRequestRatio = summarize(perRound.map((r) => r[arm.name].cpuMicrosPerRequest / r[bare].cpuMicrosPerRequest));
      entry.throughputRatio = summarize(perRound.map((r) => r[arm.name].rps / r[bare].rps));
      entry.p99Ratio = summarize(perRound.map((r) => r[arm.name].p99 / r[bare].p99));
      entry.rssDeltaMb = summarize(perRound.map((r) => (r[arm.name].rss - r[bare].rss) / 2 ** 20));
    }
    out.arms[arm.name] = entry;
  }
  return out;
}

function printArms(title, result) {
  console.log(title);
  for (const [name, a] of Object.entries(result.arms)) {
    const head = `  ${name}: ${a.bootCpuMs !== undefined ? `boot ${a.bootCpuMs} ms CPU, ` : ''}${a.cpuMicrosPerRequest} µs CPU/request (profiler thread ${a.profilerMicrosPerRequest} µs/request, ${a.profilerMsPerSecond} ms/s), ${a.rps} req/s, p99 ${a.p99Ms} ms, RSS ${a.rssMb} MB`;
    console.log(
      a.cpuPerRequestRatio
        ? `${head}\n    CPU/request ratio ${fmt(a.cpuPerRequestRatio)}\n    throughput ratio ${fmt(a.throughputRatio)}\n    p99 ratio ${fmt(a.p99Ratio)}\n    RSS +${a.rssDeltaMb.median} MB [${a.rssDeltaMb.medianCi.join('–')}]`
        : head,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Attribution: perf samples of one agent process, split by what they were doing.

const AGENT_DIST = path.join(repo, 'dist', 'src') + path.sep;

/** The category of one perf sample: its thread's name and its frames (innermost first). */
function classify(comm, frames, agentDirs) {
  if (comm.startsWith('v8:ProfEvntProc')) return 'profiler thread';
  if (frames.some((x) => /HandleProfilerSignal|arch_do_signal_or_restart|__restore_rt|sys_rt_sigreturn|restore_sigcontext|get_signal|handle_signal/.test(x))) return 'sampling signal (main thread)';
  if (frames.some((x) => /ProfilerListener::|ProfilerCodeObserver|CodeEventDispatcher|LogCompiledFunctions|ExistingCodeLogger|LogCodeObjects/.test(x))) return 'code events for the profiler';
  if (frames.some((x) => /V8ProfilerAgentImpl|CpuProfiler::StartProfiling|CpuProfiler::StopProfiling|CpuProfileJSON|nodex::Profile/.test(x))) return 'profile start, stop, serialize';
  const own = frames.find((x) => agentDirs.some((d) => x.includes(d)));
  if (own) return `agent JavaScript: ${/dist\/src\/([^/]+)/.exec(own)?.[1] ?? '?'}`;
  return 'app';
}

/** Runs `perf script` on a recording and counts samples per category. */
function attributeRecording(data, agentDirs) {
  return new Promise((resolve, reject) => {
    const ps = spawn('perf', ['script', '-i', data, '-F', 'comm,tid,ip,sym'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const counts = {};
    let total = 0;
    let cur = null;
    const flush = () => {
      if (!cur) return;
      const c = classify(cur.comm, cur.frames, agentDirs);
      counts[c] = (counts[c] ?? 0) + 1;
      total++;
      cur = null;
    };
    let rest = '';
    ps.stdout.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop();
      for (const l of lines) {
        if (!l.trim()) flush();
        else if (!l.startsWith('\t')) {
          flush();
          cur = { comm: /^\s*(.+?)\s+\d+\s*$/.exec(l)?.[1] ?? l.trim(), frames: [] };
        } else cur?.frames.push(l.trim());
      }
    });
    ps.on('error', reject);
    ps.on('exit', () => {
      flush();
      const percent = {};
      for (const [k, v] of Object.entries(counts).sort((a, b) => b[1] - a[1])) percent[k] = +((100 * v) / total).toFixed(3);
      resolve({ samples: total, percent });
    });
  });
}

/** One agent process under load, `perf record` of it for `seconds` after warming. */
async function attribute(service, arm, seconds) {
  // --perf-basic-prof names JIT code for perf, so the agent's own JavaScript can be told apart;
  // its V8 log goes to the scratch directory.
  const proc = await startService(service, arm, ['--perf-basic-prof', `--logfile=${path.join(scratch, 'v8.log')}`, '--no-logfile-per-isolate']);
  const paths = servicePaths(service);
  try {
    await loadUntil(proc, paths, Date.now() + warmMs);
    const data = path.join(scratch, 'perf.data');
    const s0 = await proc.stats();
    const t0 = Date.now();
    const loading = loadUntil(proc, paths, Date.now() + seconds * 1000 + 500);
    const ok = await new Promise((resolve) => {
      const perf = spawn('perf', ['record', '-q', '-F', '997', '-g', '-p', String(proc.child.pid), '-o', data, '--', 'sleep', String(seconds)], { stdio: 'ignore' });
      perf.on('error', () => resolve(false));
      perf.on('exit', (code) => resolve(code === 0));
    });
    const load = await loading;
    const s1 = await proc.stats();
    if (!ok) return null;
    const wall = (Date.now() - t0) / 1000;
    const cpuMsPerSecond = (s1.cpuMicros - s0.cpuMicros) / 1000 / wall;
    const agentDirs = [AGENT_DIST, path.join(path.dirname(path.dirname(arm.agentPath ?? defaultAgent)), 'dist', 'src') + path.sep];
    const a = await attributeRecording(data, agentDirs);
    fs.rmSync(data, { force: true });
    const agentPercent = sum(Object.entries(a.percent).filter(([k]) => k !== 'app').map(([, v]) => v));
    return {
      seconds,
      samples: a.samples,
      rps: Math.round(load.latenciesMs.length / wall),
      cpuMsPerSecond: r4(cpuMsPerSecond),
      agentPercent: r4(agentPercent),
      agentMsPerSecond: r4((agentPercent / 100) * cpuMsPerSecond),
      percent: a.percent,
    };
  } finally {
    await proc.stop();
  }
}

// ---------------------------------------------------------------------------------------------

const BARE = { name: 'without agent', agent: false, env: {} };
/** --control: the same agent-less service again. A ratio away from 1 here is the bench, not the agent. */
const CONTROL = { name: 'control (no agent)', agent: false, env: {} };
const controlArms = () => (args.includes('--control') ? [CONTROL] : []);

function parseArm(spec) {
  const [name, rest = ''] = spec.split(/:(.*)/s);
  const env = {};
  let agentPath;
  for (const kv of rest.split(',').filter(Boolean)) {
    const [k, v] = kv.split(/=(.*)/s);
    if (k === 'AGENT') agentPath = v === 'none' ? null : path.resolve(v);
    else env[k] = v;
  }
  // AGENT=none: an agent-less arm anywhere in the order (a control placed last checks that an
  // arm's place in the list, which sets the order its load starts in, biases nothing).
  if (agentPath === null) return { name, agent: false, env: {} };
  return { name, agent: true, env, agentPath };
}

/**
 * The agent arms of the standard run: this checkout's defaults, and --before's when given (not
 * over whole periods: its period may be longer than the 65 s measured; --default-cycle with
 * --agent measures another checkout's whole periods).
 */
function agentArms(env = {}, before = true) {
  // --samplers native,inspector: one agent arm per sampler, loaded at the same time as the others
  // (a plain `npm i preheat` without allowScripts, and Node 26, get the inspector).
  const samplers = opt('--samplers');
  const arms = samplers
    ? samplers.split(',').map((s) => ({ name: s, agent: true, env: { PREHEAT_SAMPLER: s, ...env } }))
    : [{ name: 'with agent', agent: true, env }];
  if (before && opt('--before')) arms.push({ name: 'before', agent: true, env, agentPath: path.resolve(opt('--before')) });
  return [...controlArms(), ...arms];
}

async function compare() {
  const arms = [BARE, ...controlArms(), ...opts('--compare').map(parseArm)];
  // No window ends while measuring: the cost of sampling itself.
  for (const a of arms.filter((x) => x.agent)) a.env = { PREHEAT_WINDOW_MS: '3600000', PREHEAT_PERIOD_MS: '3600000', ...a.env };
  const batches = Number(opt('--batches', quick ? 4 : 16));
  const out = { mode: 'compare', node: nodeVersion(), results: {} };
  for (const service of services) {
    const res = await rounds({ service, arms, n: runs, batches, label: service });
    out.results[service] = res;
    printArms(`${service} (${runs} rounds × ${batches} batches of ${batchMs} ms)`, res);
    if (args.includes('--attribute')) {
      res.attribution = {};
      for (const arm of arms.filter((x) => x.agent)) {
        res.attribution[arm.name] = await attribute(service, arm, quick ? 5 : 20);
        console.log(`  ${arm.name}: ${JSON.stringify(res.attribution[arm.name])}`);
      }
    }
  }
  return out;
}

function nodeVersion() {
  return require('node:child_process').execFileSync(nodeBin, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
}

async function standard() {
  const out = { node: nodeVersion(), runs, batchMs, warmMs, services: {} };
  for (const service of services) {
    const res = {};
    if (only.has('busiest')) {
      // A window end every 10 s: a rotation (or, for --before, a stop and a start) and its writes.
      const windowMs = Number(opt('--busiest-window-ms', 10_000));
      const arms = [BARE, ...agentArms({ PREHEAT_WINDOW_MS: String(windowMs), PREHEAT_PERIOD_MS: String(windowMs) })];
      res.busiest = await rounds({ service, arms, n: runs, batches: quick ? 4 : Math.round((2 * windowMs) / batchMs), label: `${service}, busiest moment` });
      res.busiest.windowMs = windowMs;
      printArms(`${service}: busiest moment (a window ends every ${windowMs} ms)`, res.busiest);
    }
    if (only.has('periods')) {
      // Whole default periods: 65 one-second batches span the 60 s period once, with its rotation.
      const n = Math.max(2, Math.round(runs / 3));
      res.periods = await rounds({ service, arms: [BARE, ...agentArms({}, false)], n, batches: quick ? 8 : 65, label: `${service}, whole periods` });
      printArms(`${service}: whole periods (real defaults, ${quick ? 8 : 65} s per round)`, res.periods);
    }
    if (only.has('boot')) {
      // The first minute in auto mode, with no profile to warm from yet (a first deploy).
      const n = Math.max(2, Math.round(runs / 2));
      res.boot = await rounds({ service, arms: [BARE, ...agentArms({ PREHEAT_MODE: 'auto' })], n, batches: quick ? 8 : 60, fromBoot: true, label: `${service}, first minute` });
      printArms(`${service}: first minute after boot, auto mode`, res.boot);
    }
    if (args.includes('--attribute')) {
      res.attribution = await attribute(service, { name: 'with agent', agent: true, env: {} }, quick ? 5 : 20);
      console.log(`${service}: direct cost by perf: ${JSON.stringify(res.attribution)}`);
    }
    out.services[service] = res;
  }
  return out;
}

async function defaultCycle() {
  const n = Number(opt('--default-cycle', 2));
  const out = { mode: 'default-cycle', node: nodeVersion(), services: {} };
  for (const service of services) {
    // Whole periods of the agent's own defaults, however long they are: 125 one-second batches.
    const res = await rounds({ service, arms: [BARE, ...agentArms()], n, batches: Number(opt('--batches', 125)), label: `${service}, default cycle` });
    printArms(`${service}: whole default periods`, res);
    out.services[service] = { periods: res };
  }
  return out;
}

async function main() {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-overhead-'));
  statsPreload = path.join(scratch, 'stats-preload.js');
  fs.writeFileSync(statsPreload, STATS_PRELOAD);
  try {
    const out = args.includes('--compare') ? await compare() : args.includes('--default-cycle') ? await defaultCycle() : await standard();
    if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify(out, null, 2));
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
