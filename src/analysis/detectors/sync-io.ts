import type { Detector } from '../detector';
import type { Finding } from '../finding';
import { percent } from './hot-lines';
import { ancestors, findAll, isFunction, syntaxIndex, type Node } from './syntax-index';

const SYNC_CALL = /^(readFileSync|writeFileSync|appendFileSync|existsSync|statSync|lstatSync|readdirSync|openSync|readSync|writeSync|closeSync|accessSync|mkdirSync|realpathSync|copyFileSync|renameSync|unlinkSync|rmSync|(gzip|gunzip|deflate|inflate|deflateRaw|inflateRaw|brotliCompress|brotliDecompress|unzip)Sync|pbkdf2Sync|scryptSync|randomFillSync|generateKeyPairSync|generateKeySync|generatePrimeSync|hkdfSync|execSync|execFileSync|spawnSync)$/;
/**
 * Frames of a module being loaded by another: synchronous reads under them are start-up, not a
 * hot path. The entry script's own top-level code also runs under Module._load and _compile (or
 * ESM's evaluate): a batch or CLI program's main loop lives there for as long as it runs, so those
 * frames alone do not make a call start-up; a `require` made by code does.
 */
const LOADING = /^(Module\.require|require|compileForInternalLoader|importModuleDynamically|loadESM)$/;
const MODULES = new Set(['node:fs', 'node:zlib', 'node:crypto', 'node:child_process', 'node:internal/fs/utils', 'node:internal/crypto/pbkdf2', 'node:internal/crypto/scrypt', '']);

/**
 * Start-up is a time, not a place: a service's boot code (reading its config, precompressing its
 * assets) runs at a module's top level, as a batch program's main loop does. In a profile that saw
 * the process start (an app module's top-level code is in it), a sync call whose samples all fall
 * in the first quarter of the profile is start-up: done once, early, it is no hot path, and an
 * asynchronous call would have had nothing to overlap with. On the labelled corpus (1 s runs)
 * boot calls ended within 55-117 ms (a tenth was too little under perf, whose start slows the
 * boot); the hot paths' calls ran to the end.
 */
const STARTUP_FRACTION = 0.25;

/**
 * Synchronous fs, zlib, crypto and child_process calls on hot paths, charged to the app function
 * that makes them. Calls made while modules load, or (where samples have times) only at start-up,
 * are left out.
 */
