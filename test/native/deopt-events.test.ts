import test from 'ava';
import * as fs from 'node:fs';
import { DeoptEvents, placeByName, REPLACED, type DeoptSummary, type FunctionDeopts } from '../../src/native/deopt-events';
import { NativeProfileBuilder } from '../../src/native/native-model';
import type { NativeSample } from '../../src/native/native-sample';
import { TickLogParser } from '../../src/native/tick-log';
import { fixture } from '../helpers/run';

// fixtures/native/logs: the code events of recorded.js (run as /app/prog.js) from V8's log under
// `node --prof --log-deopt --trace-opt --redirect-code-traces-to=…`, on Node 20 (V8 11.3) and
// Node 26 (V8 14.6; its log cut after the first 62 lines), and the aborted and completed
// compilations of its optimization trace. add meets new types twice, twice relies on a prototype
// that changes eight times, and the top-level loop is compiled on stack (OSR).
function parse(node: 20 | 26, deoptsLogged = true): Map<string, FunctionDeopts> {
  const events = new DeoptEvents();
  if (deoptsLogged) for (const l of fs.readFileSync(fixture('native', 'logs', `deopts-node${node}.v8.log`), 'utf8').split('\n')) events.logLine(l);
  for (const l of fs.readFileSync(fixture('native', 'logs', `deopts-node${node}.trace.txt`), 'utf8').split('\n')) events.traceLine(l);
  return new Map(events.result(deoptsLogged).functions.map((f) => [f.name || '(top level)', f]));
}

const reasons = (f: FunctionDeopts | undefined) => Object.fromEntries((f?.reasons ?? []).map((r) => [r.reason, r.count]));

test('V8 11.3: dependency changes are "code dependencies", and aborted compilations come from the trace', (t) => {
  const fns = parse(20);
  const twice = fns.get('twice')!;
  t.like(twice, { url: 'file:///app/prog.js', line: 6, column: 15, optimized: 5, deoptimized: 4, aborted: 2 });
  t.deepEqual(reasons(twice), { 'code dependencies': 4, 'Bailed out due to dependency change': 2 });
  // A lazy deoptimization has no site of its own.
  t.deepEqual(twice.sites, []);
  t.true(twice.firstMicros > 0 && twice.lastMicros > twice.firstMicros);
  // Eager deoptimizations carry where the check failed.
  const add = fns.get('add')!;
  t.like(add, { optimized: 3, deoptimized: 2, aborted: 0 });
  t.deepEqual(reasons(add), { 'not a Smi': 1, 'not a Number or Oddball': 1 });
  t.deepEqual(add.sites, [{ function: 'add', url: 'file:///app/prog.js', line: 4, count: 2 }]);
  // The top-level loop's two on-stack compilations thrown away are tier-up of one running loop: not counted.
  t.like(fns.get('(top level)'), { line: 1, deoptimized: 2, aborted: 0 });
});

test('V8 14.6: named dependency reasons, a deoptimization at an inlined check, and no OSR tier-up counted', (t) => {
  const fns = parse(26);
  t.deepEqual(reasons(fns.get('twice')), { 'dependent prototype chain changed': 5 });
  const top = fns.get('(top level)')!;
  // 21 `exit from OSR'd inner loop` and `prepare for on stack replacement` events are tier-up, not deoptimizations.
  t.false(top.reasons.some((r) => /OSR/.test(r.reason)), JSON.stringify(top.reasons));
  // The top-level code was thrown away at a check in add, which V8 had inlined into it.
  t.deepEqual(
    top.sites.find((s) => s.function === 'add'),
    { function: 'add', url: 'file:///app/prog.js', line: 4, count: 1 },
  );
  t.is(reasons(top)['not a Number'], 1);
});

test('without code events in the log (under perf), the trace alone counts re-installs, by name', (t) => {
  const fns = parse(20, false);
  const twice = fns.get('twice')!;
  // Four TurboFan installs (and one on-stack, left out): three replaced code V8 had thrown away.
  t.like(twice, { url: '', line: 0, optimized: 4, deoptimized: 3, aborted: 2 });
  t.deepEqual(reasons(twice), { [REPLACED]: 3, 'Bailed out due to dependency change': 2 });
  // The JavaScript profile places a function named once; an ambiguous name stays unplaced.
  const summary: DeoptSummary = { functions: [...fns.values()], deoptsLogged: false };
  const frames = [
    { name: 'twice', url: 'file:///app/prog.js', line: 6, column: 15, kind: 'js' },
    { name: 'add', url: 'file:///app/prog.js', line: 4, column: 13, kind: 'js' },
    { name: 'add', url: 'file:///app/other.js', line: 1, column: 13, kind: 'js' },
  ];
  const placed = new Map(placeByName(summary, frames).functions.map((f) => [f.name, f]));
  t.like(placed.get('twice'), { url: 'file:///app/prog.js', line: 6, column: 15 });
  t.like(placed.get('add'), { url: '', line: 0 });
});

