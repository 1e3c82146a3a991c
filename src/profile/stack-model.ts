import type { CpuProfile } from './cpuprofile';

/**
 * The one stack model every part shares (docs/architecture.md, "Data flow"): a tree of frames
 * with sample counts and per-line ticks. Plain data, so it crosses threads and files as JSON.
 * Lines and columns are 1-based, as people and pprof count them.
 */
export type FrameKind = 'js' | 'native' | 'gc' | 'program' | 'idle' | 'root';

export interface Frame {
  name: string;
  /** A `file://` URL, a `node:` specifier, or '' for native code. */
  url: string;
  /** 1-based; 0 when unknown. */
  line: number;
  /** 1-based; 0 when unknown. */
  column: number;
  kind: FrameKind;
  /** Native frames from `preheat flame --native`: their cost category (src/native/categories.ts). */
  category?: string;
}

export interface StackNode {
  frame: number;
  /** Index of the parent node; -1 for the root. */
  parent: number;
  children: number[];
  /** Samples whose leaf is this node. */
  self: number;
  /** Self samples by 1-based source line, where the profile says. */
  lines?: Record<number, number>;
  /**
   * When the last sample whose leaf is this node was taken, in microseconds from the profile's
   * start; only where the input gives each sample's time (a `.cpuprofile`'s `timeDeltas`) and the
   * model is one profile's (a merge of several has no one timeline, and drops it).
   */
  lastMicros?: number;
}

export interface StackModel {
  frames: Frame[];
  /** nodes[0] is the root. */
  nodes: StackNode[];
  /** Every sample, idle included. */
  totalSamples: number;
  /** Wall time the samples cover, in microseconds. */
  durationMicros: number;
}

const specialKinds: Record<string, FrameKind> = {
  '(root)': 'root',
  '(program)': 'program',
  '(idle)': 'idle',
  '(garbage collector)': 'gc',
};

export function frameKind(name: string, url: string): FrameKind {
  return specialKinds[name] ?? (url === '' ? 'native' : 'js');
}

export function frameKey(f: Frame): string {
  return `${f.name}\u0000${f.url}\u0000${f.line}\u0000${f.column}`;
}

export function emptyModel(): StackModel {
  const root: Frame = { name: '(root)', url: '', line: 0, column: 0, kind: 'root' };
  return { frames: [root], nodes: [{ frame: 0, parent: -1, children: [], self: 0 }], totalSamples: 0, durationMicros: 0 };
}

/**
 * Converts a DevTools profile. Counts come from `samples` when present (exact), else `hitCount`;
 * line ticks from `positionTicks`, summed by line because Node 26 repeats a line within a node.
 */
export function fromCpuProfile(profile: CpuProfile): StackModel {
  const model = emptyModel();
  const frameIndex = new Map<string, number>([[frameKey(model.frames[0]!), 0]]);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  const last = new Map<number, number>();
  if (profile.samples?.length) {
    for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
    const deltas = profile.timeDeltas;
    if (deltas?.length === profile.samples.length) {
      // Deltas may be negative (ticks recorded out of order): the running sum, latest per node.
      let t = 0;
      for (const [i, id] of profile.samples.entries()) {
        t += deltas[i]!;
        if (t > (last.get(id) ?? -Infinity)) last.set(id, t);
      }
    }
  } else {
    for (const n of profile.nodes) counts.set(n.id, n.hitCount ?? 0);
  }

  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  // The `(root)` node; failing that (a foreign or damaged file), every parentless node, or the first.
  const named = profile.nodes.find((n) => n.callFrame.functionName === '(root)');
  const orphans = profile.nodes.filter((n) => !parentOf.has(n.id));
  const roots = named ? [named] : orphans.length ? orphans : profile.nodes.slice(0, 1);

  // Iterative walk: real profiles nest thousands deep, past what recursion allows.
  const stack: [number, number][] = [];
  for (const r of roots) {
    if (r.callFrame.functionName === '(root)') for (const c of r.children ?? []) stack.push([c, 0]);
    else stack.push([r.id, 0]);
  }
  const seen = new Set<number>();
  while (stack.length) {
    const [id, parent] = stack.pop()!;
    const n = byId.get(id);
    if (!n || seen.has(id)) continue; // dangling or cyclic ids in a foreign file
    seen.add(id);
    const cf = n.callFrame;
    const frame: Frame = {
      name: cf.functionName,
      url: cf.url,
      line: cf.lineNumber >= 0 ? cf.lineNumber + 1 : 0,
      column: cf.columnNumber >= 0 ? cf.columnNumber + 1 : 0,
      kind: frameKind(cf.functionName, cf.url),
    };
    const key = frameKey(frame);
    let fi = frameIndex.get(key);
    if (fi === undefined) {
      fi = model.frames.push(frame) - 1;
      frameIndex.set(key, fi);
    }
    const at = childFor(model, parent, fi);
    const node = model.nodes[at]!;
    const self = counts.get(id) ?? 0;
    node.self += self;
    const sampledAt = last.get(id);
    if (sampledAt !== undefined && sampledAt > (node.lastMicros ?? -Infinity)) node.lastMicros = Math.max(0, sampledAt);
    model.totalSamples += self;
    if (n.positionTicks?.length) {
      node.lines ??= {};
      for (const t of n.positionTicks) node.lines[t.line] = (node.lines[t.line] ?? 0) + t.ticks;
    }
    for (const c of n.children ?? []) stack.push([c, at]);
  }
  const duration = profile.endTime - profile.startTime;
  model.durationMicros = Number.isFinite(duration) && duration > 0 ? duration : 0;
  return model;
}

