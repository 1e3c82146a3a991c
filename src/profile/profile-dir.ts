import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mergeGenerations } from './merge';
import { INSTANCE_ID, type WarmupProfile } from './schema';
import { listDir, MAX_PROFILE_BYTES, PROFILE_FILE, readProfile, serializeProfile } from './store';

/**
 * A PREHEAT_DIR shared by several processes (cluster workers, PM2, pods on one volume): each
 * recording process writes only `profile.<instance>.json`, its own samples; readers merge them
 * with `profile.json` when that is not itself made of them. Layout and rules: docs/profile-files.md.
 */

/** `profile.<instance>.json`: one recording process's own samples. */
export const INSTANCE_FILE = /^profile\.([A-Za-z0-9_-]{1,128})\.json$/;
/** Per-process files read at most: the newest by modification time. */
export const MAX_INSTANCE_FILES = 64;
/** Bytes read from one directory at most, all files together. */
export const MAX_DIR_BYTES = 256 * 1024 * 1024;
/** Directory entries looked at, at most. */
export const MAX_DIR_ENTRIES = 10_000;
/** A per-process file whose weight (decay per generation it is behind) falls below this is retired. */
export const MIN_WEIGHT = 0.01;

export function instanceFileName(id: string): string {
  return `profile.${id}.json`;
}

/**
 * An id no other process can have, even in containers where every process is pid 1 and the clock
 * is the same: host name, pid, start time, 48 random bits.
 */
export function newInstanceId(host = os.hostname(), pid = process.pid, now = Date.now()): string {
  const h = host.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'host';
  return `${h}_${pid}_${now.toString(36)}_${crypto.randomBytes(6).toString('hex')}`;
}

