import { CATEGORY_LABELS, type NativeCategory } from './categories';
import type { NativeProfile } from './native-model';

export interface NativeSummary {
  source: 'perf' | 'v8-tick-log';
  mainSamples: number;
  otherThreadSamples: number;
  /** Where the main thread's samples went, biggest first; 'js' is JavaScript's own code. */
  categories: { category: NativeCategory | 'js'; label: string; samples: number; share: number }[];
  /** The functions with the most main-thread samples, each with its categories' shares. */
  functions: { function: string; where: string; samples: number; share: number; categories: Record<string, number> }[];
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** native.json: the category totals and the top functions' breakdowns, plain data. */
export function nativeSummary(profile: NativeProfile, source: NativeSummary['source'], where: (url: string, line: number) => string, top = 30): NativeSummary {
  const total = profile.mainSamples || 1;
  return {
    source,
    mainSamples: profile.mainSamples,
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
  };
}
