import test from 'ava';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Profile } from 'pprof-format';
import { PreheatError } from '../../src/errors';
import type { CpuProfile, CpuProfileNode } from '../../src/profile/cpuprofile';
import { loadBytes } from '../../src/profile/load-inputs';
import { fromCpuProfile, type StackModel } from '../../src/profile/stack-model';
import { toPprof } from '../../src/report/pprof';
import { writeReport } from '../../src/report/write-report';
import { tempDir } from '../helpers/run';

// Mutated .cpuprofile and pprof inputs through the whole pipeline (loader, model, detectors,
// every output): each must either give a report or a PreheatError, never another error, a hang
// or a stack overflow. PREHEAT_FUZZ_RUNS sets the number of runs per property (CI: thousands).
const runs = Number(process.env.PREHEAT_FUZZ_RUNS) > 0 ? Number(process.env.PREHEAT_FUZZ_RUNS) : 150;
const out = path.join(tempDir(), 'report');

/** Runs the pipeline; returns what failed, or null. A PreheatError is a fine answer. */
/** How each run ended: a report that adds up, or one clean refusal. */
type Outcome = 'report' | 'refused';

function pipeline(name: string, bytes: Buffer): Outcome {
  let model: StackModel;
  try {
    model = loadBytes(name, bytes).model;
    const r = writeReport(model, { out, title: 'fuzz' });
    // What was written adds up: every non-idle sample is on one folded line.
    const folded = fs.readFileSync(r.files.folded, 'utf8');
    let sum = 0;
    for (const line of folded.split('\n')) {
      if (!line) continue;
      const count = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (!Number.isSafeInteger(count) || count <= 0) throw new Error(`folded line with count ${count}: ${line.slice(0, 80)}`);
      sum += count;
    }
    const busy = model.nodes.reduce((n, node, i) => n + (i > 0 && model.frames[node.frame]!.kind !== 'idle' ? node.self : 0), 0);
    if (sum !== busy) throw new Error(`folded stacks hold ${sum} samples, the model ${busy}`);
    if (!Number.isSafeInteger(model.totalSamples) || model.totalSamples < 0) throw new Error(`totalSamples ${model.totalSamples}`);
    return 'report';
  } catch (error) {
    if (error instanceof PreheatError) return 'refused';
    throw error;
  }
}

/** Every run ended one of the two ways, and the mutations reached both: some inputs stay usable, some do not. */
function checkOutcomes(t: { is(a: unknown, b: unknown, m?: string): void; true(v: boolean, m?: string): void }, seen: Record<Outcome, number>): void {
  t.is(seen.report + seen.refused, runs, JSON.stringify(seen));
  t.true(seen.report > 0, `no mutated input gave a report: ${JSON.stringify(seen)}`);
  t.true(seen.refused > 0, `no mutated input was refused: ${JSON.stringify(seen)}`);
}

// --- valid inputs to start from ---------------------------------------------------------------

const names = ['main', 'parse', '', '(garbage collector)', '(idle)', '(program)', 'a;b', 'x\ny'];
const urls = ['file:///srv/app/a.js', 'file:///srv/app/node_modules/dep/i.js', 'node:fs', ''];

type TreeNode = { parent: number; name: string; url: string; line: number; self: number; ticks: [number, number][] };

/** A tree as parent links (each node's parent comes before it), with counts and line ticks. */
const treeArb = fc.array(
  fc.record({
    parent: fc.nat(),
    name: fc.constantFrom(...names),
    url: fc.constantFrom(...urls),
    line: fc.integer({ min: -1, max: 50 }),
    self: fc.nat(6),
    ticks: fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.nat(4)), { maxLength: 3 }),
  }),
  { minLength: 1, maxLength: 25 },
);

/** Sometimes a long chain, given by its depth (printed small when a run fails): recursion anywhere would overflow on it. */
const chainArb = fc.integer({ min: 2_000, max: 12_000 }).map((depth) => ({ chain: depth }));

