import { fileURLToPath } from 'node:url';
import type { Finding } from '../../analysis/finding';
import type { Frame, StackModel } from '../../profile/stack-model';

import type { NativeCategory } from '../../native/categories';

/** Where a frame's code lives, or for native frames from `preheat flame --native`, what it costs. */
export type Category = 'app' | 'deps' | 'node' | 'native' | 'gc' | 'program' | NativeCategory;

/** What the page draws: plain arrays, small in JSON. Offsets and widths are in samples. */
export interface FlameData {
  title: string;
  total: number;
  hidden: number;
  /** [name, where, category] per frame. */
  frames: [string, string, Category][];
  /** [frame, depth, x, width, self, delta?] per drawn node, parents before children. */
  nodes: number[][];
  findings: { kind: string; function: string; where: string; share: number; evidence: string; advice: string; frame: number }[];
  diff?: { rows: { name: string; where: string; before: number; after: number; delta: number }[] };
}

/** Nodes narrower than this share of all samples are not drawn: a 100k-node profile stays a few MB. */
export const MIN_WIDTH_SHARE = 0.0005;

export function category(f: Frame): Category {
  if (f.kind === 'gc') return 'gc';
  if (f.kind === 'native' && f.category) return f.category as NativeCategory;
  if (f.kind === 'program' || f.kind === 'root' || f.kind === 'idle') return 'program';
  if (f.kind === 'native' || !f.url) return 'native';
  if (f.url.startsWith('node:')) return 'node';
  return f.url.includes('/node_modules/') ? 'deps' : 'app';
}

/**
 * Lays the model out as an icicle: each node's x and width in samples, idle left out (it is not
 * CPU). `deltaOf` gives a frame's change in self share for differential graphs.
 */
export function layout(
  model: StackModel,
  findings: Finding[],
  title: string,
  where: (url: string, line: number) => string,
  deltaOf?: (frame: Frame) => number,
): FlameData {
  const subtree = model.nodes.map((n, i) => (i > 0 && model.frames[n.frame]!.kind === 'idle' ? 0 : n.self));
  for (let i = model.nodes.length - 1; i > 0; i--) {
    if (model.frames[model.nodes[i]!.frame]!.kind === 'idle') subtree[i] = 0;
    subtree[model.nodes[i]!.parent]! += subtree[i]!;
  }
  const total = subtree[0]!;
  const minWidth = total * MIN_WIDTH_SHARE;
  const nodes: number[][] = [];
  const used = new Map<number, number>();
  const frames: FlameData['frames'] = [];
  const frameId = (i: number) => {
    let id = used.get(i);
    if (id === undefined) {
      const f = model.frames[i]!;
      id = frames.push([f.name || '(anonymous)', f.url ? where(f.url, f.line) : '', category(f)]) - 1;
      used.set(i, id);
    }
    return id;
  };
  let hidden = 0;
  const stack: [number, number, number][] = [[0, 0, 0]]; // node, depth, x
  while (stack.length) {
    const [i, depth, x] = stack.pop()!;
    const n = model.nodes[i]!;
    const row = [frameId(n.frame), depth, x, subtree[i]!, i === 0 ? 0 : n.self];
    if (deltaOf) row.push(Math.round(deltaOf(model.frames[n.frame]!) * 1e5) / 1e5);
    nodes.push(row);
    let cx = x;
    // Widest first, so the eye finds the big paths at the left.
    for (const c of [...n.children].sort((a, b) => subtree[b]! - subtree[a]!)) {
      const w = subtree[c]!;
      if (w === 0) continue;
      if (w < minWidth) {
        hidden++;
      } else {
        stack.push([c, depth + 1, cx]);
      }
      cx += w;
    }
  }
  // The root frame is named after the profile, not "(root)".
  frames[0] = ['all samples', '', 'program'];
  return {
    title,
    total,
    hidden,
    frames,
    nodes,
    findings: findings.map((f) => ({
      kind: f.confirmed === false ? `${f.kind} (unconfirmed)` : f.kind,
      function: f.function,
      where: f.file ? `${f.file}:${f.line}` : '',
      share: f.share,
      evidence: f.evidence,
      advice: f.advice,
      frame: used.get(f.frame) ?? -1,
    })),
  };
}

export function displayUrl(url: string): string {
  if (!url.startsWith('file://')) return url;
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}
