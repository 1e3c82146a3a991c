import type { StackModel } from '../profile/stack-model';

export interface FunctionStats {
  /** Index into model.frames. */
  frame: number;
  /** Samples with this function at the top of the stack. */
  self: number;
  /** Samples with this function anywhere on the stack, counted once per sample even when recursive. */
  total: number;
  /** Self samples by 1-based line. */
  lines: Record<number, number>;
}

export interface Totals {
  /** All samples. */
  all: number;
  /** Samples that were not idle: the denominator of every share. */
  busy: number;
  gc: number;
  program: number;
  native: number;
}

/** Self and total samples of every frame of the model, keyed by frame index. */
export function functionStats(model: StackModel): { stats: Map<number, FunctionStats>; totals: Totals } {
  const stats = new Map<number, FunctionStats>();
  const totals: Totals = { all: 0, busy: 0, gc: 0, program: 0, native: 0 };
  const get = (frame: number) => {
    let s = stats.get(frame);
    if (!s) stats.set(frame, (s = { frame, self: 0, total: 0, lines: {} }));
    return s;
  };

  // Subtree sums first (children always come after their parent in `nodes`, so one backwards pass).
  const subtree = model.nodes.map((n) => n.self);
  for (let i = model.nodes.length - 1; i > 0; i--) subtree[model.nodes[i]!.parent]! += subtree[i]!;

  // Depth-first with a count of each frame on the current path: a recursive function adds its
  // subtree only at its outermost occurrence.
  const onPath = new Map<number, number>();
  const stack: [number, boolean][] = [[0, true]];
  while (stack.length) {
    const [i, entering] = stack.pop()!;
    const n = model.nodes[i]!;
    if (!entering) {
      onPath.set(n.frame, onPath.get(n.frame)! - 1);
      continue;
    }
    const depth = onPath.get(n.frame) ?? 0;
    if (i !== 0) {
      const s = get(n.frame);
      s.self += n.self;
      if (depth === 0) s.total += subtree[i]!;
      if (n.lines) for (const [line, t] of Object.entries(n.lines)) s.lines[+line] = (s.lines[+line] ?? 0) + t;
      const kind = model.frames[n.frame]!.kind;
      totals.all += n.self;
      if (kind !== 'idle') totals.busy += n.self;
      if (kind === 'gc') totals.gc += n.self;
      if (kind === 'program') totals.program += n.self;
      if (kind === 'native') totals.native += n.self;
    }
    onPath.set(n.frame, depth + 1);
    stack.push([i, false]);
    for (const c of n.children) stack.push([c, true]);
  }
  return { stats, totals };
}
