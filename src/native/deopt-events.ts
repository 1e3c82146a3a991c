import { isOptimizedCode, parseJsCodeName, type NativeFrame } from './native-sample';
import { inliningTable, unescape as unescapeLog, type Inlining } from './tick-log';

/**
 * V8 leaves optimized code for these reasons without invalidating it: Maglev's code steps aside for
 * TurboFan's on-stack replacement (V8 calls them deoptimizations without code invalidation). They
 * are tier-up, not a deopt, and top-level loops on Node 24 and 26 log dozens of them.
 */
const TIER_UP_REASONS = new Set(['prepare for on stack replacement (OSR)', "exit from OSR'd inner loop"]);

export interface ReasonCount {
  reason: string;
  count: number;
}

/** Where an eager deoptimization's failed check was: the function holding it (maybe inlined) and the line. */
export interface DeoptSite {
  function: string;
  url: string;
  /** 1-based source line of the check. */
  line: number;
  count: number;
}

/** What V8 did with one function's optimized code over the run. */
export interface FunctionDeopts {
  name: string;
  /**
   * As the stack model names the function: a file:// URL or node: specifier, 1-based position;
   * '' and 0 when only the optimization trace named it (by name alone).
   */
  url: string;
  line: number;
  column: number;
  /** Optimized code objects V8 installed for the function (Maglev and TurboFan, on-stack replacement included). */
  optimized: number;
  /**
   * Of those, how many V8 threw away again (deoptimized), tier-up steps not counted. Without
   * code events in the log (`deoptsLogged` false): the installs that replaced earlier code of the
   * same tier, which V8 must have thrown away first.
   */
  deoptimized: number;
  /**
   * Optimizing compilations V8 finished but threw away before installing them (from the
   * optimization trace), on-stack replacement left out.
   */
  aborted: number;
  /** Why, for the deoptimized and the aborted code together, most frequent first. */
  reasons: ReasonCount[];
  /** Where the eager deoptimizations fired, most frequent first (lazy ones have no site of their own). */
  sites: DeoptSite[];
  /** V8's log time (microseconds since V8 started) of the first and last deoptimization; 0 when there was none. */
  firstMicros: number;
  lastMicros: number;
  /**
   * Milliseconds V8's optimizing compilers spent on the function (all three phases the trace
   * times, on-stack replacement and thrown-away compilations included), mostly on background
   * threads that a main-thread profile never samples: where Maglev re-optimizes within
   * milliseconds (V8 12.x and later), most of a deopt loop's cost is here.
   */
  compileMs: number;
}

export interface DeoptSummary {
  /** Every function V8 deoptimized or gave up optimizing at least once, the most thrown away first. */
  functions: FunctionDeopts[];
  /**
   * False when V8's log could not hold deoptimizations: under perf the agent's CPU profile runs
   * beside it, and V8 then logs no code events at all (measured on 11.3–14.6): the counts come
   * from the optimization trace alone, functions are known by their name only, and `deoptimized`
   * is inferred from re-installs, without reasons.
   */
  deoptsLogged: boolean;
}

interface FunctionState {
  frame: NativeFrame;
  optimized: number;
  deoptimized: number;
  aborted: number;
  reasons: Map<string, number>;
  sites: Map<string, DeoptSite>;
  firstMicros: number;
  lastMicros: number;
  compileMs: number;
}

interface OptimizedCode {
  fn: FunctionState;
  /** Set once V8 has thrown this code away, so that its later lazy exits are not counted again. */
  invalidated: boolean;
  /** From code-source-info: what V8 inlined into it, and the SharedFunctionInfo of each inlined function. */
  inlined?: Inlining[];
  inlinedSfis?: number[];
}

/** What the optimization trace says about one function (named by its SharedFunctionInfo then). */
interface Traced {
  name: string;
  sfi: number;
  /** Compilations installed, by target (`TURBOFAN`, `TURBOFAN_JS`, `MAGLEV`), on-stack replacement left out. */
  installed: Map<string, number>;
  /** Compilations thrown away before install, by reason. */
  aborted: Map<string, number>;
  /** The trace's `took a, b, c ms` of every compilation of it, added up. */
  compileMs: number;
}

/** The reason given for code V8 replaced when its log could not say why it threw the previous code away. */
export const REPLACED = 'replaced after V8 threw it away (the reason is not logged under perf)';

