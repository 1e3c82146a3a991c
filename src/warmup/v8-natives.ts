import * as v8 from 'node:v8';
import { types } from 'node:util';

/**
 * V8's natives syntax, the only way to ask for and verify optimization from inside the process.
 * Everything that touches it lives here; v8-notes.md has the facts this relies on:
 *  - natives are switched on only for one short window and off again after, unless the app itself
 *    runs with --allow-natives-syntax; helpers are made inside the window, with a nonce in their
 *    source (the compilation cache would otherwise hand back an old helper), and not kept;
 *  - several natives kill the process on bound functions, proxies and builtins, so every function
 *    is checked with `isOptimizable` first;
 *  - the %GetOptimizationStatus bit layout moved in V8 14.6 (Node 26): detected, not assumed.
 */
export interface Natives {
  /** True for functions the natives below may be called on. */
  isOptimizable(f: unknown): f is (...args: unknown[]) => unknown;
  scriptId(f: Function): number;
  /** 0-based offset of the function's start in its script (its parameter list's `(`). */
  sourcePosition(f: Function): number;
  tier(f: Function): Tier;
  /** Allocates feedback and asks for TurboFan on the function's next call. */
  optimizeOnNextCall(f: Function): void;
}

export type Tier = 'lazy' | 'interpreted' | 'baseline' | 'maglev' | 'turbofan' | 'optimized' | 'unknown';

const appHasNatives = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => /--allow[-_]natives[-_]syntax/.test(a));

/** Runs `fn` with natives switched on, and off again after (even when `fn` throws). */
export function withNatives<T>(fn: (n: Natives) => T): T {
  v8.setFlagsFromString('--allow-natives-syntax');
  try {
    return fn(makeNatives());
  } finally {
    if (!appHasNatives) v8.setFlagsFromString('--no-allow-natives-syntax');
  }
}

function makeNatives(): Natives {
  const nonce = Math.random().toString(36).slice(2);
  const helper = (body: string) => new Function('f', `/* preheat ${nonce} */ return ${body};`) as (f: unknown) => number;
  const status = helper('%GetOptimizationStatus(f)');
  const scriptId = helper('%FunctionGetScriptId(f)');
  const position = helper('%FunctionGetScriptSourcePosition(f)');
  const prepare = helper('%PrepareFunctionForOptimization(f)');
  const optimize = helper('%OptimizeFunctionOnNextCall(f)');
  const bits = statusBits(status);

  const isOptimizable = (f: unknown): f is (...args: unknown[]) => unknown =>
    typeof f === 'function' && !types.isProxy(f) && scriptId(f) >= 0;

  return {
    isOptimizable,
    scriptId: (f) => scriptId(f),
    sourcePosition: (f) => position(f),
    tier(f) {
      const s = status(f);
      if (s & (1 << bits.lazy)) return 'lazy';
      if (s & (1 << bits.turbofan)) return 'turbofan';
      if (s & (1 << bits.maglev)) return 'maglev';
      if (s & (1 << bits.optimized)) return 'optimized';
      if (s & (1 << bits.baseline)) return 'baseline';
      if (s & (1 << bits.interpreted)) return 'interpreted';
      return 'unknown';
    },
    optimizeOnNextCall(f) {
      // Node 26 is fatal on Optimize without Prepare; Prepare is also what allocates feedback.
      prepare(f);
      optimize(f);
    },
  };
}

/** The bit layout of %GetOptimizationStatus: V8 14.6 removed a bit and shifted the rest down by one. */
function statusBits(status: (f: unknown) => number) {
  const probe = new Function('return 1');
  probe();
  const shift = status(probe) === 65 ? 1 : 0; // 129 on V8 11.3–13.6, 65 on 14.6
  return { optimized: 4 - shift, maglev: 5 - shift, turbofan: 6 - shift, interpreted: 7 - shift, baseline: 15 - shift, lazy: 18 - shift };
}

export function isOptimizedTier(t: Tier): boolean {
  return t === 'turbofan' || t === 'maglev' || t === 'optimized';
}
