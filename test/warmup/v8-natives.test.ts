import test from 'ava';
import { isOptimizedTier, withNatives } from '../../src/warmup/v8-natives';

test('tiers read right on this V8: lazy, then unoptimized, then TurboFan after a forced optimization', (t) => {
  function outer(n: number) {
    function neverCalled() {
      return n;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += i % 7;
    return s + (n < 0 ? neverCalled() : 0);
  }
  withNatives((n) => t.is(n.tier(outer), 'lazy'));
  outer(10);
  outer(10);
  // The call that compiles must come while natives are on (V8 12.4+ drops the request otherwise).
  withNatives((n) => {
    // Ignition, or Sparkplug where V8 compiles baseline code early (12.4 and later may).
    t.true(['interpreted', 'baseline'].includes(n.tier(outer)), n.tier(outer));
    t.false(isOptimizedTier(n.tier(outer)));
    n.optimizeOnNextCall(outer);
    outer(10);
    t.is(n.tier(outer), 'turbofan');
  });
  for (let i = 0; i < 100; i++) outer(10);
  // With natives off in between and many windows later, the code and the reading hold.
  for (let i = 0; i < 5; i++) withNatives((n) => t.is(n.tier(outer), 'turbofan'));
});

test('functions that natives would crash on are refused', (t) => {
  function f() {
    return 1;
  }
  withNatives((n) => {
    t.true(n.isOptimizable(f));
    t.false(n.isOptimizable(f.bind(null)));
    t.false(n.isOptimizable(new Proxy(f, {})));
    t.false(n.isOptimizable(Math.max));
    t.false(n.isOptimizable({}));
  });
});

test('natives syntax is off again after the window', (t) => {
  withNatives(() => undefined);
  t.throws(() => new Function(`return %GetOptimizationStatus(${Math.random()})`), { instanceOf: SyntaxError });
});
