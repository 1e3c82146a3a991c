import test from 'ava';
import { createNatives, isOptimizedTier } from '../../src/warmup/v8-natives';

// Serial: the natives flag is process-wide (another test's close() turns it off mid-test), and on
// V8 14.6 the last test's heap scan (Runtime.queryObjects) drops a forced optimization still
// compiling in the background, which then never comes (docs/v8.md, "Natives syntax").
test.serial('tiers read right on this V8: lazy, then unoptimized, then TurboFan after a forced optimization', async (t) => {
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
  // The compile runs on a background thread, as V8's own tier-up does: call until it is installed
  // (a second under a loaded run of the whole suite was not always enough).
  for (const until = Date.now() + 20_000; Date.now() < until && n.tier(outer) !== 'turbofan'; ) {
    outer(10);
    await new Promise((r) => setTimeout(r, 5));
  }
  t.is(n.tier(outer), 'turbofan');
  n.close();
  for (let i = 0; i < 100; i++) outer(10);
  t.is(n.tier(outer), 'turbofan', 'optimized code stays after natives are switched off');
});

test.serial('functions that natives would crash on are refused', (t) => {
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

test.serial('natives syntax is off again after close, and the helpers still answer', (t) => {
  const n = createNatives();
  n.close();
  t.throws(() => new Function(`return %GetOptimizationStatus(${Math.random()})`), { instanceOf: SyntaxError });
  t.is(n.tier(function never() {}), 'lazy');
});

test.serial("a class's field initializer, which the heap scan finds like any function, is refused: preparing it is fatal", (t) => {
  class WithFields {
    hooks = { a: 1 };
    static table = new Map([[1, 2]]);
  }
  t.truthy(new WithFields().hooks);
  // Every function of the heap, as the warm-up's index sees them.
  const { Session } = require('node:inspector') as typeof import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params: object): any => {
    let out: any;
    session.post(method, params, (error, result) => {
      if (error) throw error;
      out = result;
    });
    return out;
  };
  const proto = post('Runtime.evaluate', { expression: 'Function.prototype', objectGroup: 't' });
  const all = post('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId, objectGroup: 't' });
  const key = `__preheat_test_${process.pid}`;
  post('Runtime.callFunctionOn', { objectId: all.objects.objectId, functionDeclaration: `function () { globalThis[${JSON.stringify(key)}] = this; }` });
  session.disconnect();
  const functions = ((globalThis as any)[key] as unknown[]).filter((f): f is Function => typeof f === 'function');
  delete (globalThis as any)[key];
  const natives = createNatives();
  try {
    const synthetic = functions.filter((f) => {
      const own = Object.getOwnPropertyDescriptor(f, 'name');
      return !own || ('value' in own && (typeof own.value !== 'string' || own.value.startsWith('<')));
    });
    for (const f of synthetic) t.false(natives.isOptimizable(f), String(Object.getOwnPropertyDescriptor(f, 'name')?.value));
    // V8 11.3 materializes the initializers as functions named <instance_members_initializer>.
    if (process.versions.v8.startsWith('11.')) t.true(synthetic.some((f) => f.name === '<instance_members_initializer>'));
    else t.log(`${synthetic.length} synthetic functions found on V8 ${process.versions.v8}`);
    t.true(natives.isOptimizable(WithFields));
  } finally {
    natives.close();
  }
});
