import type { Finding, FindingKind } from '../analysis/finding';
import { frameKey, type StackModel } from '../profile/stack-model';
import { CATEGORY_LABELS, type NativeCategory } from './categories';
import type { CostBreakdown, FunctionNativeCost, NativeProfile } from './native-model';

/** What the native frames measured for a finding's function. */
export interface NativeEvidence {
  source: 'perf' | 'v8-tick-log';
  /** Main-thread samples whose nearest JavaScript frame is the function (or, see inlinedInto, its caller). */
  samples: number;
  /**
   * Set when the function's own frames had fewer than half the samples the CPU profile gives it:
   * perf sees machine frames only, and V8 compiled the function into this caller, whose samples
   * are measured with the function's own.
   */
  inlinedInto?: string;
  /** Share of those samples in each category, 0–1. */
  function: CostBreakdown;
  /** Share of all main-thread samples in each category, 0–1. */
  program: CostBreakdown;
  /**
   * Whether the function's native frames show the cost the finding names (its confirming
   * categories at 5% or more of its samples); null when it has too few samples to say. Always
   * true for deopt-loop, which is made from V8's own deoptimization log.
   */
  confirmed: boolean | null;
}

/** Fewer samples than this in a function: no verdict either way. */
const MIN_SAMPLES_FOR_VERDICT = 30;
const CONFIRMING_SHARE = 0.05;
/**
 * A suspicion (a hot built-in call that may throw) is refuted when the whole main thread shows
 * (next to) no exception cost at all: under 0.1% of its samples, and under a tenth of the
 * suspicion's share. Not more: a built-in that throws late spends nearly all its time on the work
 * before the throw (JSON.stringify of a cyclic record measured 85% in JSON and 0.47% in exceptions
 * on Node 26; structuredClone 4.6% on Node 22), while the look-alikes that never throw measured
 * 0 or 1 sample. The whole thread, not the function's own frames: a built-in written in JavaScript
 * (`new URL`, `atob`) throws from Node's own functions, which perf sees as the nearest JavaScript
 * frame.
 */
const REFUTING_FRACTION = 0.1;
const REFUTING_SHARE = 0.001;
/** Two samples or fewer are noise whatever the run's length (one stray sample was 0.115% of a short run on Node 26). */
const REFUTING_SAMPLES = 2;
const MIN_SAMPLES_FOR_PROGRAM_VERDICT = 200;

/** The native categories that confirm (or not) each kind of finding. */
export const CONFIRMING: Record<FindingKind, NativeCategory[]> = {
  'exception-control-flow': ['exceptions'],
  'string-interning': ['string-table', 'megamorphic-ic'],
  'gc-pressure': ['gc'],
  'sync-io': ['kernel'],
  // Made from V8's own deoptimization log: the categories only show where the deoptimizer and the
  // compilers ran (the loop's main cost, unoptimized code, is JavaScript of its own).
  'deopt-loop': ['deopt', 'compiler'],
};

/**
 * Adds native evidence to findings made from the JavaScript-level model: the measured share of
 * each cost category in the finding's function, matched by name and position (V8 names a
 * function the same way in CPU profiles, perf maps and tick logs), and re-points `frame` at the
 * native model, whose flame graph is the one drawn.
 */
