import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CpuProfile } from './cpuprofile';
import { PRIVATE, writeFileAtomic } from './store';

const PREFIX = 'preheat-';
const SUFFIX = '.cpuprofile';

/**
 * Writes one sampling window as `preheat-<time>-<pid>-<n>.cpuprofile` (opens in DevTools and
 * speedscope), then deletes this directory's oldest preheat-written profiles past `keep`.
 * Files the user put there under other names are never touched.
 */
export function writeCpuprofile(dir: string, profile: CpuProfile, seq: number, keep: number): string | null {
  if (keep <= 0) return null;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${PREFIX}${stamp}-${process.pid}-${seq}${SUFFIX}`);
  writeFileAtomic(file, JSON.stringify(profile), PRIVATE);
  prune(dir, keep);
  return file;
}

function prune(dir: string, keep: number): void {
  const ours = fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(PREFIX) && f.endsWith(SUFFIX))
    .map((f) => {
      const full = path.join(dir, f);
      try {
        return { full, mtime: fs.statSync(full).mtimeMs };
      } catch {
        return null; // deleted meanwhile by another instance
      }
    })
    .filter((f): f is { full: string; mtime: number } => f !== null)
    .sort((a, b) => b.mtime - a.mtime || b.full.localeCompare(a.full));
  for (const f of ours.slice(keep)) {
    try {
      fs.unlinkSync(f.full);
    } catch {
      // Another instance pruned it first.
    }
  }
}