const chain = (depth: number): TreeNode[] =>
  Array.from({ length: depth }, (_, i) => ({ parent: i, name: `f${i % 7}`, url: urls[0]!, line: i % 40, self: i === depth - 1 ? 3 : 0, ticks: [] }));

function cpuProfileFrom(spec: TreeNode[] | { chain: number }, withSamples: boolean): CpuProfile {
  const tree = Array.isArray(spec) ? spec : chain(spec.chain);
  const nodes: CpuProfileNode[] = [{ id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, hitCount: 0, children: [] }];
  const samples: number[] = [];
  tree.forEach((t, i) => {
    const id = i + 2;
    const parent = nodes[t.parent % nodes.length]!;
    parent.children!.push(id);
    const node: CpuProfileNode = { id, callFrame: { functionName: t.name, scriptId: '1', url: t.url, lineNumber: t.line, columnNumber: 0 }, hitCount: t.self, children: [] };
    if (t.ticks.length) node.positionTicks = t.ticks.map(([line, ticks]) => ({ line, ticks }));
    nodes.push(node);
    for (let k = 0; k < t.self; k++) samples.push(id);
  });
  return withSamples ? { nodes, startTime: 0, endTime: samples.length * 1000, samples, timeDeltas: samples.map(() => 1000) } : { nodes, startTime: 0, endTime: 1000 };
}

/** A valid profile's description; cpuProfileFrom builds it inside the property. */
const baseArb = fc.tuple(fc.oneof({ weight: 9, arbitrary: treeArb }, { weight: 1, arbitrary: chainArb }), fc.boolean());

// --- mutations -------------------------------------------------------------------------------

const weird = fc.oneof(
  fc.constantFrom<unknown>(null, true, 'x', '', [], {}, [1, 'a'], -1, 0, 1.5, -0.5, 1e300, -1e300, 2 ** 53, 2 ** 53 + 2, 2 ** 31, -(2 ** 31), 1e21),
  fc.integer(),
  fc.double({ noNaN: true }),
);
const nodeFields = ['id', 'hitCount', 'children', 'callFrame', 'positionTicks'];
const frameFields = ['functionName', 'url', 'lineNumber', 'columnNumber'];
const topFields = ['nodes', 'samples', 'timeDeltas', 'startTime', 'endTime'];

