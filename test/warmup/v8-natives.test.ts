import test from 'ava';
import { createNatives, isOptimizedTier } from '../../src/warmup/v8-natives';

test('tiers read right on this V8: lazy, then unoptimized, then TurboFan after a forced optimization', async (t) => {
  function outer(n: number) {
    function neverCalled() {
      return n;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += i % 7;
    return s + (n < 0 ? neverCalled() : 0);
  }
  const n = createNatives();
  t.is(n.tier(outer), 'lazy');
  outer(10);
  outer(10);
  // Ignition, or Sparkplug where V8 compiles baseline code early (12.4 and later may).
  t.true(['interpreted', 'baseline'].includes(n.tier(outer)), n.tier(outer));
  t.false(isOptimizedTier(n.tier(outer)));
  n.optimizeOnNextCall(outer);
  // The compile runs on a background thread, as V8's own tier-up does: call until it is installed.
  for (let i = 0; i < 200 && n.tier(outer) !== 'turbofan'; i++) {
    outer(10);
    await new Promise((r) => setTimeout(r, 5));
  }
  t.is(n.tier(outer), 'turbofan');
  n.close();
  for (let i = 0; i < 100; i++) outer(10);
  t.is(n.tier(outer), 'turbofan', 'optimized code stays after natives are switched off');
});

test('functions that natives would crash on are refused', (t) => {
  function f() {
    return 1;
  }
  const n = createNatives();
  t.true(n.isOptimizable(f));
  t.false(n.isOptimizable(f.bind(null)));
  t.false(n.isOptimizable(new Proxy(f, {})));
  t.false(n.isOptimizable(Math.max));
  t.false(n.isOptimizable({}));
  n.close();
});

test('natives syntax is off again after close, and the helpers still answer', (t) => {
  const n = createNatives();
  n.close();
  t.throws(() => new Function(`return %GetOptimizationStatus(${Math.random()})`), { instanceOf: SyntaxError });
  t.is(n.tier(function never() {}), 'lazy');
});
