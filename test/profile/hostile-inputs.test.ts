import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Function as PFunction, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { PreheatError } from '../../src/errors';
import { fromPprof } from '../../src/profile/from-pprof';
import { loadInputs } from '../../src/profile/load-inputs';
import { writeReport } from '../../src/report/write-report';
import { cleanEnv, cli, tempDir } from '../helpers/run';

// Shapes sized so that the quadratic or recursive code this replaced would run past ava's
// two-minute timeout (or run out of heap): no test here measures time. Each big shape is a test
// of its own, since ava's timer restarts when a test ends.
// scripts/bench/hostile-inputs.js prints the speed and memory of each shape.

const frame = (functionName: string, url = 'file:///srv/app/a.js', lineNumber = 0) => ({ functionName, scriptId: '1', url, lineNumber, columnNumber: 0 });
const rootNode = (children: number[]) => ({ id: 1, callFrame: frame('(root)', '', -1), children });

// Sizes far past any recursion limit (a recursive walk overflows near 10 000 frames); CI sets
// PREHEAT_TEST_LONG=1 for the sizes of the original reports, which take a minute each on 2 cores.
const long = process.env.PREHEAT_TEST_LONG === '1';
const WIDE = long ? 300_000 : 100_000;
const DEEP = long ? 200_000 : 60_000;
const SYNC_DEEP = long ? 150_000 : 50_000;
const spaced = (n: number) => n.toLocaleString('en').replace(/,/g, ' ');

