import { CATEGORY_LABELS, type NativeCategory } from './categories';
import type { DeoptSummary } from './deopt-events';
import type { NativeProfile } from './native-model';

export interface NativeSummary {
  source: 'perf' | 'v8-tick-log';
  mainSamples: number;
  /** Time between two samples, in microseconds. */
  intervalMicros: number;
  otherThreadSamples: number;
  /** Where the main thread's samples went, biggest first; 'js' is JavaScript's own code. */
  categories: { category: NativeCategory | 'js'; label: string; samples: number; share: number }[];
  /** The functions with the most main-thread samples, each with its categories' shares. */
  functions: { function: string; where: string; samples: number; share: number; categories: Record<string, number> }[];
  /**
   * The functions whose optimized code V8 threw away most (deoptimized, or discarded before it was
   * installed), with why; null when V8 was not asked (a command that is not node under perf).
   */
  deopts: { function: string; where: string; optimized: number; deoptimized: number; aborted: number; unoptimizedSamples: number; compileMs: number; reasons: Record<string, number> }[] | null;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** native.json: the category totals and the top functions' breakdowns, plain data. */
export function nativeSummary(
  profile: NativeProfile,
  source: NativeSummary['source'],
  where: (url: string, line: number) => string,
  deopts: DeoptSummary | null = null,
  top = 30,
): NativeSummary {
  const total = profile.mainSamples || 1;
  const unoptimized = new Map(profile.functions.map((f) => [`${f.name}\u0000${f.url}\u0000${f.line}\u0000${f.column}`, f.unoptimized]));
  return {
    source,
    mainSamples: profile.mainSamples,
    intervalMicros: profile.intervalMicros,
    otherThreadSamples: profile.otherSamples,
    categories: Object.entries(profile.totals)
      .map(([category, samples]) => ({
        category: category as NativeCategory | 'js',
        label: category === 'js' ? 'JavaScript (own code)' : CATEGORY_LABELS[category as NativeCategory],
        samples: samples!,
        share: round(samples! / total),
      }))
      .sort((a, b) => b.samples - a.samples),
    functions: profile.functions.slice(0, top).map((f) => ({
      function: f.name || '(anonymous)',
      where: f.url ? where(f.url, f.line) : '',
      samples: f.samples,
      share: round(f.samples / total),
      categories: Object.fromEntries(
        Object.entries(f.categories)
          .sort((a, b) => b[1]! - a[1]!)
          .map(([c, n]) => [c, round(n! / f.samples)]),
      ),
    })),
    deopts: deopts
      ? deopts.functions.slice(0, top).map((d) => ({
          function: d.name || '(anonymous)',
          where: d.url ? where(d.url, d.line) : '',
          optimized: d.optimized,
          deoptimized: d.deoptimized,
          aborted: d.aborted,
          unoptimizedSamples: unoptimized.get(`${d.name}\u0000${d.url}\u0000${d.line}\u0000${d.column}`) ?? 0,
          compileMs: d.compileMs,
          reasons: Object.fromEntries(d.reasons.map((r) => [r.reason, r.count])),
        }))
      : null,
  };
}
