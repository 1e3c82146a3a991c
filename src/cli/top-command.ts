import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCodes, PreheatError } from '../errors';
import { defaults } from '../config/options';
import { mergedProfile, readProfileDir } from '../profile/profile-dir';
import type { WarmupProfile } from '../profile/schema';
import { PROFILE_FILE, readProfile } from '../profile/store';
import type { Io } from './io';
import { percent, textTable } from './table';
import { usageError } from './usage-error';

/** `preheat top [dir | profile.json] [-n N]`: the hottest functions of a profile, as a table. */
export async function topCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { n: { type: 'string', short: 'n' } } });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const target = parsed.positionals[0] ?? '.preheat';
  const limit = parsed.values.n === undefined ? 20 : Number(parsed.values.n);
  if (!Number.isSafeInteger(limit) || limit < 1) throw usageError('-n must be a positive integer');
  const { file, profile: p } = isDirectory(target) ? readDirectory(target, io) : readFile(target);
  io.out(
    `${file}: generation ${p.generation}, Node ${p.node}, ${Math.round(p.samples.busy)} busy samples ` +
      `(GC ${percent(p.samples.gc / (p.samples.busy || 1))})\n\n`,
  );
  const rows = p.hotFunctions.slice(0, limit).map((f, i) => [
    String(i + 1),
    percent(f.share),
    percent(f.totalShare),
    f.name || '(anonymous)',
    `${f.file}:${f.line}:${f.column}`,
  ]);
  io.out(textTable([['#', 'self', 'total', 'function', 'where'], ...rows], 3));
  return 0;
}

function readFile(file: string): { file: string; profile: WarmupProfile } {
  const read = readProfile(file);
  if (read.kind === 'missing') throw new PreheatError(ErrorCodes.input, `${file} does not exist; record one with \`preheat record\``);
  if (read.kind === 'bad') throw new PreheatError(ErrorCodes.input, `${file} cannot be read: ${read.reason}`);
  return { file, profile: read.profile };
}

/** A PREHEAT_DIR: what warm mode would warm from, profile.json merged with the per-process files. */
export function readDirectory(dir: string, io: Io): { file: string; profile: WarmupProfile } {
  const snapshot = readProfileDir(dir);
  for (const s of snapshot.skipped) io.err(`preheat: ${s.file} is left out: ${s.reason}\n`);
  const profile = mergedProfile(snapshot, defaults);
  if (!profile) {
    throw new PreheatError(ErrorCodes.input, `${path.join(dir, PROFILE_FILE)} does not exist, nor any per-process profile; record one with \`preheat record\``);
  }
  return { file: dir, profile };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
