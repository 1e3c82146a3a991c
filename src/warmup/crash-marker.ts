import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SUSPECT_KEY } from './suspects';

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
 *
 * While the replay runs the marker also names the requests in flight (`suspects`, suspects.ts),
 * written before each is sent, so that a boot that finds it can quarantine them (quarantine.ts).
 * The marker is one page, rewritten whole at offset 0 by one `write`: the kernel copies a
 * regular file's write page by page and stops between pages only, so a process killed during the
 * write leaves the old page or the new one, never a mix (and only one thread writes it at a time:
 * replay-thread.ts).
 */
const PREFIX = 'warming-';
/** Beyond its own deadline, how long a warm-up on another host may still be running. */
const GRACE_MS = 60_000;

export interface MarkerInfo {
  /** The host name, as `safe()` writes it (older markers: as os.hostname() gave it). */
  host: string;
  pid: number;
  /** Epoch milliseconds. */
  startedAt: number;
  /** The warm-up's own limit: a marker older than this (plus a grace) is from a dead writer. */
  limitMs: number;
  /**
   * Keys (suspects.ts) of the replayed requests in flight when the marker was last written: the
   * ones a process that died during the warm-up may have died of. Absent in older markers.
   */
  suspects?: string[];
}

export interface CrashedWarmup extends MarkerInfo {
  file: string;
}

/** One page: the most a single write is sure to leave whole when its process is killed. */
export const MARKER_PAGE_BYTES = 4096;
/** A marker file larger than this is not ours (a page, or a little more for a record that could not fit: see markerPage). */
const MAX_MARKER_BYTES = 64 * 1024;

export interface Marker {
  readonly file: string;
  readonly info: MarkerInfo;
  /** Rewrites the marker naming these requests (their keys) as in flight. Throws when the write fails. */
  writeSuspects(keys: readonly string[]): void;
  /** Removes the marker: the warm-up ended, whatever its outcome. Idempotent, never throws. */
  clear(): void;
}

/** Writes this process's marker before the replay. Null when the directory is not writable (then no protection, and no harm). */
export function placeMarker(dir: string, limitMs: number): Marker | null {
  const info: MarkerInfo = { host: safe(os.hostname()), pid: process.pid, startedAt: Date.now(), limitMs };
  const file = path.join(dir, `${PREFIX}${info.host}-${info.pid}-${crypto.randomBytes(4).toString('hex')}.json`);
  let fd: number | null = null;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fd = fs.openSync(file, 'wx', 0o600);
    writePage(fd, markerPage(info, []));
  } catch {
    if (fd !== null) closeQuietly(fd);
    return null;
  }
  let cleared = false;
  // Rewritten before each replayed request whose key is new in flight: one buffer for all of them.
  const page = Buffer.allocUnsafe(MARKER_PAGE_BYTES);
  return {
    file,
    info,
    writeSuspects(keys) {
      if (cleared || fd === null) return;
      writePage(fd, markerPage(info, keys, page));
    },
    clear() {
      if (cleared) return;
      cleared = true;
      if (fd !== null) closeQuietly(fd);
      fd = null;
      try {
        fs.unlinkSync(file);
      } catch {
        // Already gone (another boot took it as a crash), or the directory went away.
      }
    },
  };
}

/**
 * The same rewrite from another thread (the replay's worker thread): the marker is opened by name
 * for each write, never through a link, and closed again, so a terminated worker leaves no
 * descriptor behind. A marker already removed (the warm-up ended) is not written. Throws when the
 * write fails.
 */
export function writeSuspectsTo(file: string, info: MarkerInfo, keys: readonly string[]): void {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    writePage(fd, markerPage(info, keys));
  } finally {
    closeQuietly(fd);
  }
}

/**
 * The marker's text, padded with spaces to one page (JSON allows trailing white space), so that
 * every rewrite covers the previous one whole. Keys are 12 bytes, and a page holds the header and
 * 256 of them (PREHEAT_REPLAY_CONCURRENCY's maximum, the most that can be in flight); should a
 * record ever not fit, it is written longer rather than shortened: every suspect stays named.
 */
