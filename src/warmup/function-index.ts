import { Session } from 'node:inspector';
import { appFileUrl } from '../profile/app-path';
import type { HotFunction } from '../profile/schema';
import { functionHash, indexSource, type SourceIndex } from '../profile/source-hash';
import type { Natives } from './v8-natives';

export interface IndexedFunction {
  hot: HotFunction;
  /**
   * Every live closure of the function: a factory called more than once (lodash.runInContext(),
   * a per-request closure) makes several, each with its own feedback and code, and the replay
   * may run any of them.
   */
  fns: Function[];
}

export interface FunctionIndex {
  found: IndexedFunction[];
  /** Source hash differs, or the function is gone: the code changed since the recording. */
  stale: HotFunction[];
  /** No live function yet: its file is not loaded, or the function was never created. */
  missing: HotFunction[];
  /** What the heap scan cost, in milliseconds (it is a full scan: it grows with the heap). */
  scanMs: number;
}

/**
 * Finds the live function objects of recorded hot functions: every function of the heap
 * (`Runtime.queryObjects` on Function.prototype), keyed by script URL and the start offset V8
 * reports, matched against each recorded file, line and column. The source hash then tells a
 * function that changed (stale) from the same function moved by edits elsewhere in its file,
 * which is found by its hash.
 */
export function indexFunctions(hot: HotFunction[], root: string, natives: Natives): FunctionIndex {
  const started = Date.now();
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}): T => {
    let out: { error: Error | null; result: unknown } | undefined;
    session.post(method, params, (error, result) => (out = { error, result }));
    if (!out) throw new Error(`inspector did not answer ${method} synchronously`);
    if (out.error) throw out.error;
    return out.result as T;
  };
  const key = Symbol.for(`preheat.functions.${Math.random().toString(36).slice(2)}`);
  const g = globalThis as unknown as Record<symbol, unknown>;
  try {
    const wanted = new Map<string, HotFunction[]>();
    for (const h of hot) {
      const url = appFileUrl(h.file, root);
      wanted.set(url, [...(wanted.get(url) ?? []), h]);
    }
    // Script ids to URLs and sources: Debugger.enable replays scriptParsed for every script, synchronously.
    const scripts = new Map<string, string>();
    session.on('Debugger.scriptParsed', (m) => {
      if (wanted.has(m.params.url)) scripts.set(m.params.scriptId, m.params.url);
    });
    post('Debugger.enable');
    // Source hashes are checked for the app's own files. Dependencies change only with an
    // install, which moves their functions (then not found at their place); parsing them costs
    // more than that check is worth: on the docs-shop fixture, acorn took 291 ms for its 2 MB of
    // node_modules, the rest of the index under 110 ms.
    const sources = new Map<string, { lineStarts: number[]; index: SourceIndex | null }>();
    for (const [id, url] of scripts) {
      const text = post<{ scriptSource: string }>('Debugger.getScriptSource', { scriptId: id }).scriptSource;
      const own = !url.includes('/node_modules/');
      sources.set(id, { lineStarts: lineStartsOf(text), index: own ? indexSource(text) : null });
    }
    post('Debugger.disable');

    const proto = post<{ result: { objectId: string } }>('Runtime.evaluate', { expression: 'Function.prototype', objectGroup: 'preheat' });
    const all = post<{ objects: { objectId: string } }>('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId, objectGroup: 'preheat' });
    post('Runtime.callFunctionOn', {
      objectId: all.objects.objectId,
      functionDeclaration: `function () { globalThis[Symbol.for(${JSON.stringify(key.description)})] = this; }`,
    });
    post('Runtime.releaseObjectGroup', { objectGroup: 'preheat' });
    const functions = (g[key] as unknown[]) ?? [];

    const live = new Map<string, Function[]>();
    for (const f of functions) {
      if (!natives.isOptimizable(f)) continue;
      const sid = String(natives.scriptId(f));
      if (!scripts.has(sid)) continue;
      const at = `${sid}:${natives.sourcePosition(f)}`;
      live.set(at, [...(live.get(at) ?? []), f]);
    }

    const result: FunctionIndex = { found: [], stale: [], missing: [], scanMs: 0 };
    for (const h of hot) {
      const url = appFileUrl(h.file, root);
      const ids = [...scripts].filter(([, u]) => u === url).map(([id]) => id);
      if (ids.length === 0) {
        result.missing.push(h);
        continue;
      }
      let placed = false;
      for (const id of ids) {
        const { index, lineStarts } = sources.get(id)!;
        let offset = offsetOf(lineStarts, h.line, h.column);
        const hash = index ? functionHash(index, h.line, h.column) : null;
        if (h.sourceHash && index && hash !== h.sourceHash) {
          // Not at its old place with its old text: moved by edits above it, or changed.
          offset = [...index.hashes].find(([, x]) => x === h.sourceHash)?.[0] ?? -1;
          if (offset < 0) continue;
        }
        const fns = live.get(`${id}:${offset}`);
        if (fns) {
          result.found.push({ hot: h, fns });
          placed = true;
          break;
        }
      }
      if (!placed) {
        const changed = ids.some((id) => {
          const { index } = sources.get(id)!;
          return h.sourceHash !== null && index !== null && ![...index.hashes.values()].includes(h.sourceHash);
        });
        (changed ? result.stale : result.missing).push(h);
      }
    }
    result.scanMs = Date.now() - started;
    return result;
  } finally {
    delete g[key];
    session.disconnect();
  }
}

function offsetOf(lineStarts: number[], line: number, column: number): number {
  const start = lineStarts[line - 1];
  return start === undefined ? -1 : start + column - 1;
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
