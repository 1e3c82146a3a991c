import * as path from 'node:path';
import { readSymbols, type SymbolTable } from './cpp-symbols';
import { parseJsCodeName, v8Url, type NativeFrame, type NativeSample } from './native-sample';

/** V8's StateTag values that matter here (the same on V8 11.3–14.6). */
const VM_STATE_GC = 1;
const VM_STATE_IDLE = 8;

/** One inlined call: the function (index into the code's inlined list), where it was called, and by which inlining (-1: the code's own function). */
export interface Inlining {
  fn: number;
  position: number;
  parent: number;
}

interface CodeEntry {
  start: number;
  size: number;
  frame: NativeFrame;
  /** From code-source-info: the script and the pc-offset → source-offset table, parsed on first use. */
  source?: { scriptId: number; raw: string; inlining: string; fns: string; table?: Int32Array; inlined?: Inlining[] };
}

/**
 * Reads a V8 tick log (`node --prof`) a line at a time, the way 0x and `--prof-process` do:
 * code-creation/move/delete events keep a map of generated code, shared-library lines bring the
 * node binary's C++ symbols (via nm), and each `tick` becomes a sample, leaf first.
 */
export class TickLogParser {
  /** Generated code (JS functions, builtins, bytecode handlers, regexps), sorted by start. */
  private readonly code: CodeEntry[] = [];
  private readonly libraries: { start: number; end: number; name: string; symbols: SymbolTable | null }[] = [];
  private readonly symbolCache = new Map<string, SymbolTable | null>();
  /** Line starts of each script (script-source events), to turn source offsets into lines. */
  private readonly scripts = new Map<number, Int32Array>();
  private readonly scriptByUrl = new Map<string, number>();
  /** JS functions by SharedFunctionInfo address, to name the functions V8 inlined. */
  private readonly functions = new Map<number, NativeFrame>();
  /** Libraries whose symbols could not be read, for one message. */
  readonly unsymbolized = new Set<string>();

  constructor(
    private readonly onSample: (sample: NativeSample) => void,
    private readonly loadSymbols: (binary: string, slide: number) => SymbolTable | null = readSymbols,
  ) {}

  line(text: string): void {
    const comma = text.indexOf(',');
    if (comma < 0) return;
    const kind = text.slice(0, comma);
    if (kind === 'tick') this.tick(text.split(','));
    else if (kind === 'code-creation') this.codeCreation(text.split(','));
    else if (kind === 'code-move') this.codeMove(text.split(','));
    else if (kind === 'code-delete') this.remove(Number(text.split(',')[1]));
    else if (kind === 'shared-library') this.sharedLibrary(text.split(','));
    else if (kind === 'code-source-info') this.codeSourceInfo(text.split(','));
    else if (kind === 'script-source') this.scriptSource(text);
    else if (kind === 'sfi-move') this.sfiMove(text.split(','));
  }

  private codeSourceInfo(f: string[]): void {
    // code-source-info,<code start>,<script id>,<fn start>,<fn end>,<C<pc offset>O<source offset>...>,<inlining>,<inlined fns>
    const at = this.indexOf(Number(f[1]));
    const entry = at >= 0 ? this.code[at] : undefined;
    if (!entry || entry.start !== Number(f[1]) || entry.frame.kind !== 'js') return;
    entry.source = { scriptId: Number(f[2]), raw: f[5] ?? '', inlining: f[6] ?? '', fns: f[7] ?? '' };
  }

