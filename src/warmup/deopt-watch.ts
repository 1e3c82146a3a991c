import type { HotFunction } from '../profile/schema';
import type { IndexedFunction } from './function-index';
import { isOptimizedTier, type Natives } from './v8-natives';

/** A hot function that lost its optimized code under real traffic after the warm-up optimized it. */
export interface DeoptSeen {
  name: string;
  file: string;
  line: number;
  column: number;
  /** Checks at which it was found unoptimized after having been optimized at the check before. */
  times: number;
}

export interface DeoptWatch {
  stop(): void;
}

export interface DeoptWatchOptions {
  /** How long to watch after ready, in milliseconds. */
  forMs: number;
  /** Time between two checks, in milliseconds. */
  everyMs: number;
  /** Called with the whole list each time it grows. */
  onDeopt(seen: DeoptSeen[]): void;
  /** A check failed (natives gone, see below): watching stops. */
  onError(error: unknown): void;
  onEnd?(): void;
}

/**
 * After ready, looks at the hot functions the warm-up optimized, every `everyMs` for `forMs`: one
 * that is found without optimized code after a check that found it optimized was deoptimized by
 * real traffic, whose types the replay did not show. It is reported (`/status`, and the next
 * recording marks it, so the next warm-up leaves it to V8's own tier-up, on real feedback).
 *
 * Only reads tiers, with the helpers made while natives syntax was on: they keep working after
 * the flag goes off (docs/v8.md), and a helper V8 flushed throws, which ends the watch. Checks
 * are a few native calls per function (microseconds for a hot set of 200), on an unref'd timer.
 * A deoptimization followed by a re-optimization between two checks is not seen: the watch
 * finds functions that stay unoptimized for a while, the costly case.
 */
export function watchDeopts(functions: IndexedFunction[], natives: Pick<Natives, 'tier'>, options: DeoptWatchOptions): DeoptWatch {
  // Read at the first check, not here: a throwing helper is the checks' error to handle.
  let watched = functions.map((f) => ({ f, optimized: null as boolean | null, times: 0 }));
  const started = Date.now();
  const seen = () =>
    watched
      .filter((w) => w.times > 0)
      .map((w) => ({ ...position(w.f.hot), times: w.times }))
      .sort((a, b) => b.times - a.times || a.file.localeCompare(b.file) || a.line - b.line);
  const end = () => {
    clearInterval(timer);
    // The closures are the app's: holding them past the watch would keep dead requests' alive.
    watched = [];
    options.onEnd?.();
  };
  const timer = setInterval(() => {
    try {
      let grew = false;
      for (const w of watched) {
        const now = isOptimized(w.f, natives);
        if (w.optimized === true && !now) {
          w.times++;
          grew = true;
        }
        w.optimized = now;
      }
      if (grew) options.onDeopt(seen());
    } catch (error) {
      end();
      options.onError(error);
      return;
    }
    if (Date.now() - started >= options.forMs) end();
  }, options.everyMs);
  timer.unref();
  return { stop: end };
}

function isOptimized(f: IndexedFunction, natives: Pick<Natives, 'tier'>): boolean {
  return f.fns.some((fn) => isOptimizedTier(natives.tier(fn)));
}

function position(f: HotFunction): Omit<DeoptSeen, 'times'> {
  return { name: f.name, file: f.file, line: f.line, column: f.column };
}
