/** One line of `preheat doctor`: what was checked, its verdict and what it found. */
export interface Check {
  /** A short stable name (`node`, `sampler`, `profile`…), the key in `--json`. */
  name: string;
  status: 'ok' | 'warn' | 'fail';
  /** One line: what holds, or what goes wrong and what to do. */
  summary: string;
  /** Facts behind the verdict, for `--json` and people who ask. */
  facts?: Record<string, unknown>;
}

const rank = { ok: 0, warn: 1, fail: 2 } as const;

/** The worst verdict among the checks (`ok` when there are none). */
export function worst(checks: readonly Check[]): Check['status'] {
  return checks.reduce<Check['status']>((w, c) => (rank[c.status] > rank[w] ? c.status : w), 'ok');
}

/** `preheat doctor`'s exit code: 0 all ok, 1 warnings only, 3 a check failed (2 is bad usage, as for every command). */
export function exitCodeOf(checks: readonly Check[]): number {
  return { ok: 0, warn: 1, fail: 3 }[worst(checks)];
}