/** The name a non-per-process profile.json gets when a writer keeps it as a per-process file (content hash: every writer picks the same). */
export function baseInstanceId(text: string): string {
  return `base-${crypto.createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

/** Names in PREHEAT_DIR that preheat writes; their temporary files may be cleaned up. `quarantine.json`: src/warmup/quarantine.ts. */
export function isPreheatFileName(name: string): boolean {
  return name === PROFILE_FILE || name === 'quarantine.json' || INSTANCE_FILE.test(name) || /^preheat-.+\.cpuprofile$/.test(name);
}

export interface InstanceProfile {
  id: string;
  file: string;
  profile: WarmupProfile;
}

export type MainProfile =
  | { kind: 'missing' }
  /**
   * `view`: a merge of per-process files still in the directory (the agent writes it for people
   * and older readers; readers use the files instead). `base`: anything else (baked into an
   * image, from `preheat merge`, hand-made): merged with the per-process files.
   */
  | { kind: 'ok'; profile: WarmupProfile; role: 'base' | 'view'; link: boolean }
  | { kind: 'bad'; reason: string; otherVersion: boolean };

export interface DirSnapshot {
  dir: string;
  main: MainProfile;
  instances: InstanceProfile[];
  /** Files that cannot be used, each with why; they are left as they are. */
  skipped: { file: string; reason: string; otherVersion: boolean }[];
  /** Per-process files not read: past MAX_INSTANCE_FILES or the byte budget (the oldest). */
  unread: number;
}

/**
 * Reads a PREHEAT_DIR: profile.json and the newest per-process files, each through readProfile
 * (capped, never blocking, never moved or deleted). `exclude`: an instance id not to read (the
 * writer's own, which it has in memory).
 */
export function readProfileDir(dir: string, exclude: string | null = null): DirSnapshot {
  const names = listDir(dir, MAX_DIR_ENTRIES);
  const present = new Set<string>();
  const candidates: { id: string; file: string; mtime: number }[] = [];
  for (const name of names) {
    const m = INSTANCE_FILE.exec(name);
    if (!m || !INSTANCE_ID.test(m[1]!)) continue;
    present.add(m[1]!);
    if (m[1] === exclude) continue;
    const file = path.join(dir, name);
    try {
      candidates.push({ id: m[1]!, file, mtime: fs.statSync(file).mtimeMs });
    } catch {
      // Retired by another process meanwhile.
    }
  }
  candidates.sort((a, b) => b.mtime - a.mtime || a.id.localeCompare(b.id));

  const snapshot: DirSnapshot = { dir, main: { kind: 'missing' }, instances: [], skipped: [], unread: 0 };
  let budget = MAX_DIR_BYTES;
  const mainFile = path.join(dir, PROFILE_FILE);
  const main = readProfile(mainFile, Math.min(MAX_PROFILE_BYTES, budget));
  if (main.kind === 'ok') {
    budget -= main.bytes;
    const listed = main.profile.instances ?? [];
    // Also a view: a base a writer has already kept as profile.base-<hash>.json, in the moment
    // before (or a failure after) it wrote the view over it.
    const kept = [...present].some((id) => id.startsWith('base-')) && present.has(baseInstanceId(serializeProfile(main.profile)));
    const role = kept || listed.some((id) => present.has(id)) ? 'view' : 'base';
    snapshot.main = { kind: 'ok', profile: main.profile, role, link: isLink(mainFile) };
  } else if (main.kind === 'bad') {
    snapshot.main = { kind: 'bad', reason: main.reason, otherVersion: main.otherVersion === true };
    snapshot.skipped.push({ file: mainFile, reason: main.reason, otherVersion: main.otherVersion === true });
  }
  for (const [i, c] of candidates.entries()) {
    if (snapshot.instances.length >= MAX_INSTANCE_FILES || budget <= 0) {
      snapshot.unread = candidates.length - i;
      break;
    }
    const read = readProfile(c.file, Math.min(MAX_PROFILE_BYTES, budget));
    if (read.kind === 'ok') {
      budget -= read.bytes;
      snapshot.instances.push({ id: c.id, file: c.file, profile: read.profile });
    } else if (read.kind === 'bad') {
      snapshot.skipped.push({ file: c.file, reason: read.reason, otherVersion: read.otherVersion === true });
    }
  }
  return snapshot;
}

/** The newest generation in the directory: a process starting now records the next one. */
export function newestGeneration(snapshot: DirSnapshot): number {
  let g = snapshot.main.kind === 'ok' ? snapshot.main.profile.generation : 0;
  for (const i of snapshot.instances) g = Math.max(g, i.profile.generation);
  return g;
}

export interface MergeSettings {
  decay: number;
  maxFunctions: number;
  maxRequests: number;
}

/** What the directory holds as one profile (what warm mode warms from), or null when nothing is usable. */
export function mergedProfile(snapshot: DirSnapshot, settings: MergeSettings, extra: WarmupProfile[] = []): WarmupProfile | null {
  const inputs = [...snapshot.instances.map((i) => i.profile), ...extra];
  if (snapshot.main.kind === 'ok' && snapshot.main.role === 'base') inputs.push(snapshot.main.profile);
  return inputs.length ? mergeGenerations(inputs, settings.decay, settings.maxFunctions, settings.maxRequests) : null;
}

/**
 * The per-process files to retire: those whose weight in the merge has fallen below MIN_WEIGHT,
 * then the oldest past `keep`. Only files this preheat has read (never another version's, never
 * a file it cannot read) and never `ownId`'s.
 */
export function filesToRetire(instances: InstanceProfile[], newest: number, decay: number, keep = MAX_INSTANCE_FILES): InstanceProfile[] {
  const weight = (p: WarmupProfile) => decay ** Math.max(0, newest - p.generation);
  const light = instances.filter((i) => weight(i.profile) < MIN_WEIGHT);
  const rest = instances
    .filter((i) => !light.includes(i))
    .sort((a, b) => b.profile.generation - a.profile.generation || (a.profile.updatedAt < b.profile.updatedAt ? 1 : -1));
  return [...light, ...rest.slice(Math.max(0, keep))];
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
