import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCapped } from './safe-read';
import { parseProfile, WarmupProfile } from './schema';

export const PROFILE_FILE = 'profile.json';
/** A profile file larger than this is not ours: reading it would cost the app memory and time. */
export const MAX_PROFILE_BYTES = 64 * 1024 * 1024;

export type ReadResult =
  | { kind: 'missing' }
  /** `bytes`: the size of the text read. */
  | { kind: 'ok'; profile: WarmupProfile; bytes: number }
  /** `otherVersion`: a preheat profile of another schema version, to be left alone for whoever reads it. */
  | { kind: 'bad'; reason: string; otherVersion?: boolean };

/**
 * Reads and checks one profile file, touching nothing: never moved, never deleted, whatever it
 * holds (on a shared volume another version of the app may be using it). Safe against FIFOs,
 * devices, directories, sockets and huge files (safe-read.ts). Synchronous: the agent reads on
 * its start-up and exit paths.
 */
export function readProfile(file: string, maxBytes = MAX_PROFILE_BYTES): ReadResult {
  const read = readCapped(file, maxBytes);
  if (read.kind !== 'ok') return read;
  const parsed = parseProfile(read.text);
  if (parsed.ok) return { kind: 'ok', profile: parsed.profile, bytes: read.text.length };
  return parsed.otherVersion ? { kind: 'bad', reason: parsed.reason, otherVersion: true } : { kind: 'bad', reason: parsed.reason };
}

export interface WriteOptions {
  /** Mode of the file. The agent's files are private (0600): they hold the app's code paths and requests. */
  mode?: number;
  /** Mode of directories created on the way. */
  dirMode?: number;
}

/** What the agent writes: readable and writable by the app's user only. */
export const PRIVATE: Readonly<Required<WriteOptions>> = Object.freeze({ mode: 0o600, dirMode: 0o700 });

/**
 * Writes through a temporary file in the same directory and renames it over the target, so a
 * reader (or a crash mid-write) sees the old file or the new one, never half of one. The
 * temporary file is created exclusively (never through a link someone put at its name), as
 * `<name>.<pid>.<random>.tmp`; a writer killed mid-write leaves it behind for `removeStaleTemps`.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  const { mode = 0o644, dirMode = 0o777 } = options;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: dirMode });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'wx', mode);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (error) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // Never created, or already renamed.
    }
    throw error;
  }
}

/** `<name>.<pid>.<random>.tmp`, the temporary names of writeFileAtomic (older versions used base-36 random parts). */
const TEMP_NAME = /^(.+)\.\d+\.[0-9a-z]{1,16}\.tmp$/;
/** A live writer holds its temporary file for milliseconds; one older than this was left by a killed writer. */
export const STALE_TEMP_MS = 60_000;

/**
 * Deletes the temporary files that writers killed mid-write left in `dir`, for the files `ours`
 * names (profile.json, per-process profiles, .cpuprofile files), once they are older than a
 * minute. Regular files only; links and anything else are left alone. Returns how many went.
 */
export function removeStaleTemps(dir: string, ours: (name: string) => boolean, now = Date.now(), maxEntries = 10_000): number {
  let removed = 0;
  for (const name of listDir(dir, maxEntries)) {
    const m = TEMP_NAME.exec(name);
    if (!m || !ours(m[1]!)) continue;
    const full = path.join(dir, name);
    try {
      const st = fs.lstatSync(full);
      if (!st.isFile() || now - st.mtimeMs < STALE_TEMP_MS) continue;
      fs.unlinkSync(full);
      removed++;
    } catch {
      // Renamed or removed meanwhile by its writer or another instance.
    }
  }
  return removed;
}

/**
 * The names in `dir`, at most `maxEntries` of them: a directory with millions of entries costs a
 * bounded read. Empty when it is missing or not a directory.
 */
export function listDir(dir: string, maxEntries: number): string[] {
  const names: string[] = [];
  let handle: fs.Dir;
  try {
    handle = fs.opendirSync(dir);
  } catch {
    return names;
  }
  try {
    for (let entry = handle.readSync(); entry !== null && names.length < maxEntries; entry = handle.readSync()) names.push(entry.name);
  } catch {
    // Vanished while being listed: what was read is the answer.
  } finally {
    try {
      handle.closeSync();
    } catch {
      // Already closed.
    }
  }
  return names;
}

export function serializeProfile(profile: WarmupProfile): string {
  return JSON.stringify(profile, null, 1) + '\n';
}
