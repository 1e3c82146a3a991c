import { frameKey } from '../../profile/stack-model';
import type { FunctionDeopts } from '../../native/deopt-events';
import type { Detector } from '../detector';
import type { Finding } from '../finding';
import { percent } from './hot-lines';

/**
 * Optimized code thrown away this many times (deoptimized after install, or discarded before it)
 * makes a loop. Argument types that change between phases, hidden classes that settle into a
 * polymorphic or megamorphic access and `arguments` use were measured at 1–6 on V8 11.3–14.6,
 * all in the first phases of the run: V8's feedback covers the new case and the code stays
 * (docs/v8.md, "Deoptimizations").
 */
export const MIN_THROWN_AWAY = 8;

/** Why V8 threw the code away, in families that share a cause and a remedy. */
const FAMILIES: { name: string; reasons: RegExp; advice: string }[] = [
  {
    name: 'shape',
    reasons: /prototype chain|code dependencies|dependency change|map was deprecated|field type|field representation|initial map|map stability|script context slot|const tracking let|context extension/i,
    advice:
      'The code relied on the shape of an object that keeps changing while the program runs, most often a class prototype or a shared ' +
      'object that gains (or redefines) properties: define methods and fields once, at start-up (in the class body or the constructor), and ' +
      'keep per-key or per-request data in a Map or on the instances, never on a prototype or a module-wide object.',
  },
  {
    name: 'global',
    reasons: /property cell/i,
    advice: 'A global the code reads (a property of globalThis or a top-level var of a script) keeps changing: keep the value in a module-scope const or pass it in as an argument.',
  },
  {
    name: 'map',
    reasons: /wrong map|deprecated map|wrong instance type|instance migration|not a JavaScript object|wrong name|wrong enum indices|not a detectable receiver/i,
    advice:
      'Objects of different hidden classes reach this code: create them with every property in the constructor (or one literal shape), ' +
      'always in the same order, and do not add or delete properties afterwards.',
  },
  {
    name: 'type',
    reasons: /not a Smi|not a Number|not a heap number|not a String|not a BigInt|BigInt too big|not int32|not unsigned|lost precision|overflow|minus zero|NaN|not a Symbol|Oddball|Boolean|division by zero|not an array index|AdditiveSafeInteger|^Smi$/i,
    advice: 'Keep the argument types monomorphic: pass this function values of one type at each parameter (numbers as numbers, never sometimes strings or undefined), converting at the boundary.',
  },
  {
    name: 'call',
    reasons: /wrong call target|wrong feedback cell|wrong value|Insufficient type feedback for (call|construct)/i,
    advice: 'A call site here meets a different function each time: call one function per site (create callbacks and closures once, not per call) so V8 can keep it inlined.',
  },
  {
    name: 'elements',
    reasons: /out of bounds|hole|array length|copy-on-write|grow elements|fast elements|detached/i,
    advice: 'Array accesses leave what the code was optimized for: read and write within the length, do not create holes (preallocate by pushing), and keep one element type per array.',
  },
];

const FALLBACK =
  'Find what changes between the runs of this function: its argument types, the shapes of its objects, or the prototypes and shared ' +
  'objects it relies on. Replace `arguments` with rest parameters, and keep each of those stable once the program has started.';

/**
 * Hot functions whose optimized code V8 throws away again and again, from the deoptimizations and
 * aborted compilations V8 logged (`preheat flame --native`). The share is what the loop is measured
 * to cost: the samples where the function ran unoptimized code (interpreter or baseline; its
 * short warm-up included) or was in the deoptimizer, plus the time V8's compilers spent on it
 * (the optimization trace times each compile), against the main thread's sampled time. On V8 12.x
 * and later Maglev re-optimizes within milliseconds: a loop of 36 compiles in a second ran
 * unoptimized for 0.3–1% of the samples but cost 100 ms of compiling. A CPU profile has no such counts, so
 * without `deopts` this finds nothing.
 */