function writeJson(file: string, value: unknown): string {
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

/** root → parent → `n` children child0..child{n-1}, one sample each but 5 on the last. */
function wideProfile(n: number) {
  const parent = { id: 2, callFrame: frame('parent'), children: [] as number[] };
  const nodes: unknown[] = [rootNode([2]), parent];
  for (let i = 0; i < n; i++) {
    parent.children.push(i + 3);
    nodes.push({ id: i + 3, callFrame: frame(`child${i}`, 'file:///srv/app/a.js', i), hitCount: i === n - 1 ? 5 : 1, children: [] });
  }
  return { nodes, startTime: 0, endTime: n * 1000 };
}

/** A chain `depth` calls deep, f0 at the top; `leafSamples` on the last, `eachSamples` on every other. */
function deepProfile(depth: number, leafSamples: number, eachSamples = 0, name = (i: number) => `f${i}`, url = 'file:///srv/app/deep.js') {
  const nodes: unknown[] = [rootNode([2])];
  for (let i = 0; i < depth; i++) {
    const last = i === depth - 1;
    nodes.push({ id: i + 2, callFrame: frame(name(i), url, i), hitCount: last ? leafSamples : eachSamples, children: last ? [] : [i + 3] });
  }
  return { nodes, startTime: 0, endTime: 1000 };
}

/** A pprof profile (not gzipped) of one stack of `depth` functions, f0 outermost. */
function deepPprof(depth: number, count: number): Buffer {
  const strings = new StringTable();
  const functions: PFunction[] = [];
  const locations: Location[] = [];
  for (let i = 0; i < depth; i++) {
    functions.push(new PFunction({ id: i + 1, name: strings.dedup(`f${i}`), filename: strings.dedup('/srv/app/p.js'), startLine: i + 1 }));
    locations.push(new Location({ id: i + 1, line: [{ functionId: i + 1, line: i + 1 }] }));
  }
  const leafFirst = Array.from({ length: depth }, (_, i) => depth - i);
  const p = new Profile({
    sampleType: [new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') })],
    sample: [new Sample({ locationId: leafFirst, value: [count] })],
    location: locations,
    function: functions,
    stringTable: strings,
  });
  return Buffer.from(p.encode());
}

function report(inputs: string[]) {
  const out = path.join(tempDir(), 'report');
  const { model } = loadInputs(inputs);
  const r = writeReport(model, { out, title: 'hostile' });
  return { model, report: r, folded: fs.readFileSync(r.files.folded, 'utf8') };
}

test(`a node with ${spaced(WIDE)} children, merged into another file of its directory, reports every child with its count`, (t) => {
  const dir = tempDir();
  // a.cpuprofile is read first; b's children are then merged into a's one.
  writeJson(path.join(dir, 'a.cpuprofile'), wideProfile(1));
  writeJson(path.join(dir, 'b.cpuprofile'), wideProfile(WIDE));
  const { model, report: r, folded } = report([dir]);
  t.is(model.totalSamples, 5 + (WIDE - 1 + 5));
  const lines = folded.trimEnd().split('\n');
  t.is(lines.length, WIDE);
  t.true(lines.includes(`parent /srv/app/a.js:1;child${WIDE - 1} /srv/app/a.js:${WIDE} 5`));
  t.true(lines.includes('parent /srv/app/a.js:1;child0 /srv/app/a.js:1 6'));
  t.true(lines.includes('parent /srv/app/a.js:1;child1 /srv/app/a.js:2 1'));
  t.deepEqual(
    r.top.slice(0, 2).map((f) => f.name),
    ['child0', `child${WIDE - 1}`],
  );
});

test(`a ${spaced(DEEP)}-deep .cpuprofile stack reports its deepest frame with the right count, in folded stacks and pprof`, (t) => {
  const dir = tempDir();
  // Counted from `samples`, with a negative time delta as V8 writes for ticks out of order.
  const deep = { ...deepProfile(DEEP, 0), samples: Array(7).fill(DEEP + 1), timeDeltas: [100, -20, 150, 100, 100, 100, 100] };
  const { report: r, folded } = report([writeJson(path.join(dir, 'deep.cpuprofile'), deep)]);
  const line = folded.trimEnd();
  t.false(line.includes('\n'));
  t.true(line.startsWith('f0 /srv/app/deep.js:1;f1 /srv/app/deep.js:2;'));
  t.true(line.endsWith(`;f${DEEP - 1} /srv/app/deep.js:${DEEP} 7`));
  t.is(line.split(';').length, DEEP);
  t.is(r.top[0]!.name, `f${DEEP - 1}`);
  t.is(r.top[0]!.self, 1);
  // profile.pb.gz holds the whole stack too.
  const back = fromPprof(fs.readFileSync(r.files.pprof));
  t.is(back.nodes.length, DEEP + 1);
  t.is(back.frames[back.nodes[DEEP]!.frame]!.name, `f${DEEP - 1}`);
  t.is(back.nodes[DEEP]!.self, 7);
});

test(`a ${spaced(DEEP)}-deep pprof stack reports its deepest frame with the right count`, (t) => {
  const pprof = path.join(tempDir(), 'deep.pb');
  fs.writeFileSync(pprof, deepPprof(DEEP, 9));
  const fromPb = report([pprof]);
  t.true(fromPb.folded.trimEnd().endsWith(`;f${DEEP - 1} /srv/app/p.js:${DEEP} 9`));
  t.is(fromPb.report.top[0]!.name, `f${DEEP - 1}`);
});

test(`a ${spaced(SYNC_DEEP)}-deep chain of sync calls under an app function is one sync-io finding`, (t) => {
  const dir = tempDir();
  const profile = deepProfile(SYNC_DEEP + 1, 40, 0, (i) => (i === 0 ? 'handler' : 'readFileSync'), 'node:fs');
  (profile.nodes[1] as { callFrame: ReturnType<typeof frame> }).callFrame = frame('handler', 'file:///srv/app/h.js', 0);
  const { report: r } = report([writeJson(path.join(dir, 'sync.cpuprofile'), profile)]);
  t.deepEqual(
    r.findings.map((f) => [f.kind, f.function, f.share]),
    [['sync-io', 'handler', 1]],
  );
});

test('a deep chain sampled at every frame is refused before anything is written: its stacks would not fit', (t) => {
  const dir = tempDir();
  const file = writeJson(path.join(dir, 'every.cpuprofile'), deepProfile(100_000, 1, 1));
  const out = path.join(dir, 'out');
  const { model } = loadInputs([file]);
  const error = t.throws(() => writeReport(model, { out, title: 'x' }), { instanceOf: PreheatError });
  t.regex(error!.message, /stacks\.folded would hold \d+ MiB \(deepest stack 100000 frames\), and preheat writes at most 64 MiB/);
  t.false(fs.existsSync(out));
});

/** Runs the CLI in a child that prints its peak RSS (KiB) on stdout at exit; killed after `killAfterMs`. */
function cliWithRss(args: string[], killAfterMs: number): Promise<{ code: number | null; killed: boolean; stderr: string; stdout: string; maxRssKiB: number }> {
  const wrapper = `process.on('exit', () => process.stdout.write('\\nmaxrss ' + process.resourceUsage().maxRSS + '\\n')); require(${JSON.stringify(cli)});`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', wrapper, 'preheat', ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, killed, stderr, stdout, maxRssKiB: Number(/maxrss (\d+)/.exec(stdout)?.[1] ?? NaN) });
    });
  });
}

