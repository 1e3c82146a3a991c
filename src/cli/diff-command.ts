import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createSourceFiles } from '../analysis/source-files';
import { loadInputs, skippedWarning } from '../profile/load-inputs';
import type { StackModel } from '../profile/stack-model';
import { writeFileAtomic } from '../profile/store';
import { selfShareDiff } from '../report/diff';
import { renderFlamegraphHtml } from '../report/flamegraph-html';
import type { Io } from './io';
import { percent, textTable } from './table';
import { usageError } from './usage-error';

/** `preheat diff <before> <after> [--out DIR] [--top N]`: a differential flame graph and the biggest changes. */
export async function diffCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string', short: 'o' }, top: { type: 'string' } } });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 2) throw usageError('diff needs two inputs: <before> <after>');
  const top = values.top === undefined ? 10 : Number(values.top);
  if (!Number.isSafeInteger(top) || top < 1) throw usageError('--top must be a positive integer');
  const out = path.resolve(values.out ?? 'preheat-diff');

  const [before, after] = positionals.map((p) => {
    const loaded = loadInputs([p]);
    const warning = skippedWarning(loaded.skipped);
    if (warning) io.err(`preheat: ${warning}\n`);
    return loaded.model;
  }) as [StackModel, StackModel];
  const sources = createSourceFiles();
  const where = (url: string, line: number) => {
    if (!url) return '(native)';
    const d = sources.display(url, line);
    return `${d.file}:${d.line}`;
  };
  const rows = selfShareDiff(before, after);
  const html = path.join(out, 'diff.html');
  writeFileAtomic(
    html,
    renderFlamegraphHtml(after, [], {
      title: `preheat diff — ${path.basename(positionals[0]!)} → ${path.basename(positionals[1]!)}`,
      baseline: before,
      displayFile: where,
    }),
  );
  const table = (title: string, list: typeof rows) => {
    io.out(`${title}\n`);
    if (list.length === 0) return io.out('  none\n');
    io.out(
      textTable(
        [['before', 'after', 'change', 'function', 'where'], ...list.map((r) => [percent(r.before), percent(r.after), signed(r.delta), r.name, where(r.url, r.line)])],
        3,
      ),
    );
  };
  table('Regressions (more self time)', rows.filter((r) => r.delta > 0).slice(0, top));
  io.out('\n');
  table('Improvements (less self time)', rows.filter((r) => r.delta < 0).slice(0, top));
  io.out(`\nWrote ${path.relative(process.cwd(), html) || html}\n`);
  return 0;
}

function signed(x: number): string {
  return `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}pt`;
}
