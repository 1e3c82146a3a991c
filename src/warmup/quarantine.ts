import * as fs from 'node:fs';
import * as path from 'node:path';
import { Codes } from '../errors';
import type { Logger } from '../log';
import { readCapped } from '../profile/safe-read';
import type { RecordedRequest } from '../profile/schema';
import { PRIVATE, writeFileAtomic } from '../profile/store';
import type { CrashedWarmup } from './crash-marker';
import { SUSPECT_KEY, suspectKey } from './suspects';

/**
 * The requests a warm-up was replaying when its process died, kept out of every later warm-up
 * from the directory. The crash marker alone made the boot after a crash start cold, and that boot
 * recorded a new profile; the merge kept the killing request (at half weight), so the boot after
 * that replayed it and died again: died, cold, died, cold. The quarantine is by request key
 * (suspects.ts), not by profile, so a merge, a new recording or a baked profile cannot bring it back.
 *
 * `quarantine.json` in PREHEAT_DIR, private, written atomically, at most MAX_QUARANTINED entries
 * (the oldest dropped). It is untrusted data: a file that is not exactly what preheat writes is
 * not used, and never written over (the profile files' rule, profile-files.md): removing it is
 * how a person clears the quarantine.
 */
export const QUARANTINE_FILE = 'quarantine.json';
/** More than PREHEAT_MAX_REQUESTS' default (200) of a directory's requests, and a bounded file. */
export const MAX_QUARANTINED = 256;
/** The file preheat writes is under 40 KB at MAX_QUARANTINED entries. */
const MAX_FILE_BYTES = 256 * 1024;
/** A label ("GET /path") is for people reading the file and the warning; long ones are cut. */
const MAX_LABEL = 200;

export interface QuarantineEntry {
  /** suspects.ts's key of the request. */
  key: string;
  /** When it was quarantined, ISO 8601. */
  at: string;
  /** `METHOD url` as the profile recorded it, when the boot that quarantined it knew it. */
  request?: string;
}

export interface Quarantine {
  file: string;
  /** What the file holds (empty when it is missing or unusable). */
  entries: QuarantineEntry[];
  /** Why the file cannot be used; null when it can (or is missing). */
  problem: string | null;
}

export function readQuarantine(dir: string): Quarantine {
  const file = path.join(dir, QUARANTINE_FILE);
  const read = readCapped(file, MAX_FILE_BYTES);
  if (read.kind === 'missing') return { file, entries: [], problem: null };
  if (read.kind === 'bad') return { file, entries: [], problem: read.reason };
  const entries = parseQuarantine(read.text);
  return typeof entries === 'string' ? { file, entries: [], problem: entries } : { file, entries, problem: null };
}

/** The entries of a quarantine file, or why it is not one. Only known fields are copied. */
export function parseQuarantine(text: string): QuarantineEntry[] | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'it is not JSON';
  }
  if (!isObject(data) || data.version !== 1 || !Array.isArray(data.requests)) return 'it is not a preheat quarantine file (version 1)';
  if (data.requests.length > MAX_QUARANTINED) return `it holds ${data.requests.length} entries, more than the ${MAX_QUARANTINED} preheat keeps`;
  const entries: QuarantineEntry[] = [];
  for (const e of data.requests) {
    if (!isObject(e) || typeof e.key !== 'string' || !SUSPECT_KEY.test(e.key)) return 'an entry has no valid key';
    if (typeof e.at !== 'string' || e.at.length > 40 || Number.isNaN(Date.parse(e.at))) return 'an entry has no valid time';
    const entry: QuarantineEntry = { key: e.key, at: e.at };
    if (e.request !== undefined) {
      if (typeof e.request !== 'string' || e.request.length > MAX_LABEL || /[\u0000-\u001f\u007f]/.test(e.request)) return 'an entry has an invalid request label';
      entry.request = e.request;
    }
    entries.push(entry);
  }
  return entries;
}

/**
 * Adds the suspects of crashed warm-ups to the entries (a key already there keeps its first time
 * and gains a label it lacked), keeping the newest MAX_QUARANTINED. `labels` names keys the boot
 * can tell (from the profile it read).
 */
export function addSuspects(entries: readonly QuarantineEntry[], crashed: readonly CrashedWarmup[], labels: ReadonlyMap<string, string>): QuarantineEntry[] {
  const byKey = new Map(entries.map((e) => [e.key, { ...e }]));
  for (const c of crashed) {
    for (const key of c.suspects ?? []) {
      const old = byKey.get(key);
      const label = labels.get(key)?.slice(0, MAX_LABEL);
      if (old) {
        if (!old.request && label) old.request = label;
        continue;
      }
      const entry: QuarantineEntry = { key, at: new Date(c.startedAt).toISOString() };
      if (label) entry.request = label;
      byKey.set(key, entry);
    }
  }
  // Oldest first, as the file lists them; past the bound the oldest go.
  return [...byKey.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).slice(-MAX_QUARANTINED);
}

/** Writes the quarantine file (0600, atomically), never over a link. Throws when it cannot. */
export function writeQuarantine(file: string, entries: readonly QuarantineEntry[]): void {
  let link = false;
  try {
    link = fs.lstatSync(file).isSymbolicLink();
  } catch {
    // Missing: written afresh.
  }
  if (link) throw new Error('it is a symbolic link, which preheat never writes over');
  const text = JSON.stringify({ version: 1, requests: entries }, null, 2) + '\n';
  writeFileAtomic(file, text, PRIVATE);
}

export interface BootQuarantine {
  /** Keys never to replay: the file's and those of every crashed warm-up's marker still there. */
  keys: Set<string>;
  file: string;
  /** Every suspect of `crashed` is in the file now: their markers may be retired. */
  saved: boolean;
  /** `METHOD url` of keys the profile names, for the warning of a boot that starts cold. */
  labels: Map<string, string>;
}

/**
 * At boot: moves the suspects of crashed warm-ups' markers into the quarantine file and returns
 * what to skip. A file that cannot be used is one warning and is left as it is; the markers'
 * suspects are then still skipped, from the markers, which are not retired while that lasts.
 */
export function loadQuarantine(dir: string, crashed: readonly CrashedWarmup[], requests: readonly RecordedRequest[], log: Logger): BootQuarantine {
  const q = readQuarantine(dir);
  if (q.problem) log.warn(Codes.badQuarantine, `the quarantine file ${q.file} cannot be used (${q.problem}); it is ignored and left as it is (remove it)`);
  const suspects = crashed.flatMap((c) => c.suspects ?? []);
  const labels = new Map<string, string>();
  // Only when there is something to name: a profile may hold 100 000 requests, hashed here at boot.
  if (suspects.length) for (const r of requests) labels.set(suspectKey(r), `${r.method} ${r.url}`);
  const keys = new Set([...q.entries.map((e) => e.key), ...suspects]);
  const filed = new Set(q.entries.map((e) => e.key));
  let saved = q.problem === null;
  if (saved && suspects.some((k) => !filed.has(k))) {
    try {
      writeQuarantine(q.file, addSuspects(q.entries, crashed, labels));
    } catch (error) {
      saved = false;
      log.warn(Codes.writeFailed, `the quarantine file ${q.file} cannot be written (${(error as Error)?.message ?? String(error)}); the requests it would hold are skipped while their crash markers remain`);
    }
  }
  return { keys, file: q.file, saved, labels };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
