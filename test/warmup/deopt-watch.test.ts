import test from 'ava';
import type { HotFunction } from '../../src/profile/schema';
import { watchDeopts, type DeoptSeen } from '../../src/warmup/deopt-watch';
import type { IndexedFunction } from '../../src/warmup/function-index';
import { Optimizer } from '../../src/warmup/optimizer';
import type { Natives, Tier } from '../../src/warmup/v8-natives';

function hot(name: string, line: number, deopts?: number): HotFunction {
  return { name, file: 'app.js', line, column: 1, sourceHash: null, selfSamples: 10, totalSamples: 10, share: 0.1, totalShare: 0.1, ...(deopts === undefined ? {} : { deopts }) };
}

/** Tiers as a test sets them, per function object: what the natives would read. */
function fakeTiers() {
  const tiers = new Map<Function, Tier>();
  const forced: Function[] = [];
  const natives: Natives = {
    isOptimizable: (f): f is (...args: unknown[]) => unknown => typeof f === 'function',
    scriptId: () => 1,
    sourcePosition: () => 0,
    tier: (f) => tiers.get(f) ?? 'lazy',
    optimizeOnNextCall: (f) => void forced.push(f),
  };
  return { tiers, forced, natives };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the watch reports a function found unoptimized after a check found it optimized, once per loss, and ends after its time', async (t) => {
  const { tiers, natives } = fakeTiers();
  const a = () => 1;
  const b = () => 2;
  const never = () => 3;
  tiers.set(a, 'turbofan').set(b, 'maglev').set(never, 'interpreted');
  const fns: IndexedFunction[] = [
    { hot: hot('a', 1), fns: [a] },
    { hot: hot('b', 2), fns: [b] },
    { hot: hot('never', 3), fns: [never] },
  ];
  const reports: DeoptSeen[][] = [];
  let ended = false;
  watchDeopts(fns, natives, { forMs: 400, everyMs: 20, onDeopt: (s) => reports.push(s), onError: () => t.fail('no error'), onEnd: () => (ended = true) });
  await tick(60);
  t.deepEqual(reports, [], 'nothing lost its code yet');
  tiers.set(a, 'baseline');
  await tick(60);
  t.deepEqual(reports.at(-1)?.map((d) => [d.name, d.times]), [['a', 1]]);
  // Optimized again, then lost again: a second time. `never` was never optimized: never reported.
  tiers.set(a, 'maglev');
  await tick(60);
  tiers.set(a, 'interpreted').set(b, 'interpreted');
  await tick(60);
  t.deepEqual(reports.at(-1)?.map((d) => [d.name, d.times]), [['a', 2], ['b', 1]]);
  t.is(reports.length, 2);
  await tick(400);
  t.true(ended);
  tiers.set(b, 'turbofan');
  await tick(60);
  tiers.set(b, 'interpreted');
  await tick(60);
  t.is(reports.length, 2, 'nothing after the end');
});

test('a check that throws (a flushed helper) ends the watch, and stop() ends it too', async (t) => {
  const { tiers, natives } = fakeTiers();
  const a = () => 1;
  tiers.set(a, 'turbofan');
  let errors = 0;
  let ends = 0;
  const flushed = (): Tier => {
    throw new SyntaxError('flushed');
  };
  watchDeopts([{ hot: hot('a', 1), fns: [a] }], { tier: flushed }, { forMs: 10_000, everyMs: 10, onDeopt: () => t.fail('no deopt'), onError: () => errors++, onEnd: () => ends++ });
  await tick(50);
  t.is(errors, 1);
  t.is(ends, 1);
  const w = watchDeopts([{ hot: hot('a', 1), fns: [a] }], natives, { forMs: 10_000, everyMs: 10, onDeopt: () => t.fail('no deopt'), onError: () => t.fail('no error'), onEnd: () => ends++ });
  w.stop();
  tiers.set(a, 'interpreted');
  await tick(50);
  t.is(ends, 2);
});

test('the optimizer does not force a function marked as deoptimized by real traffic, nor wait for it', (t) => {
  const { tiers, forced, natives } = fakeTiers();
  const plain = () => 1;
  const marked = () => 2;
  const faded = () => 3;
  tiers.set(plain, 'interpreted').set(marked, 'interpreted').set(faded, 'interpreted');
  const optimizer = new Optimizer(
    [
      { hot: hot('plain', 1), fns: [plain] },
      { hot: hot('marked', 2, 1), fns: [marked] },
      // Decayed below the mark over generations without another deopt: forced again.
      { hot: hot('faded', 3, 0.25), fns: [faded] },
    ],
    natives,
  );
  const first = optimizer.step();
  t.deepEqual(forced, [plain, faded]);
  t.is(first.unforced, 1);
  t.is(first.pending, 2);
  tiers.set(plain, 'turbofan').set(faded, 'turbofan');
  const second = optimizer.step();
  t.is(second.pending, 0, 'settled without the marked one');
  t.is(second.optimized, 2);
  // V8 optimizing it on its own feedback counts as optimized, still unforced.
  tiers.set(marked, 'maglev');
  const third = optimizer.step();
  t.is(third.optimized, 3);
  t.is(third.unforced, 1);
  t.deepEqual(forced, [plain, faded]);
});