type Op =
  | { op: 'node'; at: number; field: string; value: unknown; del: boolean }
  | { op: 'frame'; at: number; field: string; value: unknown; del: boolean }
  | { op: 'top'; field: string; value: unknown; del: boolean }
  | { op: 'duplicate'; at: number }
  | { op: 'child'; at: number; target: number }
  | { op: 'sample'; at: number; value: unknown }
  | { op: 'delta'; at: number; value: unknown }
  | { op: 'tick'; at: number; line: unknown; ticks: unknown };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('node' as const), at: fc.nat(), field: fc.constantFrom(...nodeFields), value: weird, del: fc.boolean() }),
  fc.record({ op: fc.constant('frame' as const), at: fc.nat(), field: fc.constantFrom(...frameFields), value: weird, del: fc.boolean() }),
  fc.record({ op: fc.constant('top' as const), field: fc.constantFrom(...topFields), value: weird, del: fc.boolean() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  // Cycles (a child that is an ancestor or the node itself) and dangling ids.
  fc.record({ op: fc.constant('child' as const), at: fc.nat(), target: fc.oneof(fc.nat(40), fc.constantFrom(-1, 999_999, 2 ** 53)) }),
  fc.record({ op: fc.constant('sample' as const), at: fc.nat(), value: fc.oneof(weird, fc.nat(30)) }),
  fc.record({ op: fc.constant('delta' as const), at: fc.nat(), value: weird }),
  fc.record({ op: fc.constant('tick' as const), at: fc.nat(), line: fc.oneof(weird, fc.nat(60)), ticks: fc.oneof(weird, fc.nat(9)) }),
);

function applyOps(profile: CpuProfile, ops: Op[]): unknown {
  const p = structuredClone(profile) as unknown as Record<string, any>;
  const nodeAt = (i: number) => (Array.isArray(p.nodes) && p.nodes.length ? p.nodes[i % p.nodes.length] : null);
  for (const o of ops) {
    const n = 'at' in o ? nodeAt(o.at) : null;
    const isObj = (x: unknown): x is Record<string, any> => typeof x === 'object' && x !== null;
    switch (o.op) {
      case 'node':
        if (isObj(n)) o.del ? delete n[o.field] : (n[o.field] = o.value);
        break;
      case 'frame':
        if (isObj(n) && isObj(n.callFrame)) o.del ? delete n.callFrame[o.field] : (n.callFrame[o.field] = o.value);
        break;
      case 'top':
        o.del ? delete p[o.field] : (p[o.field] = o.value);
        break;
      case 'duplicate':
        if (n !== null && Array.isArray(p.nodes)) p.nodes.push(structuredClone(n));
        break;
      case 'child':
        if (isObj(n)) (Array.isArray(n.children) ? n.children : (n.children = [])).push(o.target);
        break;
      case 'sample':
        if (Array.isArray(p.samples) && p.samples.length) p.samples[o.at % p.samples.length] = o.value;
        break;
      case 'delta':
        if (Array.isArray(p.timeDeltas) && p.timeDeltas.length) p.timeDeltas[o.at % p.timeDeltas.length] = o.value;
        break;
      case 'tick':
        if (isObj(n)) (Array.isArray(n.positionTicks) ? n.positionTicks : (n.positionTicks = [])).push({ line: o.line, ticks: o.ticks });
        break;
    }
  }
  return p;
}

/** Text-level damage: cut the file short, or put a number JSON parses as Infinity in place of one. */
const textArb = fc.option(fc.oneof(fc.record({ cut: fc.double({ min: 0, max: 1, noNaN: true }) }), fc.record({ infinity: fc.nat() })), { nil: undefined });

function damageText(text: string, d: { cut?: number; infinity?: number } | undefined): string {
  if (!d) return text;
  if (d.cut !== undefined) return text.slice(0, Math.floor(text.length * d.cut));
  const numbers = [...text.matchAll(/:(-?\d+)/g)];
  if (!numbers.length) return text;
  const m = numbers[d.infinity! % numbers.length]!;
  return text.slice(0, m.index! + 1) + '1e400' + text.slice(m.index! + m[0].length);
}

test('mutated .cpuprofile files give a report or a PreheatError, never another error', (t) => {
  // CI's thousands of runs take longer than ava's default 2 minutes without a result.
  t.timeout(Math.max(120_000, runs * 250));
  const seen: Record<Outcome, number> = { report: 0, refused: 0 };
  fc.assert(
    fc.property(baseArb, fc.array(opArb, { maxLength: 4 }), textArb, ([spec, withSamples], ops, damage) => {
      const base = cpuProfileFrom(spec, withSamples);
      seen[pipeline('fuzz.cpuprofile', Buffer.from(damageText(JSON.stringify(applyOps(base, ops)), damage)))]++;
    }),
    { numRuns: runs },
  );
  checkOutcomes(t, seen);
});

// --- pprof -----------------------------------------------------------------------------------

const int64 = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom<number | bigint>(0, -1, 2 ** 53, 2n ** 62n, 2n ** 64n - 1n));

type PprofOp =
  | { op: 'value'; at: number; k: number; value: number | bigint }
  | { op: 'location'; at: number; id: number | bigint }
  | { op: 'function'; at: number; id: number | bigint }
  | { op: 'string'; at: number; index: number | bigint }
  | { op: 'types'; keep: number }
  | { op: 'duplicate'; at: number }
  | { op: 'duration'; value: number | bigint };