export function markerPage(info: MarkerInfo, suspects: readonly string[], reuse?: Buffer): Buffer {
  const text = JSON.stringify({ host: info.host, pid: info.pid, startedAt: info.startedAt, limitMs: info.limitMs, suspects });
  const length = Buffer.byteLength(text);
  if (length >= MARKER_PAGE_BYTES) return Buffer.from(text + '\n');
  const page = reuse?.length === MARKER_PAGE_BYTES ? reuse : Buffer.allocUnsafe(MARKER_PAGE_BYTES);
  page.write(text, 0);
  page.fill(0x20, length, MARKER_PAGE_BYTES - 1);
  page[MARKER_PAGE_BYTES - 1] = 0x0a;
  return page;
}

function writePage(fd: number, page: Buffer): void {
  let done = 0;
  while (done < page.length) done += fs.writeSync(fd, page, done, page.length - done, done);
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Closed already.
  }
}

/**
 * The newest marker left by a warm-up that did not end, if any. Markers of warm-ups still running
 * elsewhere are left alone; unreadable or foreign files are ignored. Never throws.
 */
export function findCrashedWarmup(dir: string, now = Date.now()): CrashedWarmup | null {
  let newest: CrashedWarmup | null = null;
  for (const crashed of crashedWarmups(dir, now)) if (!newest || crashed.startedAt > newest.startedAt) newest = crashed;
  return newest;
}

/** Every marker left by a warm-up that did not end (see findCrashedWarmup), oldest first. Never throws. */
export function crashedWarmups(dir: string, now = Date.now()): CrashedWarmup[] {
  const out: CrashedWarmup[] = [];
  for (const name of markerNames(dir)) {
    const info = readMarker(path.join(dir, name));
    if (info && isDead(info, now)) out.push({ ...info, file: path.join(dir, name) });
  }
  return out.sort((a, b) => a.startedAt - b.startedAt);
}

/**
 * Removes markers of crashed warm-ups older than `before` (a profile recorded since replaces what
 * they protect against), except those `keep` holds on to (their suspects are not quarantined yet).
 */
export function retireMarkers(dir: string, before: number, now = Date.now(), keep: (crashed: CrashedWarmup) => boolean = () => false): void {
  for (const name of markerNames(dir)) {
    const file = path.join(dir, name);
    const info = readMarker(file);
    if (info && isDead(info, now) && info.startedAt < before && !keep({ ...info, file })) {
      try {
        fs.unlinkSync(file);
      } catch {
        // Another process retired it first.
      }
    }
  }
}

function markerNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => n.startsWith(PREFIX) && n.endsWith('.json'));
  } catch {
    return [];
  }
}

function readMarker(file: string): MarkerInfo | null {
  try {
    // Small, and a marker is ours only if it is a regular file: never block on a FIFO.
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || stat.size > MAX_MARKER_BYTES) return null;
      const data = JSON.parse(fs.readFileSync(fd, 'utf8')) as Partial<MarkerInfo>;
      const ok =
        typeof data.host === 'string' &&
        Number.isSafeInteger(data.pid) &&
        Number.isFinite(data.startedAt) &&
        Number.isFinite(data.limitMs);
      if (!ok) return null;
      const info: MarkerInfo = { host: data.host!, pid: data.pid!, startedAt: data.startedAt!, limitMs: data.limitMs! };
      // A marker is untrusted data like a profile: suspects that are not keys are not suspects.
      const suspects = data.suspects;
      if (Array.isArray(suspects) && suspects.length <= 4096) info.suspects = [...new Set(suspects.filter((k): k is string => typeof k === 'string' && SUSPECT_KEY.test(k)))];
      return info;
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
  const here = info.host === safe(os.hostname()) || info.host === os.hostname();
  return here && (info.pid === process.pid || !isAlive(info.pid));
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
