import { functionStats } from '../analysis/function-stats';
import type { SourceFiles } from '../analysis/source-files';
import type { StackModel } from '../profile/stack-model';

export interface TopFunction {
  frame: number;
  name: string;
  file: string;
  line: number;
  /** Fractions of busy samples. */
  self: number;
  total: number;
}

/** The functions with the most self time, located through source maps where there are any. */
export function topFunctions(model: StackModel, sources: SourceFiles, limit: number): TopFunction[] {
  const { stats, totals } = functionStats(model);
  const busy = totals.busy || 1;
  return [...stats.values()]
    .filter((s) => model.frames[s.frame]!.kind !== 'idle' && s.self > 0)
    .sort((a, b) => b.self - a.self || b.total - a.total)
    .slice(0, limit)
    .map((s) => {
      const f = model.frames[s.frame]!;
      const where = f.url ? sources.display(f.url, f.line, f.column) : { file: '', line: 0 };
      return { frame: s.frame, name: f.name || '(anonymous)', file: where.file, line: where.line, self: s.self / busy, total: s.total / busy };
    });
}