export function deoptLoop(minShare: number): Detector {
  return (input) => {
    const deopts = input.deopts;
    if (!deopts || deopts.mainSamples === 0) return [];
    const costs = new Map(deopts.functions.map((f) => [frameKey({ name: f.name, url: f.url, line: f.line, column: f.column, kind: 'js' }), f]));
    const frames = new Map(input.model.frames.map((f, i) => [frameKey({ ...f, kind: 'js' }), i]));
    const findings: Finding[] = [];
    for (const d of deopts.summary.functions) {
      const thrown = d.deoptimized + d.aborted;
      if (thrown < MIN_THROWN_AWAY) continue;
      // Named by the optimization trace alone, and not found in the profile by that name.
      if (!d.url) continue;
      const key = frameKey({ name: d.name, url: d.url, line: d.line, column: d.column, kind: 'js' });
      const cost = costs.get(key);
      const unoptimized = cost?.unoptimized ?? 0;
      const inDeoptimizer = cost?.categories.deopt ?? 0;
      // Compiling it again and again runs mostly on V8's background threads, which the main
      // thread's samples never see: counted against the main thread's sampled time.
      const compileShare = deopts.mainMicros > 0 ? (d.compileMs * 1000) / deopts.mainMicros : 0;
      const share = (unoptimized + inDeoptimizer) / deopts.mainSamples + compileShare;
      if (share < minShare) continue;
      const where = input.sources.display(d.url, d.line);
      const name = d.name || '(anonymous)';
      findings.push({
        kind: 'deopt-loop',
        function: name,
        file: where.file,
        line: where.line,
        share,
        evidence: evidence(d, name, deopts.summary.deoptsLogged, share, compileShare, cost?.samples ?? 0, unoptimized, inDeoptimizer, input.sources.display),
        advice: advice(d),
        frame: frames.get(key) ?? -1,
      });
    }
    return findings;
  };
}

function evidence(
  d: FunctionDeopts,
  name: string,
  deoptsLogged: boolean,
  share: number,
  compileShare: number,
  samples: number,
  unoptimized: number,
  inDeoptimizer: number,
  display: (url: string, line: number) => { file: string; line: number },
): string {
  const times = (n: number) => `${n} time${n === 1 ? '' : 's'}`;
  const parts = [`V8 installed optimized code for ${name} ${times(d.optimized)}`];
  if (d.deoptimized) {
    parts.push(deoptsLogged ? ` and deoptimized it ${times(d.deoptimized)}` : `, ${d.deoptimized} of them replacing code it had thrown away`);
    if (d.deoptimized > 1 && d.lastMicros > d.firstMicros) parts.push(` (from ${seconds(d.firstMicros)} to ${seconds(d.lastMicros)} into the run)`);
  }
  if (d.aborted) parts.push(`; it threw away ${d.deoptimized ? 'another ' : ''}${d.aborted} optimized compilation${d.aborted === 1 ? '' : 's'} before installing ${d.aborted === 1 ? 'it' : 'them'}`);
  parts.push(`. Reasons: ${d.reasons.slice(0, 4).map((r) => `${r.reason} ×${r.count}`).join(', ')}${d.reasons.length > 4 ? ', …' : ''}.`);
  if (d.sites.length) {
    const sites = d.sites.slice(0, 3).map((s) => {
      const at = display(s.url, s.line);
      return `${s.function || '(anonymous)'} at ${at.file}:${at.line} ×${s.count}`;
    });
    parts.push(` The failing checks: ${sites.join(', ')}.`);
  }
  if (d.reasons.some((r) => r.reason === 'code dependencies')) parts.push(' (V8 11.3 and 12.4 give no cause beyond "code dependencies"; Node 24 and later name it.)');
  if (!deoptsLogged) {
    parts.push(
      " (Under perf V8's log holds no code events while the in-process profiler runs: these counts come from V8's optimization trace; " +
        '`--capture prof` gives every deoptimization and its reason.)',
    );
  }
  const ran = share - compileShare;
  parts.push(
    deoptsLogged
      ? ` It ran unoptimized (interpreter or baseline code) or in the deoptimizer for ${percent(ran)} of the CPU samples`
      : ` It ran baseline code or in the deoptimizer for ${percent(ran)} of the CPU samples (perf sees no interpreted frames)`,
  );
  parts.push(` (${unoptimized}${inDeoptimizer ? ` + ${inDeoptimizer}` : ''} of its ${samples}).`);
  if (d.compileMs > 0) {
    parts.push(
      ` V8's trace times its optimizing compiles of it at ${d.compileMs < 10 ? d.compileMs.toFixed(1) : Math.round(d.compileMs)} ms, mostly on background threads: ${percent(compileShare)} of the main thread's sampled time, ${percent(share)} in all.`,
    );
  }
  return parts.join('');
}

function seconds(micros: number): string {
  return `${(micros / 1e6).toFixed(1)} s`;
}

/** The advice of each family that holds at least a fifth of the thrown-away code, biggest first. */
function advice(d: FunctionDeopts): string {
  const total = d.reasons.reduce((n, r) => n + r.count, 0) || 1;
  const byFamily = new Map<string, number>();
  for (const r of d.reasons) {
    const family = FAMILIES.find((f) => f.reasons.test(r.reason))?.name ?? 'other';
    byFamily.set(family, (byFamily.get(family) ?? 0) + r.count);
  }
  const chosen = [...byFamily].filter(([, n]) => n / total >= 0.2).sort((a, b) => b[1] - a[1]);
  const texts = chosen.map(([name]) => FAMILIES.find((f) => f.name === name)?.advice ?? FALLBACK);
  return [...new Set(texts.length ? texts : [FALLBACK])].join(' ');
}
