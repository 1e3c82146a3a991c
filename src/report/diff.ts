import { functionStats } from '../analysis/function-stats';
import type { StackModel } from '../profile/stack-model';

export interface DiffRow {
  name: string;
  url: string;
  line: number;
  /** Self samples as fractions of each profile's busy samples. */
  before: number;
  after: number;
  delta: number;
}

/**
 * Change in self time per function between two profiles, as shares of each one's busy samples
 * (profiles of different lengths compare fairly). Functions match by name, URL and line.
 */
export function selfShareDiff(before: StackModel, after: StackModel): DiffRow[] {
  const rows = new Map<string, DiffRow>();
  const add = (model: StackModel, side: 'before' | 'after') => {
    const { stats, totals } = functionStats(model);
    const busy = totals.busy || 1;
    for (const s of stats.values()) {
      const f = model.frames[s.frame]!;
      if (f.kind === 'idle' || f.kind === 'root') continue;
      const key = `${f.name}\u0000${f.url}\u0000${f.line}`;
      let row = rows.get(key);
      if (!row) rows.set(key, (row = { name: f.name || '(anonymous)', url: f.url, line: f.line, before: 0, after: 0, delta: 0 }));
      row[side] += s.self / busy;
    }
  };
  add(before, 'before');
  add(after, 'after');
  for (const r of rows.values()) r.delta = r.after - r.before;
  return [...rows.values()].filter((r) => r.delta !== 0).sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta));
}