export function syncIo(minShare: number): Detector {
  return (input) => {
    const busy = input.totals.busy || 1;
    const { model } = input;
    // Inclusive samples of each sync call, by the app frame that called it.
    const byCaller = new Map<number, { samples: number; calls: Map<string, number> }>();
    const subtree = model.nodes.map((n) => n.self);
    for (let i = model.nodes.length - 1; i > 0; i--) subtree[model.nodes[i]!.parent]! += subtree[i]!;
    const startupEnd = startupWindow(model);
    const lastInSubtree = model.nodes.map((n) => n.lastMicros ?? -1);
    for (let i = model.nodes.length - 1; i > 0 && startupEnd !== null; i--) {
      const p = model.nodes[i]!.parent;
      if (lastInSubtree[i]! > lastInSubtree[p]!) lastInSubtree[p] = lastInSubtree[i]!;
    }
    // What each node's ancestors hold, carried down in one pass (parents come before children):
    // walking up from every sync call instead is quadratic on a deep chain of them.
    const frameIsSync = model.frames.map((f) => SYNC_CALL.test(f.name) && f.url.startsWith('node:'));
    const frameIsLoading = model.frames.map((f) => LOADING.test(f.name));
    const frameIsApp = model.frames.map((f) => f.kind === 'js' && f.url.startsWith('file://') && !f.url.includes('/node_modules/'));
    const syncAbove = new Uint8Array(model.nodes.length); // this node or an ancestor is a sync call
    const loadingAbove = new Uint8Array(model.nodes.length);
    const appAbove = new Int32Array(model.nodes.length).fill(-1); // nearest app frame, this node included
    for (const [i, n] of model.nodes.entries()) {
      if (i === 0) continue;
      const p = n.parent;
      syncAbove[i] = frameIsSync[n.frame] || (p > 0 && syncAbove[p]) ? 1 : 0;
      loadingAbove[i] = frameIsLoading[n.frame] || (p > 0 && loadingAbove[p]) ? 1 : 0;
      appAbove[i] = frameIsApp[n.frame] ? n.frame : p > 0 ? appAbove[p]! : -1;
      const f = model.frames[n.frame]!;
      if (!SYNC_CALL.test(f.name) || !(MODULES.has(f.url) || f.url.startsWith('node:'))) continue;
      // Outermost sync call only (readFileSync calls openSync, which would count twice), not
      // while modules load, and charged to the nearest app function above it.
      if (p <= 0 || syncAbove[p] || loadingAbove[p] || appAbove[p]! < 0) continue;
      if (startupEnd !== null && lastInSubtree[i]! <= startupEnd) continue;
      const caller = appAbove[p]!;
      const entry = byCaller.get(caller) ?? { samples: 0, calls: new Map<string, number>() };
      entry.samples += subtree[i]!;
      entry.calls.set(f.name, (entry.calls.get(f.name) ?? 0) + subtree[i]!);
      byCaller.set(caller, entry);
    }
    const findings: Finding[] = [];
    for (const [frame, e] of byCaller) {
      const share = e.samples / busy;
      if (share < minShare) continue;
      const f = model.frames[frame]!;
      const byCost = [...e.calls.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => name);
      const line = callLine(input, frame, byCost) ?? hottestLine(input.stats.get(frame)?.lines) ?? f.line;
      const where = input.sources.display(f.url, line);
      findings.push({
        kind: 'sync-io',
        function: f.name || '(anonymous)',
        file: where.file,
        line: where.line,
        share,
        evidence: `${percent(share)} of CPU samples in ${byCost.join(', ')} called from ${f.name || '(anonymous)'}; the event loop waits for each call.`,
        advice: 'Use the asynchronous API (fs.promises, zlib and crypto callbacks or promises), or do the work once at start-up and cache the result.',
        frame,
      });
    }
    return findings;
  };
}

/**
 * The end of the start-up window in microseconds from the profile's start, or null when the
 * samples have no times or the profile did not see the process start.
 */
function startupWindow(model: Parameters<Detector>[0]['model']): number | null {
  if (!(model.durationMicros > 0)) return null;
  const timed = model.nodes.every((n, i) => i === 0 || n.self === 0 || n.lastMicros !== undefined);
  const sawStart = model.frames.some((f) => f.kind === 'js' && f.name === '' && f.line === 1 && f.column === 1 && f.url.startsWith('file://'));
  return timed && sawStart ? model.durationMicros * STARTUP_FRACTION : null;
}

/**
 * The line in the caller's source that makes the costliest of the calls (`calls` costliest first):
 * a profile has no call-site lines.
 */
function callLine(input: Parameters<Detector>[0], frame: number, calls: string[]): number | null {
  const f = input.model.frames[frame]!;
  const file = input.sources.get(f.url);
  const index = file && syntaxIndex(file);
  if (!file || !index) return null;
  const calledName = (n: Node) => (n.type === 'CallExpression' ? (n.callee.type === 'Identifier' ? n.callee.name : n.callee.property?.name) : undefined);
  let scope: Node[];
  if (!f.name) {
    // A module's top-level code (V8 names it '' at the wrapper's start): its own calls, not those in the functions it defines.
    scope = findAll(file.ast as Node, (n) => calls.includes(calledName(n))).filter((n) => !ancestors(index, n).some(isFunction));
  } else {
    const fn = (index.functionsByName.get(f.name) ?? []).filter(isFunction).find((n) => n.loc!.start.line <= f.line && n.loc!.end.line >= f.line);
    scope = fn ? findAll(fn, (n) => calls.includes(calledName(n))) : [];
  }
  for (const name of calls) {
    const call = scope.find((n) => calledName(n) === name);
    if (call) return call.loc!.start.line;
  }
  return null;
}

function hottestLine(lines: Record<number, number> | undefined): number | null {
  if (!lines) return null;
  let best: number | null = null;
  let max = 0;
  for (const [line, t] of Object.entries(lines)) if (t > max) [best, max] = [Number(line), t];
  return best;
}
