import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProfile, WarmupProfile } from './schema';

export const PROFILE_FILE = 'profile.json';
/** A profile.json larger than this is not ours: reading it would cost the app memory and time. */
const MAX_PROFILE_BYTES = 64 * 1024 * 1024;

export type LoadResult =
  | { kind: 'missing' }
  | { kind: 'ok'; profile: WarmupProfile }
  /** Unusable; moved aside to `movedTo` (null when even that failed) so nothing is lost. */
  | { kind: 'bad'; reason: string; movedTo: string | null };

export type ReadResult = { kind: 'missing' } | { kind: 'ok'; profile: WarmupProfile } | { kind: 'bad'; reason: string; unreadable?: boolean };

/** Reads and checks a profile.json, touching nothing. Synchronous: the agent reads on its exit path too. */
export function readProfile(file: string): ReadResult {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_PROFILE_BYTES) return { kind: 'bad', reason: `it is ${size} bytes, more than a profile can be` };
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', reason: `it cannot be read (${(error as Error).message})`, unreadable: true };
  }
  const parsed = parseProfile(text);
  return parsed.ok ? { kind: 'ok', profile: parsed.profile } : { kind: 'bad', reason: parsed.reason };
}

/** The agent's read: an unusable profile is moved aside (never deleted) so a new one can take its place. */
export function loadProfile(file: string): LoadResult {
  const read = readProfile(file);
  if (read.kind !== 'bad') return read;
  return read.unreadable ? { kind: 'bad', reason: read.reason, movedTo: null } : setAside(file, read.reason);
}

function setAside(file: string, reason: string): LoadResult {
  const movedTo = `${file}.bad-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    fs.renameSync(file, movedTo);
    return { kind: 'bad', reason, movedTo };
  } catch {
    return { kind: 'bad', reason, movedTo: null };
  }
}

/**
 * Writes through a temporary file in the same directory and renames it over the target, so a
 * reader (or a crash mid-write) sees the old file or the new one, never half of one.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w', 0o644);
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

export function serializeProfile(profile: WarmupProfile): string {
  return JSON.stringify(profile, null, 1) + '\n';
}
