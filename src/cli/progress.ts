/**
 * A progress line on stderr for long runs: redrawn in place on a terminal, one line per step
 * otherwise (CI logs). Silent for small inputs, where it would only be noise.
 */
export function createProgress(enabled: boolean, write: (s: string) => void = (s) => void process.stderr.write(s)) {
  const tty = Boolean(process.stderr.isTTY);
  let shown = false;
  return {
    step(done: number, total: number, label: string) {
      if (!enabled) return;
      const width = 24;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`;
      write(tty ? `\r\u001b[2K${bar}` : `${bar}\n`);
      shown = true;
    },
    done() {
      if (enabled && shown && tty) write('\r\u001b[2K');
    },
  };
}