  private scriptSource(text: string): void {
    // script-source,<id>,<url>,<source, escaped>: only where its lines start is kept.
    const first = text.indexOf(',');
    const second = text.indexOf(',', first + 1);
    const third = text.indexOf(',', second + 1);
    if (third < 0) return;
    const source = unescape(text.slice(third + 1));
    const starts = [0];
    for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) starts.push(i + 1);
    const id = Number(text.slice(first + 1, second));
    this.scripts.set(id, Int32Array.from(starts));
    this.scriptByUrl.set(v8Url(unescape(text.slice(second + 1, third))), id);
  }

  /**
   * The JavaScript frames at `address` inside optimized or baseline code, leaf first: the
   * functions V8 inlined there (from code-source-info's inlining table), then the code's own
   * function, each with its source line where the log says.
   */
  private jsFramesAt(entry: CodeEntry, address: number, isReturnAddress: boolean): NativeFrame[] {
    const src = entry.source;
    if (!src) return [entry.frame];
    src.table ??= positionTable(src.raw);
    src.inlined ??= inliningTable(src.inlining);
    // A return address points past its call: look up the call itself.
    const offset = address - entry.start - (isReturnAddress ? 1 : 0);
    const t = src.table;
    let at = -1;
    for (let i = 0; i + 2 < t.length && t[i]! <= offset; i += 3) at = i;
    if (at < 0) return [entry.frame];
    let position = t[at + 1]!;
    let inlining = t[at + 2]!;
    const frames: NativeFrame[] = [];
    const fns = src.fns.split('S').filter(Boolean).map(Number);
    for (let guard = 0; inlining >= 0 && guard < 64; guard++) {
      const inl = src.inlined[inlining];
      const fn = inl && this.functions.get(fns[inl.fn]!);
      if (!inl || !fn) break;
      // An inlined function runs as part of the code it was inlined into, in that code's tier.
      frames.push(withLine(inTier(fn, entry.frame.tier), this.lineOf(this.scriptByUrl.get(fn.url), position)));
      position = inl.position;
      inlining = inl.parent;
    }
    frames.push(withLine(entry.frame, this.lineOf(src.scriptId, position)));
    return frames;
  }

  private lineOf(scriptId: number | undefined, sourceOffset: number): number {
    const lines = scriptId === undefined ? undefined : this.scripts.get(scriptId);
    if (!lines || sourceOffset < 0) return 0;
    let lo = 0;
    let hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lines[mid]! <= sourceOffset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  private codeCreation(f: string[]): void {
    // code-creation,<type>,<kind>,<timestamp>,<start>,<size>,<name>[,<sfi>,<tier>]
    const type = f[1]!;
    const start = Number(f[4]);
    const size = Number(f[5]);
    const name = unescape(f[6] ?? '');
    if (!Number.isFinite(start) || !Number.isFinite(size)) return;
    let frame: NativeFrame | null = null;
    if (type === 'JS' || type === 'LazyCompile' || type === 'Function' || type === 'Script' || type === 'Eval') {
      frame = parseJsCodeName(name, f[8]);
      if (frame && f[7]) this.functions.set(Number(f[7]), frame);
    }
    if (!frame) {
      const label = type === 'Builtin' ? `Builtins_${name}` : type === 'RegExp' ? `RegExp: ${name}` : type === 'BytecodeHandler' ? `BytecodeHandler:${name}` : name || type;
      frame = { name: label, kind: 'native', url: 'node', line: 0, column: 0 };
    }
    this.remove(start);
    this.insert({ start, size, frame });
  }

  private codeMove(f: string[]): void {
    const from = Number(f[1]);
    const to = Number(f[2]);
    const at = this.indexOf(from);
    if (at < 0 || this.code[at]!.start !== from) return;
    const [entry] = this.code.splice(at, 1);
    this.remove(to);
    this.insert({ ...entry!, start: to });
  }

  private sfiMove(f: string[]): void {
    const fn = this.functions.get(Number(f[1]));
    if (!fn) return;
    this.functions.delete(Number(f[1]));
    this.functions.set(Number(f[2]), fn);
  }

  private sharedLibrary(f: string[]): void {
    // shared-library,<path>,<start>,<end>,<aslr slide>
    const file = unescape(f[1] ?? '');
    const start = Number(f[2]);
    const end = Number(f[3]);
    const slide = Number(f[4] ?? 0) || 0;
    if (!Number.isFinite(start) || !Number.isFinite(end)) return;
    const key = `${file}\u0000${slide}`;
    // Only the node binary is worth nm's time: V8 and Node live there; other libraries are named whole.
    if (!this.symbolCache.has(key)) this.symbolCache.set(key, isNodeBinary(file) ? this.loadSymbols(file, slide) : null);
    const symbols = this.symbolCache.get(key) ?? null;
    if (!symbols && isNodeBinary(file)) this.unsymbolized.add(file);
    this.libraries.push({ start, end, name: path.basename(file), symbols });
  }

  private tick(f: string[]): void {
    // tick,<pc>,<time>,<is external callback>,<tos or callback>,<vm state>,<frame pcs...>
    const vmState = Number(f[5]);
    if (vmState === VM_STATE_IDLE) return;
    const frames: NativeFrame[] = [];
    if (vmState === VM_STATE_GC) frames.push({ name: '(garbage collector)', kind: 'native', url: 'node', line: 0, column: 0 });
    const pc = Number(f[1]);
    frames.push(...this.resolve(pc, false));
    for (let i = 6; i < f.length; i++) {
      const address = Number(f[i]);
      if (!Number.isFinite(address) || address === 0) continue;
      frames.push(...this.resolve(address, true));
    }
    this.onSample({ frames, mainThread: true });
  }

  /** The frames at one address: one native frame, or a JS function and what V8 inlined into it. */
  private resolve(address: number, isReturnAddress: boolean): NativeFrame[] {
    const at = this.indexOf(address);
    if (at >= 0) {
      const entry = this.code[at]!;
      if (address < entry.start + entry.size) return entry.frame.kind === 'js' ? this.jsFramesAt(entry, address, isReturnAddress) : [entry.frame];
    }
    for (const lib of this.libraries) {
      if (address < lib.start || address >= lib.end) continue;
      const symbol = lib.symbols?.lookup(address);
      return [{ name: symbol ?? `[${lib.name}]`, kind: 'native', url: lib.name, line: 0, column: 0 }];
    }
    return [{ name: '[unknown]', kind: 'native', url: '', line: 0, column: 0 }];
  }

  /** Index of the last entry starting at or below `address`, or -1. */
  private indexOf(address: number): number {
    let lo = 0;
    let hi = this.code.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.code[mid]!.start <= address) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private insert(entry: CodeEntry): void {
    this.code.splice(this.indexOf(entry.start) + 1, 0, entry);
  }

  private remove(start: number): void {
    const at = this.indexOf(start);
    if (at >= 0 && this.code[at]!.start === start) this.code.splice(at, 1);
  }
}

