import * as path from 'node:path';
import type { Report } from '../report/write-report';
import type { Io } from './io';
import { percent, textTable } from './table';

/** What `report` and `flame` print after writing: the top functions, the findings, the files. */
export function printReport(report: Report, io: Io): void {
  io.out('Top functions by self time\n');
  io.out(
    textTable(
      [['self', 'total', 'function', 'where'], ...report.top.map((t) => [percent(t.self), percent(t.total), t.name, t.file ? `${t.file}:${t.line}` : '(native)'])],
      2,
    ),
  );
  io.out(`\nFindings: ${report.findings.length === 0 ? 'none' : report.findings.length}\n`);
  for (const f of report.findings) {
    io.out(`  ${f.kind}${f.confirmed === false ? " (unconfirmed)" : ""}  ${percent(f.share)}  ${f.function}${f.file ? ` ${f.file}:${f.line}` : ''}\n    ${f.evidence}\n    → ${f.advice}\n`);
  }
  for (const note of report.notes) io.out(`  (${note})\n`);
  io.out(`\nWrote ${Object.values(report.files).map((f) => path.relative(process.cwd(), f) || f).join(', ')}\n`);
}
