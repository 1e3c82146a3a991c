import type { IndexedFunction } from './function-index';
import { isOptimizedTier, type Natives, type Tier } from './v8-natives';

/** Asks per function before giving up on it: one that deoptimizes this often will not stay optimized. */
const MAX_ATTEMPTS = 3;
/** Rounds a function may stay uncompiled before the replay is taken not to reach it. */
const MAX_LAZY_STEPS = 5;
/**
 * A function whose deopt mark is at least this (deopt-watch.ts: real traffic took its optimized
 * code after a warm-up, in the last boot or two, as the mark decays) is not forced.
 */
const DEOPT_MARK = 0.5;

export interface OptimizerProgress {
  optimized: number;
  /** Functions still being worked on. */
  pending: number;
  /** Functions that got no type feedback from the replay, or deoptimized after every attempt. */
  givenUp: number;
  /**
   * Functions real traffic deoptimized after an earlier warm-up: not forced, as the replay's
   * feedback is what failed them; V8 optimizes them on its own feedback, from the replay or later
   * (those it optimized count in `optimized` too).
   */
  unforced: number;
  tiers: Record<string, Tier>;
}

/**
 * Between replay rounds: functions the replay has run (no longer lazy, so they have feedback) and
 * that are not yet on an optimizing tier are asked for TurboFan on their next call; the next
 * round makes that call and the one after checks the tier. A function that never ran is left
 * alone: optimized without feedback, it would deoptimize on its first real call.
 */
export class Optimizer {
  private readonly attempts = new Map<IndexedFunction, number>();
  private readonly lazySteps = new Map<IndexedFunction, number>();
  private readonly done = new Set<IndexedFunction>();

  /** `natives` must stay open from the first step to the last (see v8-natives.ts). */
  constructor(
    private readonly functions: IndexedFunction[],
    private readonly natives: Natives,
  ) {}

  step(): OptimizerProgress {
    const tiers: Record<string, Tier> = {};
    let givenUp = 0;
    let unforced = 0;
    let leftToV8 = 0;
    const n = this.natives;
    {
      for (const f of this.functions) {
        const closures = f.fns.map((fn) => ({ fn, tier: n.tier(fn) }));
        const ran = closures.filter((c) => c.tier !== 'lazy');
        const waiting = ran.filter((c) => !isOptimizedTier(c.tier));
        tiers[`${f.hot.name || '(anonymous)'} ${f.hot.file}:${f.hot.line}`] = (closures.find((c) => isOptimizedTier(c.tier)) ?? ran[0] ?? closures[0])?.tier ?? 'lazy';
        // Optimized once one closure is: a closure that ran once and is dead to the app (an old
        // request's) would otherwise hold the function back until it is given up on.
        const marked = (f.hot.deopts ?? 0) >= DEOPT_MARK;
        if (marked) unforced++;
        if (closures.some((c) => isOptimizedTier(c.tier))) {
          this.done.add(f);
          continue;
        }
        this.done.delete(f); // deoptimized since the last check
        if (marked) {
          // Not waited for either: V8 optimizes it when its own feedback says so, maybe after ready.
          leftToV8++;
          continue;
        }
        const tries = this.attempts.get(f) ?? 0;
        if (tries >= MAX_ATTEMPTS) {
          givenUp++;
          continue;
        }
        if (ran.length === 0) {
          // No feedback yet: the replay has not reached it (so far).
          const steps = (this.lazySteps.get(f) ?? 0) + 1;
          this.lazySteps.set(f, steps);
          if (steps >= MAX_LAZY_STEPS) givenUp++;
          continue;
        }
        for (const c of waiting) n.optimizeOnNextCall(c.fn);
        this.attempts.set(f, tries + 1);
      }
    }
    const optimized = this.done.size;
    return { optimized, pending: this.functions.length - optimized - givenUp - leftToV8, givenUp, unforced, tiers };
  }
}