test('a gzip bomb (2 GiB of zeros in 2 MB) is one clear error, and the reporter stays small', async (t) => {
  const dir = tempDir();
  const bomb = path.join(dir, 'bomb.pb.gz');
  const member = zlib.gzipSync(Buffer.alloc(16 << 20), { level: 9 });
  fs.writeFileSync(bomb, Buffer.concat(Array.from({ length: 128 }, () => member)));
  const r = await cliWithRss(['report', bomb, '--out', path.join(dir, 'out')], 100_000);
  t.false(r.killed);
  t.is(r.code, 1);
  t.is(r.stderr, `preheat: ${bomb}: it inflates to more than 64 MiB, the most preheat reads from a gzipped pprof profile (a gzip bomb, or not a CPU profile) [PREHEAT_ERR_INPUT]\n`);
  t.true(r.maxRssKiB < 400 * 1024, `peak RSS ${r.maxRssKiB} KiB`);
  t.false(fs.existsSync(path.join(dir, 'out')));
});

const mkfifo = (file: string) => spawnSync('mkfifo', [file]).status === 0;

test('a FIFO in an input directory is skipped with one warning, and the rest is reported', async (t) => {
  const dir = tempDir();
  writeJson(path.join(dir, 'good.cpuprofile'), wideProfile(3));
  const fifo = path.join(dir, 'stuck.cpuprofile');
  if (process.platform === 'win32' || !mkfifo(fifo)) return t.pass('no mkfifo here');
  const out = path.join(dir, 'out');
  // Generous: the old reader blocked on the FIFO forever; this one never opens it.
  const r = await cliWithRss(['report', dir, '--out', out], 60_000);
  t.false(r.killed, 'the reporter hung on the FIFO');
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr.split('\n').filter((l) => l.startsWith('preheat:')).join('\n'), `preheat: skipped 1 entry that is not a regular file: ${fifo} (a FIFO)`);
  t.regex(fs.readFileSync(path.join(out, 'stacks.folded'), 'utf8'), /;child2 \/srv\/app\/a\.js:3 5\n/);
});

test('a FIFO named as the input, or the only profile of a directory, is refused without blocking', async (t) => {
  const dir = tempDir();
  const fifo = path.join(dir, 'only.cpuprofile');
  if (process.platform === 'win32' || !mkfifo(fifo)) return t.pass('no mkfifo here');
  const named = await cliWithRss(['report', fifo, '--out', path.join(dir, 'out')], 60_000);
  t.false(named.killed, 'the reporter hung on the FIFO');
  t.is(named.code, 1);
  t.is(named.stderr, `preheat: ${fifo} is a FIFO, not a regular file; save the profile to a file first [PREHEAT_ERR_INPUT]\n`);
  const whole = await cliWithRss(['report', dir, '--out', path.join(dir, 'out')], 60_000);
  t.false(whole.killed);
  t.is(whole.code, 1);
  t.is(whole.stderr, `preheat: ${dir} holds no .cpuprofile or pprof files: skipped 1 entry that is not a regular file: ${fifo} (a FIFO) [PREHEAT_ERR_INPUT]\n`);
});

