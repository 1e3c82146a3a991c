import { pathToFileURL } from 'node:url';

/**
 * What both capture paths (Linux perf, V8's tick log) produce: one sample per tick, frames leaf
 * first, each either a JavaScript function (named by V8's code logger) or a native symbol.
 */
export interface NativeFrame {
  /** Function name for JS frames; the symbol for native ones (C++ parameters stripped). */
  name: string;
  kind: 'js' | 'native';
  /** JS frames: a file:// URL or node: specifier. Native frames: the library ('node', 'libc.so.6', '[kernel]'). */
  url: string;
  /** 1-based position of the function; 0 for native frames. */
  line: number;
  column: number;
  /** JS frames from a tick log: the source line the sample was on (or the call, for callers). */
  sourceLine?: number;
  /**
   * JS frames: the tier of the code the frame ran, as V8 marks it (`~` Ignition, `^` Sparkplug,
   * `+` Maglev, `*` TurboFan; V8 14 adds `o` before and `'` after it). Absent when not known.
   */
  tier?: string;
}

export interface NativeSample {
  /** Leaf first. */
  frames: NativeFrame[];
  /** False for samples from threads other than the JavaScript main thread (GC helpers, compilers, libuv). */
  mainThread: boolean;
}

export interface NativeCapture {
  samples: NativeSample[];
  /** How the samples were taken. */
  source: 'perf' | 'v8-tick-log';
  /** Microseconds between samples, for durations. */
  intervalMicros: number;
}

// The tier marker: ~ Ignition, ^ Sparkplug, + Maglev, * TurboFan; V8 14 adds `o` (OSR) before and
// `'` (context-specialized) after it. A name may begin with `o`, so `o` counts only before a marker.
const JS_SYMBOL = /^(?:JS|LazyCompile|Function|Script|Eval|InterpretedFunction):((?:o(?=[~^+*]))?[~^+*]?'?)(.*) (\S*):(\d+):(\d+)$/;

/**
 * Reads a JIT code name as V8's loggers write it into perf maps and tick logs,
 * `JS:*name /path/file.js:3:21` (or just `name url:line:col` from a tick log's code-creation);
 * null when it is not a JavaScript function.
 */
export function parseJsSymbol(symbol: string): NativeFrame | null {
  const m = JS_SYMBOL.exec(symbol);
  if (!m) return null;
  return jsFrame(m[2]!, m[3]!, Number(m[4]), Number(m[5]), m[1]);
}

/** `name url:line:col` as the tick log's code-creation events write it; `tier` is the event's tier field. */
export function parseJsCodeName(name: string, tier?: string): NativeFrame | null {
  const m = /^(.*) (\S*):(\d+):(\d+)$/.exec(name);
  return m ? jsFrame(m[1]!, m[2]!, Number(m[3]), Number(m[4]), tier) : null;
}

function jsFrame(name: string, where: string, line: number, column: number, tier?: string): NativeFrame {
  const frame: NativeFrame = { name: name.trim(), kind: 'js', url: v8Url(where), line, column };
  if (tier) frame.tier = tier;
  return frame;
}

/** Whether a tier marker names unoptimized code: the interpreter (`~`) or baseline code (`^`). */
export function isUnoptimizedCode(tier: string | undefined): boolean {
  return tier !== undefined && /^[~^]/.test(tier);
}

/** Whether a tier marker names optimized code: Maglev (`+`) or TurboFan (`*`), on-stack replacement (`o`) included. */
export function isOptimizedCode(tier: string | undefined): boolean {
  return tier !== undefined && /^o?[+*]/.test(tier);
}

/** V8 names CommonJS files by path and ES modules by URL; the stack model uses URLs for both. */
export function v8Url(where: string): string {
  if (where.startsWith('/')) return pathToFileURL(where).href;
  return where;
}

/**
 * `void v8::internal::Foo::Bar<int>(int, char const*) const` → `v8::internal::Foo::Bar<int>`: nm
 * prints return types and parameters, perf does not; both name a frame the same way here.
 */
export function stripParameters(symbol: string): string {
  let angle = 0;
  let paren = 0;
  let end = symbol.length;
  let lastSpace = -1;
  for (let i = 0; i < symbol.length; i++) {
    const c = symbol[i];
    if (c === '<') angle++;
    else if (c === '>' && symbol[i - 1] !== '-') angle = Math.max(0, angle - 1);
    else if (c === '(') {
      if (angle === 0 && paren === 0 && i > 0 && !symbol.startsWith('(anonymous namespace)', i) && !/operator$/.test(symbol.slice(0, i))) {
        end = i;
        break;
      }
      paren++;
    } else if (c === ')') paren = Math.max(0, paren - 1);
    else if (c === ' ' && angle === 0 && paren === 0 && !/operator$/.test(symbol.slice(0, i))) lastSpace = i;
  }
  return symbol.slice(lastSpace + 1, end);
}
