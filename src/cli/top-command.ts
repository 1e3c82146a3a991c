import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCodes, PreheatError } from '../errors';
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
  const file = isDirectory(target) ? path.join(target, PROFILE_FILE) : target;
  const read = readProfile(file);
  if (read.kind === 'missing') throw new PreheatError(ErrorCodes.input, `${file} does not exist; record one with \`preheat record\``);
  if (read.kind === 'bad') throw new PreheatError(ErrorCodes.input, `${file} cannot be read: ${read.reason}`);
  const p = read.profile;
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

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
