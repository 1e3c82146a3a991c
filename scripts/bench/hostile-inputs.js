#!/usr/bin/env node
'use strict';
// Hostile inputs to `preheat report`: each shape built here, then the CLI run on it in a child
// process; prints wall time, the child's peak RSS and how it ended. Numbers, never assertions:
// the tests (test/profile/hostile-inputs.test.ts) check what the report says, not how fast.
// Usage: node scripts/bench/hostile-inputs.js [--only NAME] [--timeout SECONDS] [--json FILE]
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { Function: PFunction, Location, Profile, Sample, StringTable, ValueType } = require('pprof-format');

const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const only = opt('--only');
const timeoutSeconds = Number(opt('--timeout', '180'));
const repo = path.join(__dirname, '..', '..');
const cli = path.join(repo, 'bin', 'preheat.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-hostile-'));

const frame = (functionName, url = 'file:///srv/app/a.js', lineNumber = 0) => ({ functionName, scriptId: '1', url, lineNumber, columnNumber: 0 });
const root = (children) => ({ id: 1, callFrame: frame('(root)', '', -1), children });

function wideCpuprofile(file, n) {
  const nodes = [root([2]), { id: 2, callFrame: frame('parent'), children: [] }];
  const samples = [];
  for (let i = 0; i < n; i++) {
    const id = i + 3;
    nodes[1].children.push(id);
    nodes.push({ id, callFrame: frame(`child${i}`, 'file:///srv/app/a.js', i), hitCount: 1, children: [] });
    samples.push(id);
  }
  fs.writeFileSync(file, JSON.stringify({ nodes, startTime: 0, endTime: samples.length * 1000, samples, timeDeltas: samples.map(() => 1000) }));
}

function deepCpuprofile(file, depth) {
  const nodes = [root([2])];
  for (let i = 0; i < depth; i++) {
    const id = i + 2;
    nodes.push({ id, callFrame: frame(`f${i}`, 'file:///srv/app/deep.js', i), hitCount: i === depth - 1 ? 7 : 0, children: i === depth - 1 ? [] : [id + 1] });
  }
  fs.writeFileSync(file, JSON.stringify({ nodes, startTime: 0, endTime: 7000 }));
}

function pprofOf(stacks, gzip = true) {
  // stacks: [leaf-first function indexes, count][]
  const strings = new StringTable();
  const functions = [];
  const locations = [];
  const seen = new Set();
  const sample = stacks.map(([ids, count]) => {
    for (const i of ids) {
      if (seen.has(i)) continue;
      seen.add(i);
      functions.push(new PFunction({ id: i + 1, name: strings.dedup(`f${i}`), filename: strings.dedup('/srv/app/p.js'), startLine: i + 1 }));
      locations.push(new Location({ id: i + 1, line: [{ functionId: i + 1, line: i + 1 }] }));
    }
    return new Sample({ locationId: ids.map((i) => i + 1), value: [count, count * 1_000_000] });
  });
  const p = new Profile({
    sampleType: [new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }), new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') })],
    sample,
    location: locations,
    function: functions,
    stringTable: strings,
    durationNanos: 1_000_000_000,
  });
  const raw = p.encode();
  return gzip ? zlib.gzipSync(raw) : Buffer.from(raw);
}

function deepPprof(file, depth) {
  const leafFirst = Array.from({ length: depth }, (_, i) => depth - 1 - i);
  fs.writeFileSync(file, pprofOf([[leafFirst, 7]]));
}

function widePprof(file, n) {
  // One caller (function 0) with n distinct callees.
  fs.writeFileSync(file, pprofOf(Array.from({ length: n }, (_, i) => [[i + 1, 0], 1])));
}

/** A .pb.gz of gzip members of zeros, `gib` GiB once inflated: a few MB on disk. */
function gzipBomb(file, gib) {
  const member = zlib.gzipSync(Buffer.alloc(16 << 20), { level: 9 });
  const fd = fs.openSync(file, 'w');
  for (let i = 0; i < gib * 64; i++) fs.writeSync(fd, member);
  fs.closeSync(fd);
}

function fifoDir(dir) {
  fs.mkdirSync(dir);
  wideCpuprofile(path.join(dir, 'good.cpuprofile'), 10);
  const r = require('node:child_process').spawnSync('mkfifo', [path.join(dir, 'stuck.cpuprofile')]);
  if (r.status !== 0) throw new Error('mkfifo failed');
}

function negativeCounts(file) {
  fs.writeFileSync(file, JSON.stringify({ nodes: [root([2]), { id: 2, callFrame: frame('neg'), hitCount: -5, children: [] }], startTime: 0, endTime: 1000 }));
}

const shapes = [
  ['wide-cpuprofile-100k-children', (f) => wideCpuprofile(f, 100_000), 'x.cpuprofile'],
  ['deep-cpuprofile-200k-frames', (f) => deepCpuprofile(f, 200_000), 'x.cpuprofile'],
  ['wide-pprof-100k-children', (f) => widePprof(f, 100_000), 'x.pb.gz'],
  ['deep-pprof-200k-frames', (f) => deepPprof(f, 200_000), 'x.pb.gz'],
  ['gzip-bomb-2gib', (f) => gzipBomb(f, 2), 'x.pb.gz'],
  ['fifo-in-directory', fifoDir, 'dir'],
  ['negative-hitcount', negativeCounts, 'x.cpuprofile'],
];

/** Runs the CLI under a wrapper that prints its peak RSS on exit; kills it after the timeout. */
function runCli(input, out) {
  const wrapper = `process.on('exit', () => process.stderr.write('\\nmaxrss ' + process.resourceUsage().maxRSS + '\\n'));
    require(${JSON.stringify(cli)});`;
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['-e', wrapper, 'x', 'report', input, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => (stderr += d));
    // VmHWM from /proc as well: a child killed at the timeout prints nothing.
    let hwm = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch {
        // ended
      }
    }, 200);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const rss = /maxrss (\d+)/.exec(stderr);
      const message = stderr.split('\n').find((l) => l.startsWith('preheat:')) ?? (stderr.includes('RangeError') ? 'RangeError' : '');
      resolve({ ms: Math.round(ms), peakRssMiB: Math.round(Math.max(rss ? Number(rss[1]) : 0, hwm) / 1024), code, signal, killed, message: message.slice(0, 160) });
    });
  });
}

(async () => {
  const results = {};
  for (const [name, make, file] of shapes) {
    if (only && !name.includes(only)) continue;
    const input = path.join(tmp, `${name}-${file}`);
    make(input);
    const r = await runCli(input, path.join(tmp, `${name}-out`));
    results[name] = r;
    const ended = r.killed ? `killed after ${timeoutSeconds} s` : `exit ${r.code ?? r.signal}`;
    console.log(`${name.padEnd(32)} ${String(r.ms).padStart(7)} ms  peak RSS ${String(r.peakRssMiB ?? '?').padStart(5)} MiB  ${ended}  ${r.message}`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  if (opt('--json')) fs.writeFileSync(opt('--json'), JSON.stringify({ node: process.version, results }, null, 2));
})();