function pprofWith(values: (number | bigint)[][], locationIds: number[][] = values.map(() => [1])): Buffer {
  const strings = new StringTable();
  const p = new Profile({
    sampleType: [new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') })],
    sample: values.map((value, i) => new Sample({ locationId: locationIds[i]!, value })),
    location: [new Location({ id: 1, line: [{ functionId: 1, line: 3 }] })],
    function: [new PFunction({ id: 1, name: strings.dedup('work'), filename: strings.dedup('/srv/app/w.js'), startLine: 1 })],
    stringTable: strings,
  });
  return zlib.gzipSync(p.encode());
}

const node = (id: number, name: string, extra: Record<string, unknown> = {}) => ({ id, callFrame: frame(name), children: [], ...extra });
const badCounts: [string, string, string | Buffer, RegExp][] = [
  ['a negative hitCount', 'x.cpuprofile', JSON.stringify({ nodes: [rootNode([2]), node(2, 'neg', { hitCount: -5 })], startTime: 0, endTime: 1 }), /node #2 has hitCount -5; counts are whole numbers from 0 to 2\^53$/],
  ['a fractional hitCount', 'x.cpuprofile', JSON.stringify({ nodes: [rootNode([2]), node(2, 'half', { hitCount: 1.5 })], startTime: 0, endTime: 1 }), /node #2 has hitCount 1\.5/],
  ['negative positionTicks', 'x.cpuprofile', JSON.stringify({ nodes: [rootNode([2]), node(2, 'neg', { hitCount: 2, positionTicks: [{ line: 4, ticks: -3 }] })], startTime: 0, endTime: 1 }), /node #2 has -3 ticks on line 4/],
  ['a sample naming no node', 'x.cpuprofile', JSON.stringify({ nodes: [rootNode([2]), node(2, 'a')], samples: [2, 99], timeDeltas: [1, 1], startTime: 0, endTime: 1 }), /sample #2 names node 99, which the profile does not have/],
  ['timeDeltas that do not match the samples', 'x.cpuprofile', JSON.stringify({ nodes: [rootNode([2]), node(2, 'a')], samples: [2, 2], timeDeltas: [1], startTime: 0, endTime: 1 }), /it has 2 samples but 1 timeDeltas/],
  ['two nodes with one id', 'x.cpuprofile', JSON.stringify({ nodes: [rootNode([2]), node(2, 'a', { hitCount: 1 }), node(2, 'b', { hitCount: 1 })], startTime: 0, endTime: 1 }), /node #3 repeats id 2/],
  ['hitCounts past 2^53 in all', 'x.cpuprofile', JSON.stringify({ nodes: [rootNode([2, 3]), node(2, 'a', { hitCount: 2 ** 52 }), node(3, 'b', { hitCount: 2 ** 52 })], startTime: 0, endTime: 1 }), /hitCounts add up to more samples than can be counted exactly/],
  ['a negative pprof value', 'x.pb.gz', pprofWith([[3], [-5]]), /: sample #2 has samples -5; counts are whole numbers from 0 to 2\^53$/],
  ['a pprof value past 2^53', 'x.pb.gz', pprofWith([[2n ** 60n]]), /: sample #1 has samples 1152921504606846976/],
];

for (const [label, name, content, message] of badCounts) {
  test(`${label} is refused with a message naming the file`, (t) => {
    const file = path.join(tempDir(), name);
    fs.writeFileSync(file, content);
    const error = t.throws(() => loadInputs([file]), { instanceOf: PreheatError });
    t.regex(error!.message, message);
    t.true(error!.message.startsWith(file));
  });
}
