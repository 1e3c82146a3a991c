import * as v8 from 'node:v8';
import { types } from 'node:util';

/**
 * V8's natives syntax, the only way to ask for and verify optimization from inside the process.
 * Everything that touches it lives here; docs/v8.md ("Natives syntax") has the facts it relies on:
 *  - the flag goes on at the agent's start, before the app's code loads, and off when the warm-up
 *    ends (unless the app itself runs with --allow-natives-syntax). Switching it on later, with
 *    the app's code already optimized, cost the app: on the docs-shop fixture, toggling it around
 *    a warm-up left the first 1000 requests at 1.43x steady state against 1.24x without;
 *    and on V8 12.4+ a forced optimization needs the flag on when the function is next called;
 *  - each helper's source carries a nonce: from the compilation cache an old helper would come back;
 *  - several natives kill the process on bound functions, proxies and builtins, so every function
 *    is checked with `isOptimizable` first;
 *  - the %GetOptimizationStatus bit layout moved in V8 14.6 (Node 26): tiers are read with the
 *    %ActiveTierIs* natives instead, which exist and answer right on V8 11.3 to 14.6.
 */
export interface Natives {
  /** True for functions the natives below may be called on. */
  isOptimizable(f: unknown): f is (...args: unknown[]) => unknown;
  scriptId(f: Function): number;
  /** 0-based offset of the function's start in its script (its parameter list's `(`). */
  sourcePosition(f: Function): number;
  tier(f: Function): Tier;
  /**
   * Allocates feedback and asks for TurboFan on the function's next call, compiled on a
   * background thread as V8's own tier-up does: a synchronous compile would stall the event loop
   * for each function (milliseconds each) while the app's server is already up.
   */
  optimizeOnNextCall(f: Function): void;
}

export type Tier = 'lazy' | 'interpreted' | 'baseline' | 'maglev' | 'turbofan' | 'unknown';

const appHasNatives = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => /--allow[-_]natives[-_]syntax/.test(a));

/**
 * Switches natives on and creates the helpers; `close()` switches them off again. Open it early
 * (at the agent's start, before the app's code is loaded and optimized) and close it when the
 * warm-up ends: on V8 12.4 and later a forced optimization only happens while the flag is on.
 * After `close()` the helpers may still answer, but a helper whose bytecode V8 flushed throws a
 * SyntaxError, so callers treat any throw as "natives unavailable".
 */
export function createNatives(): Natives & { close(): void } {
  v8.setFlagsFromString('--allow-natives-syntax');
  let open = true;
  const close = () => {
    if (open && !appHasNatives) v8.setFlagsFromString('--no-allow-natives-syntax');
    open = false;
  };
  try {
    return { ...makeNatives(), close };
  } catch (error) {
    close();
    throw error;
  }
}

function makeNatives(): Natives {
  const nonce = Math.random().toString(36).slice(2);
  const helper = (body: string) => new Function('f', `/* preheat ${nonce} */ return ${body};`) as (f: unknown) => number;
  const status = helper('%GetOptimizationStatus(f)');
  const scriptId = helper('%FunctionGetScriptId(f)');
  const position = helper('%FunctionGetScriptSourcePosition(f)');
  const prepare = helper('%PrepareFunctionForOptimization(f)');
  const optimize = helper('%OptimizeFunctionOnNextCall(f, "concurrent")');
  // The tier natives answer without status bits, so the layout change of V8 14.6 does not matter
  // to them; only "never compiled" needs a bit, whose place is known per V8 version.
  const isTurbofan = helper('%ActiveTierIsTurbofan(f)');
  const isMaglev = helper('%ActiveTierIsMaglev(f)');
  const isSparkplug = helper('%ActiveTierIsSparkplug(f)');
  const isIgnition = helper('%ActiveTierIsIgnition(f)');

  const isOptimizable = (f: unknown): f is (...args: unknown[]) => unknown =>
    typeof f === 'function' && !types.isProxy(f) && !isSynthetic(f) && scriptId(f) >= 0;

  return {
    isOptimizable,
    scriptId: (f) => scriptId(f),
    sourcePosition: (f) => position(f),
    tier(f) {
      if (status(f) & (1 << LAZY_BIT)) return 'lazy';
      if (isTurbofan(f)) return 'turbofan';
      if (isMaglev(f)) return 'maglev';
      if (isSparkplug(f)) return 'baseline';
      if (isIgnition(f)) return 'interpreted';
      return 'unknown';
    },
    optimizeOnNextCall(f) {
      // Node 26 is fatal on Optimize without Prepare; Prepare is also what allocates feedback.
      prepare(f);
      optimize(f);
    },
  };
}

/**
 * V8's synthetic functions (`<instance_members_initializer>`, `<static_initializer>`: the code of a
 * class's field initializers) cannot be compiled lazily, and %PrepareFunctionForOptimization on one
 * is a fatal CHECK (`v8_flags.fuzzing`), seen on Node 20 and 22 with fastify's and marked's
 * classes. The heap scan finds them like any function. On V8 11.3 their name starts with `<`;
 * on 12.4 their `name` was seen undefined. The descriptor is read without calling a getter.
 */
function isSynthetic(f: Function): boolean {
  const own = Object.getOwnPropertyDescriptor(f, 'name');
  // Every function of the language has an own string name, '' when anonymous; V8 12.4's
  // initializers were seen with a name that is no string (undefined).
  if (!own) return true;
  if (!('value' in own)) return false; // an accessor the app defined: a real function, and its getter is not called
  return typeof own.value !== 'string' || own.value.startsWith('<');
}

/**
 * %GetOptimizationStatus's "never compiled" bit: 18 up to V8 14.5, 17 from 14.6 on, which removed
 * the AlwaysOptimize bit and shifted the rest down (docs/v8.md, "Reading a function's tier").
 */
const LAZY_BIT = (() => {
  const [major = 0, minor = 0] = process.versions.v8.split('.').map(Number);
  return major > 14 || (major === 14 && minor >= 6) ? 17 : 18;
})();

export function isOptimizedTier(t: Tier): boolean {
  return t === 'turbofan' || t === 'maglev';
}