const JS_CODE_TYPES = new Set(['JS', 'LazyCompile', 'Function', 'Script', 'Eval']);

// [aborted optimizing 0x…f1 <JSFunction tax (sfi = 0x…d1)> (target TURBOFAN) because: Bailed out due to dependency change - took 0.018, 70.476, 0.042 ms]
// [aborted compiling 0x…d9 <JSFunction invoiceTotal (sfi = 0x…d9)> (target MAGLEV) OSR because: …]
const ABORTED = /^\[aborted (?:optimizing|compiling) 0x[0-9a-f]+ <JSFunction(?: (.*?))? \(sfi = 0x([0-9a-f]+)\)> \(target (\w+)\)( OSR)? because: (.*?)(?: - took [^\]]*)?\]\s*$/;
// [completed compiling 0x…19 <JSFunction subtotal (sfi = 0x…b9)> (target TURBOFAN) - took 0.027, 15.699, 0.052 ms]
// (a compilation that was installed; one thrown away prints `aborted` instead)
const COMPLETED = /^\[completed compiling 0x[0-9a-f]+ <JSFunction(?: (.*?))? \(sfi = 0x([0-9a-f]+)\)> \(target (\w+)\)( OSR)?/;
// <file:line:column>, the first position of a code-deopt location (the innermost, when inlined).
const FIRST_POSITION = /^<(.*?):(\d+):(\d+)>/;
// `- took 0.027, 15.699, 0.052 ms`: preparing (main thread), compiling (a background thread for a
// concurrent compile), finalizing (main thread). The same three on V8 11.3 to 14.6.
const TOOK = / - took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/;

/**
 * Reads what V8 says about its optimized code, for `deopt-loop`: from V8's log (`--log-deopt` with
 * code events: `--prof`, or `--log-code`), which optimized code it created for which function and
 * which of it it deoptimized, why and where; and from its optimization trace (`--trace-opt`, sent
 * to a file), the compilations it threw away before installing them. Lines come one at a time,
 * in the order V8 wrote them.
 */
export class DeoptEvents {
  /** Optimized code by start address (only optimized code can be deoptimized). */
  private readonly code = new Map<number, OptimizedCode>();
  /** SharedFunctionInfo address → function, as it is now (for inlined functions). */
  private readonly sfis = new Map<number, NativeFrame>();
  /** Every address a SharedFunctionInfo had, → its function: the trace names functions by the address they had then. */
  private readonly sfiEver = new Map<number, NativeFrame>();
  private readonly functions = new Map<string, FunctionState>();
  private readonly traced = new Map<string, Traced>();

  /** One line of V8's log. */
  logLine(text: string): void {
    const comma = text.indexOf(',');
    if (comma < 0) return;
    const kind = text.slice(0, comma);
    if (kind === 'code-creation') this.codeCreation(text.split(','));
    else if (kind === 'code-deopt') this.codeDeopt(text.split(','));
    else if (kind === 'code-move') this.codeMove(text.split(','));
    else if (kind === 'code-delete') this.code.delete(Number(text.split(',')[1]));
    else if (kind === 'code-source-info') this.codeSourceInfo(text.split(','));
    else if (kind === 'sfi-move') this.sfiMove(text.split(','));
  }

  /** One line of V8's code trace (`--trace-opt`, `--redirect-code-traces-to`). */
  traceLine(text: string): void {
    // On-stack replacement compiles one running loop: V8 retrying it, or replacing Maglev's OSR
    // code as the loop exits and comes back, is tier-up of a long loop, not a function optimized
    // again and again (a module's top-level loop does it dozens of times on Node 24 and 26).
    const aborted = ABORTED.exec(text);
    const took = TOOK.exec(text);
    const ms = took ? Number(took[1]) + Number(took[2]) + Number(took[3]) : 0;
    if (aborted) {
      // Compiling time counts for on-stack replacement too: a loop that deoptimizes is compiled again.
      if (ms) this.tracedFor(aborted[1] ?? '', aborted[2]!).compileMs += ms;
      if (aborted[4]) return;
      const t = this.tracedFor(aborted[1] ?? '', aborted[2]!);
      t.aborted.set(aborted[5]!, (t.aborted.get(aborted[5]!) ?? 0) + 1);
      return;
    }
    const completed = COMPLETED.exec(text);
    if (!completed) return;
    const t = this.tracedFor(completed[1] ?? '', completed[2]!);
    if (Number.isFinite(ms)) t.compileMs += ms;
    if (!completed[4]) t.installed.set(completed[3]!, (t.installed.get(completed[3]!) ?? 0) + 1);
  }

  /** `deoptsLogged`: whether the log could hold code and deoptimization events (see DeoptSummary). */
  result(deoptsLogged = true): DeoptSummary {
    // Functions whose optimized code the log saw (under perf: outside the CPU profile's window).
    const inLog = new Set([...this.functions.values()].filter((fn) => fn.optimized > 0));
    for (const t of this.traced.values()) {
      // The trace prints tagged pointers (the address + 1). Without code events in the log (under
      // perf), a function is known by its name only: url '' and line 0, for the report to resolve.
      const frame = this.sfiEver.get(t.sfi - 1) ?? this.sfiEver.get(t.sfi) ?? this.uniqueByName(t.name) ?? { name: t.name, kind: 'js', url: '', line: 0, column: 0 };
      const fn = this.state(frame);
      fn.compileMs += t.compileMs;
      for (const [reason, n] of t.aborted) {
        fn.aborted += n;
        fn.reasons.set(reason, (fn.reasons.get(reason) ?? 0) + n);
      }
      if (deoptsLogged || inLog.has(fn)) continue;
      // No code events in the log: each installed compilation of a tier beyond the first
      // replaced code V8 had thrown away (V8 does not optimize a function whose code is valid).
      for (const n of t.installed.values()) {
        fn.optimized += n;
        fn.deoptimized += n - 1;
        if (n > 1) fn.reasons.set(REPLACED, (fn.reasons.get(REPLACED) ?? 0) + n - 1);
      }
    }
    this.traced.clear();
    const functions: FunctionDeopts[] = [];
    for (const fn of this.functions.values()) {
      if (fn.deoptimized + fn.aborted === 0) continue;
      const { name, url, line, column } = fn.frame;
      functions.push({
        name,
        url,
        line,
        column,
        optimized: fn.optimized,
        deoptimized: fn.deoptimized,
        aborted: fn.aborted,
        reasons: [...fn.reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
        sites: [...fn.sites.values()].sort((a, b) => b.count - a.count),
        firstMicros: fn.firstMicros,
        lastMicros: fn.lastMicros,
        compileMs: Math.round(fn.compileMs * 1000) / 1000,
      });
    }
    return { functions: functions.sort((a, b) => b.deoptimized + b.aborted - (a.deoptimized + a.aborted)), deoptsLogged };
  }

  private codeCreation(f: string[]): void {
    // code-creation,<type>,<kind>,<timestamp>,<start>,<size>,<name>[,<sfi>,<tier>]
    const start = Number(f[4]);
    this.code.delete(start);
    if (!JS_CODE_TYPES.has(f[1]!)) return;
    const frame = parseJsCodeName(unescapeLog(f[6] ?? ''));
    if (!frame) return;
    if (f[7]) {
      const sfi = Number(f[7]);
      this.sfis.set(sfi, frame);
      this.sfiEver.set(sfi, frame);
    }
    if (!isOptimizedCode(f[8])) return;
    const fn = this.state(frame);
    fn.optimized++;
    this.code.set(start, { fn, invalidated: false });
  }

  private codeDeopt(f: string[]): void {
    // code-deopt,<timestamp>,<code size>,<code start>,<inlining id>,<script offset>,<kind>,<location>,<reason>
    const reason = unescapeLog(f.slice(8).join(','));
    if (TIER_UP_REASONS.has(reason)) return;
    const code = this.code.get(Number(f[3]));
    // Lazy exits of frames still running code that was already thrown away come after it: counted once.
    if (!code || code.invalidated) return;
    code.invalidated = true;
    const fn = code.fn;
    const micros = Number(f[1]) || 0;
    fn.deoptimized++;
    fn.reasons.set(reason, (fn.reasons.get(reason) ?? 0) + 1);
    if (!fn.firstMicros) fn.firstMicros = micros;
    fn.lastMicros = micros;
    // An eager deoptimization fires at a check in the code; a lazy one (a dependency that changed)
    // has the function's own position as its location.
    const kind = f[6] ?? '';
    if (!kind.startsWith('deopt-eager') && !kind.startsWith('deopt-soft')) return;
    const position = FIRST_POSITION.exec(unescapeLog(f[7] ?? ''));
    if (!position) return;
    const holder = this.inlinedFunction(code, Number(f[4])) ?? fn.frame;
    const key = `${holder.name}\u0000${holder.url}\u0000${position[2]}`;
    const site = fn.sites.get(key) ?? { function: holder.name, url: holder.url, line: Number(position[2]), count: 0 };
    site.count++;
    fn.sites.set(key, site);
  }

  private inlinedFunction(code: OptimizedCode, inliningId: number): NativeFrame | undefined {
    if (!(inliningId >= 0) || !code.inlined || !code.inlinedSfis) return undefined;
    const inl = code.inlined[inliningId];
    const sfi = inl && code.inlinedSfis[inl.fn];
    return sfi === undefined ? undefined : this.sfis.get(sfi);
  }

  private codeMove(f: string[]): void {
    const code = this.code.get(Number(f[1]));
    if (!code) return;
    this.code.delete(Number(f[1]));
    this.code.set(Number(f[2]), code);
  }

  private codeSourceInfo(f: string[]): void {
    // code-source-info,<code start>,<script id>,<fn start>,<fn end>,<positions>,<inlining>,<inlined SFIs>
    const code = this.code.get(Number(f[1]));
    if (!code) return;
    code.inlined = inliningTable(f[6] ?? '');
    code.inlinedSfis = (f[7] ?? '').split('S').filter(Boolean).map(Number);
  }

  private sfiMove(f: string[]): void {
    const frame = this.sfis.get(Number(f[1]));
    if (!frame) return;
    this.sfis.delete(Number(f[1]));
    this.sfis.set(Number(f[2]), frame);
    this.sfiEver.set(Number(f[2]), frame);
  }

  /** The one function of that name the log created code for; undefined when none or several. */
  private tracedFor(name: string, sfiHex: string): Traced {
    const key = `${name}\u0000${sfiHex}`;
    let t = this.traced.get(key);
    if (!t) this.traced.set(key, (t = { name, sfi: parseInt(sfiHex, 16), installed: new Map(), aborted: new Map(), compileMs: 0 }));
    return t;
  }

  private uniqueByName(name: string): NativeFrame | undefined {
    let found: NativeFrame | undefined;
    for (const frame of this.sfiEver.values()) {
      if (frame.name !== name || frame === found) continue;
      if (found && (found.url !== frame.url || found.line !== frame.line || found.column !== frame.column)) return undefined;
      found = frame;
    }
    return found;
  }

  private state(frame: NativeFrame): FunctionState {
    const key = `${frame.name}\u0000${frame.url}\u0000${frame.line}\u0000${frame.column}`;
    let fn = this.functions.get(key);
    if (!fn) {
      fn = { frame: { name: frame.name, kind: 'js', url: frame.url, line: frame.line, column: frame.column }, optimized: 0, deoptimized: 0, aborted: 0, reasons: new Map(), sites: new Map(), firstMicros: 0, lastMicros: 0, compileMs: 0 };
      this.functions.set(key, fn);
    }
    return fn;
  }
}

/**
 * Gives a position to the functions the optimization trace named by name alone (under perf): the
 * one JavaScript function of that name among `frames` (the profile's); left as they are when
 * there is none or several.
 */
export function placeByName(summary: DeoptSummary, frames: readonly { name: string; url: string; line: number; column: number; kind: string }[]): DeoptSummary {
  if (summary.functions.every((d) => d.url)) return summary;
  const byName = new Map<string, { url: string; line: number; column: number } | null>();
  for (const f of frames) {
    if (f.kind !== 'js' || !f.url || !f.name) continue;
    const seen = byName.get(f.name);
    if (seen === undefined) byName.set(f.name, { url: f.url, line: f.line, column: f.column });
    else if (seen && (seen.url !== f.url || seen.line !== f.line || seen.column !== f.column)) byName.set(f.name, null);
  }
  return {
    ...summary,
    functions: summary.functions.map((d) => {
      const at = d.url ? null : byName.get(d.name);
      return at ? { ...d, ...at } : d;
    }),
  };
}
