import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A warm-up that kills its process (a replayed request that exits, a crash in forced
 * optimization) must not run again at the next boot, or a restart loop follows. A marker file is
 * written before the replay and removed when the warm-up ends; a boot that finds the marker of a
 * warm-up that never ended starts cold and records afresh.
 *
 * Several processes may warm from one directory at once (cluster workers, pods on a shared
 * volume), so each writes its own marker, and a marker only counts as a crash when its writer is
 * known to be gone: it is older than its warm-up could have lasted, or, on this host, its pid is
 * ours (a restarted container) or no longer alive.
 */
const PREFIX = 'warming-';
/** Beyond its own deadline, how long a warm-up on another host may still be running. */
const GRACE_MS = 60_000;

export interface MarkerInfo {
  host: string;
  pid: number;
  /** Epoch milliseconds. */
  startedAt: number;
  /** The warm-up's own limit: a marker older than this (plus a grace) is from a dead writer. */
  limitMs: number;
}

export interface CrashedWarmup extends MarkerInfo {
  file: string;
}

export interface Marker {
  /** Removes the marker: the warm-up ended, whatever its outcome. Idempotent, never throws. */
  clear(): void;
}

/** Writes this process's marker before the replay. Null when the directory is not writable (then no protection, and no harm). */
export function placeMarker(dir: string, limitMs: number): Marker | null {
  const info: MarkerInfo = { host: os.hostname(), pid: process.pid, startedAt: Date.now(), limitMs };
  const file = path.join(dir, `${PREFIX}${safe(info.host)}-${info.pid}-${crypto.randomBytes(4).toString('hex')}.json`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(info) + '\n', { mode: 0o600, flag: 'wx' });
  } catch {
    return null;
  }
  let cleared = false;
  return {
    clear() {
      if (cleared) return;
      cleared = true;
      try {
        fs.unlinkSync(file);
      } catch {
        // Already gone (another boot took it as a crash), or the directory went away.
      }
    },
  };
}

/**
 * The newest marker left by a warm-up that did not end, if any. Markers of warm-ups still running
 * elsewhere are left alone; unreadable or foreign files are ignored. Never throws.
 */
export function findCrashedWarmup(dir: string, now = Date.now()): CrashedWarmup | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith(PREFIX) && n.endsWith('.json'));
  } catch {
    return null;
  }
  let newest: CrashedWarmup | null = null;
  for (const name of names) {
    const info = readMarker(path.join(dir, name));
    if (info && isDead(info, now) && (!newest || info.startedAt > newest.startedAt)) newest = { ...info, file: path.join(dir, name) };
  }
  return newest;
}

/** Removes markers of crashed warm-ups older than `before` (a profile recorded since replaces what they protect against). */
export function retireMarkers(dir: string, before: number, now = Date.now()): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith(PREFIX) && n.endsWith('.json'));
  } catch {
    return;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const info = readMarker(file);
    if (info && isDead(info, now) && info.startedAt < before) {
      try {
        fs.unlinkSync(file);
      } catch {
        // Another process retired it first.
      }
    }
  }
}

function readMarker(file: string): MarkerInfo | null {
  try {
    // Small, and a marker is ours only if it is a regular file: never block on a FIFO.
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || stat.size > 4096) return null;
      const data = JSON.parse(fs.readFileSync(fd, 'utf8')) as Partial<MarkerInfo>;
      const ok =
        typeof data.host === 'string' &&
        Number.isSafeInteger(data.pid) &&
        Number.isFinite(data.startedAt) &&
        Number.isFinite(data.limitMs);
      return ok ? { host: data.host!, pid: data.pid!, startedAt: data.startedAt!, limitMs: data.limitMs! } : null;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}

function isDead(info: MarkerInfo, now: number): boolean {
  // Whatever the host, a warm-up never outlives its limit: a marker older than that lost its writer
  // (on this host the pid may since belong to another process).
  if (now - info.startedAt > info.limitMs + GRACE_MS) return true;
  return info.host === os.hostname() && (info.pid === process.pid || !isAlive(info.pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safe(host: string): string {
  return host.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64);
}