const pprofOpArb: fc.Arbitrary<PprofOp> = fc.oneof(
  fc.record({ op: fc.constant('value' as const), at: fc.nat(), k: fc.nat(2), value: int64 }),
  fc.record({ op: fc.constant('location' as const), at: fc.nat(), id: fc.oneof(fc.nat(50), int64) }),
  fc.record({ op: fc.constant('function' as const), at: fc.nat(), id: fc.oneof(fc.nat(50), int64) }),
  fc.record({ op: fc.constant('string' as const), at: fc.nat(), index: fc.oneof(fc.nat(100), int64) }),
  fc.record({ op: fc.constant('types' as const), keep: fc.nat(2) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duration' as const), value: int64 }),
);

function mutatePprof(raw: Uint8Array, ops: PprofOp[]): Uint8Array {
  const p = Profile.decode(raw);
  for (const o of ops) {
    const sample = p.sample.length ? p.sample[('at' in o ? o.at : 0) % p.sample.length]! : null;
    switch (o.op) {
      case 'value':
        if (sample) sample.value[o.k] = o.value;
        break;
      case 'location':
        if (sample && sample.locationId.length) sample.locationId[o.at % sample.locationId.length] = o.id;
        break;
      case 'function': {
        const loc = p.location[o.at % Math.max(1, p.location.length)];
        if (loc?.line[0]) loc.line[0].functionId = o.id;
        break;
      }
      case 'string': {
        const fn = p.function[o.at % Math.max(1, p.function.length)];
        if (fn) fn.name = o.index;
        break;
      }
      case 'types':
        p.sampleType = p.sampleType.slice(0, o.keep);
        break;
      case 'duplicate':
        if (sample) p.sample.push(sample);
        break;
      case 'duration':
        p.durationNanos = o.value;
        break;
    }
  }
  return p.encode();
}

/** Byte-level damage to the encoded profile: flip, cut, repeat, insert. */
type BytesOp = { flip: number; bit: number } | { cut: number } | { repeat: number; length: number } | { insert: number; bytes: Uint8Array };
const bytesOpArb: fc.Arbitrary<BytesOp> = fc.oneof(
  fc.record({ flip: fc.nat(), bit: fc.nat(7) }),
  fc.record({ cut: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ repeat: fc.nat(), length: fc.nat(64) }),
  fc.record({ insert: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
);

function damageBytes(data: Uint8Array, ops: BytesOp[]): Buffer {
  let b = Buffer.from(data);
  for (const o of ops) {
    if (b.length === 0) break;
    if ('flip' in o) b[o.flip % b.length]! ^= 1 << o.bit;
    else if ('cut' in o) b = b.subarray(0, Math.floor(b.length * o.cut));
    else if ('repeat' in o) {
      const at = o.repeat % b.length;
      b = Buffer.concat([b.subarray(0, at + o.length), b.subarray(at)]);
    } else if ('insert' in o) {
      const at = o.insert % b.length;
      b = Buffer.concat([b.subarray(0, at), Buffer.from(o.bytes), b.subarray(at)]);
    }
  }
  return b;
}

test('mutated pprof files, gzipped or not, give a report or a PreheatError, never another error', (t) => {
  // CI's thousands of runs take longer than ava's default 2 minutes without a result.
  t.timeout(Math.max(120_000, runs * 250));
  const seen: Record<Outcome, number> = { report: 0, refused: 0 };
  fc.assert(
    fc.property(
      baseArb,
      fc.array(pprofOpArb, { maxLength: 4 }),
      fc.array(bytesOpArb, { maxLength: 3 }),
      fc.constantFrom('gzip-after', 'gzip-then-damage', 'raw'),
      ([spec, withSamples], ops, damage, form) => {
        const raw = zlib.gunzipSync(toPprof(fromCpuProfile(cpuProfileFrom(spec, withSamples))));
        const mutated = mutatePprof(raw, ops);
        const bytes =
          form === 'raw' ? damageBytes(mutated, damage) : form === 'gzip-after' ? zlib.gzipSync(damageBytes(mutated, damage)) : damageBytes(zlib.gzipSync(mutated), damage);
        seen[pipeline('fuzz.pb.gz', bytes)]++;
      },
    ),
    { numRuns: runs },
  );
  checkOutcomes(t, seen);
});
