/**
 * A plain text table. Cells come from profiles (untrusted): control characters, which could
 * rewrite the user's terminal, are shown as `?`.
 */
export function textTable(rows: string[][], rightAligned = 0): string {
  const clean = rows.map((r) => r.map((c) => c.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')));
  const widths = clean[0]!.map((_, c) => Math.max(...clean.map((r) => r[c]!.length)));
  return (
    clean
      .map((r) => r.map((cell, c) => (c < rightAligned ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
      .join('\n') + '\n'
  );
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