export function withNativeEvidence(findings: Finding[], jsModel: StackModel, native: NativeProfile, source: NativeEvidence['source']): Finding[] {
  const byKey = new Map(native.functions.map((f) => [frameKey({ name: f.name, url: f.url, line: f.line, column: f.column, kind: 'js' }), f]));
  const nativeFrames = new Map(native.model.frames.map((f, i) => [frameKey(f), i]));
  const program = shares(native.totals, native.mainSamples);
  const out = findings.map((finding) => {
    const jsFrame = jsModel.frames[finding.frame];
    const key = jsFrame ? frameKey({ ...jsFrame, kind: 'js' }) : '';
    let fn = byKey.get(key);
    let inlinedInto: string | undefined;
    // perf sees machine frames: where V8 inlined the function (into an OSR'd loop, say), its cost
    // shows in the caller's frame. Fewer than half the samples the CPU profile gives it: add the caller's.
    const expected = jsFrame ? (selfSamples(jsModel, finding.frame) / (jsModel.totalSamples || 1)) * native.mainSamples : 0;
    if (jsFrame && (!fn || fn.samples < expected / 2)) {
      const into: string[] = [];
      // Up the heaviest path: a function inlined into a function inlined into an OSR'd loop.
      for (const caller of measuredCallers(jsModel, finding.frame, (k) => byKey.has(k))) {
        fn = combine(fn, byKey.get(caller.key)!);
        into.push(caller.name);
        if (fn.samples >= expected / 2) break;
      }
      if (into.length) inlinedInto = into.join(' and ');
    }
    const own = fn ? shares(fn.categories, fn.samples) : {};
    const confirming = CONFIRMING[finding.kind].reduce((n, c) => n + (own[c] ?? 0), 0);
    const confirmed = finding.kind === 'deopt-loop' ? true : (fn?.samples ?? 0) < MIN_SAMPLES_FOR_VERDICT ? null : confirming >= CONFIRMING_SHARE;
    const evidence: NativeEvidence = { source, samples: fn?.samples ?? 0, function: own, program, confirmed };
    if (inlinedInto !== undefined) evidence.inlinedInto = inlinedInto;
    const merged: Finding = {
      ...finding,
      evidence: `${finding.evidence} ${describe(finding, evidence, native.mainSamples)}`,
      native: evidence,
      frame: nativeFrames.get(key) ?? (finding.kind === 'gc-pressure' ? finding.frame : -1),
    };
    // What the JavaScript profile could only suspect, the native frames have now measured: a
    // suspicion they confirm loses its mark, one they refute is no finding at all.
    if (confirmed === true) delete merged.confirmed;
    const programSamples = CONFIRMING[finding.kind].reduce((n, c) => n + (native.totals[c] ?? 0), 0);
    const programShare = programSamples / (native.mainSamples || 1);
    const refuted =
      native.mainSamples >= MIN_SAMPLES_FOR_PROGRAM_VERDICT &&
      (programSamples <= REFUTING_SAMPLES || programShare < Math.min(REFUTING_SHARE, finding.share * REFUTING_FRACTION));
    return finding.confirmed === false && refuted ? null : merged;
  });
  // What the native frames contradict goes after what they confirm (sort is stable: share order stays).
  return out
    .filter((f): f is Finding => f !== null)
    .sort((a, b) => Number(a.native?.confirmed === false) - Number(b.native?.confirmed === false));
}

function selfSamples(model: StackModel, frame: number): number {
  let n = 0;
  for (const node of model.nodes) if (node.frame === frame) n += node.self;
  return n;
}

function combine(a: FunctionNativeCost | undefined, b: FunctionNativeCost): FunctionNativeCost {
  if (!a) return b;
  const categories: CostBreakdown = { ...a.categories };
  for (const [k, v] of Object.entries(b.categories)) categories[k as NativeCategory] = (categories[k as NativeCategory] ?? 0) + v!;
  return { ...a, samples: a.samples + b.samples, unoptimized: a.unoptimized + b.unoptimized, categories };
}

/** The callers, nearest first on the function's heaviest path, that the native samples saw as frames of their own. */
function measuredCallers(model: StackModel, frame: number, measured: (key: string) => boolean): { key: string; name: string }[] {
  const out: { key: string; name: string }[] = [];
  let heaviest = -1;
  for (let i = 1; i < model.nodes.length; i++) {
    const n = model.nodes[i]!;
    if (n.frame === frame && (heaviest < 0 || n.self > model.nodes[heaviest]!.self)) heaviest = i;
  }
  for (let p = heaviest < 0 ? -1 : model.nodes[heaviest]!.parent; p > 0; p = model.nodes[p]!.parent) {
    const f = model.frames[model.nodes[p]!.frame]!;
    const key = frameKey({ ...f, kind: 'js' });
    if (f.kind === 'js' && measured(key)) out.push({ key, name: f.name || '(anonymous)' });
  }
  return out;
}

function shares(counts: CostBreakdown, total: number): CostBreakdown {
  const out: CostBreakdown = {};
  for (const [k, v] of Object.entries(counts)) out[k as NativeCategory] = total ? Math.round((v / total) * 1e4) / 1e4 : 0;
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

function describe(finding: Finding, e: NativeEvidence, mainSamples: number): string {
  const tool = e.source === 'perf' ? 'perf' : "V8's tick log";
  const cats = CONFIRMING[finding.kind];
  const label = (c: NativeCategory) => CATEGORY_LABELS[c].replace(/ \(.*\)$/, '');
  const program = cats.map((c) => `${pct(e.program[c] ?? 0)} in ${label(c)}`).join(', ');
  if (e.samples === 0) return `Native frames (${tool}, ${mainSamples} main-thread samples): ${program} of all CPU; none sampled with ${finding.function} as the nearest JavaScript frame.`;
  const own = cats.map((c) => `${pct(e.function[c] ?? 0)} ${label(c)}`).join(', ');
  const whose = e.inlinedInto !== undefined ? `${finding.function} or ${e.inlinedInto} (which V8 inlined it into)` : finding.function;
  const verdict = e.confirmed === false ? ' do not confirm this' : '';
  return `Native frames (${tool})${verdict}: of the ${e.samples} samples with ${whose} as the nearest JavaScript frame, ${own}; of all ${mainSamples} main-thread samples, ${program}.`;
}