/** `C0O23C5O128I0...` → [pc offset, source offset, inlining id or -1, ...], in pc order. */
function positionTable(raw: string): Int32Array {
  const out: number[] = [];
  const re = /C(\d+)O(\d+)(?:I(\d+))?/g;
  for (let m = re.exec(raw); m; m = re.exec(raw)) out.push(Number(m[1]), Number(m[2]), m[3] === undefined ? -1 : Number(m[3]));
  return Int32Array.from(out);
}

/** `F0O544F1O266I0` → inlined calls: function index, call position, parent inlining (-1: outermost). */
export function inliningTable(raw: string): Inlining[] {
  const out: Inlining[] = [];
  const re = /F(\d+)O(\d+)(?:I(\d+))?/g;
  for (let m = re.exec(raw); m; m = re.exec(raw)) out.push({ fn: Number(m[1]), position: Number(m[2]), parent: m[3] === undefined ? -1 : Number(m[3]) });
  return out;
}

function inTier(frame: NativeFrame, tier: string | undefined): NativeFrame {
  if (frame.tier === tier) return frame;
  const { tier: _, ...rest } = frame;
  return tier === undefined ? rest : { ...rest, tier };
}

function withLine(frame: NativeFrame, sourceLine: number): NativeFrame {
  return sourceLine ? { ...frame, sourceLine } : frame;
}

function isNodeBinary(file: string): boolean {
  return /(^|\/)node(js)?$/.test(file) || file === process.execPath;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };

/** V8's log escapes commas and control characters: \x2C, \n, \uXXXX. */
export function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|([nrt\\]))/g, (_, x, u, c) => (c ? ESCAPES[c]! : String.fromCharCode(parseInt(x ?? u, 16))));
}