/**
 * Children by frame, for parents past a few children: a node with 100 000 children would make
 * the linear scan quadratic. Kept beside the plain-data model (a WeakMap on the parent node),
 * and caught up with children appended by other code, so the model stays JSON.
 */
const childIndex = new WeakMap<StackNode, { byFrame: Map<number, number>; upTo: number }>();
const SCAN_CHILDREN = 8;

/** The child of `parent` for `frame`, created when missing: equal call paths share one node. */
export function childFor(model: StackModel, parent: number, frame: number): number {
  const p = model.nodes[parent]!;
  if (p.children.length <= SCAN_CHILDREN) {
    for (const c of p.children) if (model.nodes[c]!.frame === frame) return c;
  } else {
    let index = childIndex.get(p);
    if (!index) childIndex.set(p, (index = { byFrame: new Map(), upTo: 0 }));
    for (; index.upTo < p.children.length; index.upTo++) {
      const c = p.children[index.upTo]!;
      const f = model.nodes[c]!.frame;
      if (!index.byFrame.has(f)) index.byFrame.set(f, c);
    }
    const found = index.byFrame.get(frame);
    if (found !== undefined) return found;
  }
  const index = model.nodes.push({ frame, parent, children: [], self: 0 }) - 1;
  p.children.push(index);
  return index;
}

/** Adds `from` into `into` (several inputs, one view). Returns `into`. */
export function mergeInto(into: StackModel, from: StackModel): StackModel {
  const frameIndex = new Map(into.frames.map((f, i) => [frameKey(f), i]));
  const mapFrame = (i: number) => {
    const f = from.frames[i]!;
    const key = frameKey(f);
    let at = frameIndex.get(key);
    if (at === undefined) {
      at = into.frames.push({ ...f }) - 1;
      frameIndex.set(key, at);
    }
    return at;
  };
  const stack: [number, number][] = from.nodes[0]!.children.map((c) => [c, 0]);
  while (stack.length) {
    const [src, dstParent] = stack.pop()!;
    const n = from.nodes[src]!;
    const at = childFor(into, dstParent, mapFrame(n.frame));
    const dst = into.nodes[at]!;
    dst.self += n.self;
    if (n.lines) {
      dst.lines ??= {};
      for (const [line, ticks] of Object.entries(n.lines)) dst.lines[+line] = (dst.lines[+line] ?? 0) + ticks;
    }
    for (const c of n.children) stack.push([c, at]);
  }
  into.totalSamples += from.totalSamples;
  into.durationMicros += from.durationMicros;
  // Two profiles' clocks do not line up: the merge has no timeline. (Set, not deleted: a delete
  // turns each node into a slow dictionary object for every later pass over the model.)
  for (const n of into.nodes) if (n.lastMicros !== undefined) n.lastMicros = undefined;
  return into;
}