test('under perf, a function whose code the log did see (outside the profile) is counted from the log, not inferred', (t) => {
  const events = new DeoptEvents();
  for (const l of fs.readFileSync(fixture('native', 'logs', 'deopts-node20.v8.log'), 'utf8').split('\n')) events.logLine(l);
  for (const l of fs.readFileSync(fixture('native', 'logs', 'deopts-node20.trace.txt'), 'utf8').split('\n')) events.traceLine(l);
  const twice = events.result(false).functions.find((f) => f.name === 'twice')!;
  t.like(twice, { line: 6, optimized: 5, deoptimized: 4, aborted: 2 });
  t.false(twice.reasons.some((r) => r.reason === REPLACED));
});

test('a deoptimized code object counts once, however many of its frames leave it, and moved code is followed', (t) => {
  const events = new DeoptEvents();
  for (const line of [
    'code-creation,JS,13,100,0x1000,500,hot /app/a.js:3:14,0x9000,*',
    'code-move,0x1000,0x2000',
    'code-deopt,200,600,0x2000,-1,50,dependency-change,</app/a.js:3:14>,code dependencies',
    // The frames still running it leave it lazily, with no reason of their own.
    'code-deopt,210,600,0x2000,-1,80,deopt-lazy,</app/a.js:5:3>,(unknown)',
    'code-deopt,220,600,0x2000,-1,80,deopt-lazy,</app/a.js:5:3>,(unknown)',
    // Maglev's OSR step aside is tier-up.
    'code-creation,JS,12,300,0x3000,500,hot /app/a.js:3:14,0x9000,o+',
    "code-deopt,310,600,0x3000,-1,60,deopt-eager,</app/a.js:4:1>,exit from OSR'd inner loop",
    'code-deopt,320,600,0x3000,-1,60,deopt-eager,</app/a.js:4:1>,prepare for on stack replacement (OSR)',
    // A comma in a reason is escaped in the log.
    'code-creation,JS,13,400,0x4000,500,hot /app/a.js:3:14,0x9000,*',
    'code-deopt,410,600,0x4000,-1,60,deopt-eager,</app/a.js:4:9>,not a JavaScript object\\x2C Null or Undefined',
    // Code V8 never logged, and unoptimized code, are not counted.
    'code-deopt,500,600,0x5000,-1,60,deopt-eager,</app/a.js:4:9>,wrong map',
  ]) {
    events.logLine(line);
  }
  const [hot] = events.result().functions;
  t.like(hot, { name: 'hot', url: 'file:///app/a.js', optimized: 3, deoptimized: 2, aborted: 0, firstMicros: 200, lastMicros: 410 });
  t.deepEqual(reasons(hot), { 'code dependencies': 1, 'not a JavaScript object, Null or Undefined': 1 });
  t.deepEqual(hot!.sites, [{ function: 'hot', url: 'file:///app/a.js', line: 4, count: 1 }]);
});

test('tick-log frames carry their code tier, inlined functions the tier of the code they run in, and unoptimized samples are counted', (t) => {
  const samples: NativeSample[] = [];
  const parser = new TickLogParser((s) => samples.push(s), () => null);
  for (const line of [
    'code-creation,JS,10,100,0x10000,50,parse /app/s.js:2:15,0x9100,~',
    'code-creation,JS,13,200,0x20000,500,read /app/s.js:7:14,0x9200,*',
    'code-source-info,0x20000,1,0,100,C0O10C100O40I0,F0O60,S0x9100',
    'tick,0x20010,1000,0,0x0,0',
    'tick,0x20110,1100,0,0x0,0',
    'tick,0x10010,1200,0,0x0,0,0x20010',
  ]) {
    parser.line(line);
  }
  t.deepEqual(
    samples.map((s) => s.frames.map((f) => `${f.name}${f.tier}`)),
    [['read*'], ['parse*', 'read*'], ['parse~', 'read*']],
  );
  const builder = new NativeProfileBuilder(1000);
  for (const s of samples) builder.add(s);
  const byName = new Map(builder.result().functions.map((f) => [f.name, f]));
  t.like(byName.get('parse'), { samples: 2, unoptimized: 1 });
  t.like(byName.get('read'), { samples: 1, unoptimized: 0 });
});
