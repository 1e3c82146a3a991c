import { parseArgs } from 'node:util';
import { ErrorCodes, PreheatError } from '../errors';
import { mergeInstances } from '../profile/merge';
import type { WarmupProfile } from '../profile/schema';
import * as fs from 'node:fs';
import { readProfile, serializeProfile, writeFileAtomic } from '../profile/store';
import { readDirectory } from './top-command';
import { defaults } from '../config/options';
import type { Io } from './io';
import { usageError } from './usage-error';

/**
 * `preheat merge <profile.json | dir...> --out F [--max-functions N]`: one fleet profile from many
 * instances. A directory stands for what warm mode reads from it (profile.json and the
 * per-process files, merged); an unusable file inside one is left out with a line on stderr, an
 * unusable file named on the command line stops the merge.
 */
export async function mergeCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args);
  if (positionals.length === 0) throw usageError('merge needs at least one profile.json');
  if (!values.out) throw usageError('merge needs --out <file>');
  const maxFunctions = values['max-functions'] === undefined ? defaults.maxFunctions : Number(values['max-functions']);
  if (!Number.isSafeInteger(maxFunctions) || maxFunctions < 1) throw usageError('--max-functions must be a positive integer');

  const profiles: WarmupProfile[] = [];
  for (const file of positionals) {
    if (isDirectory(file)) {
      profiles.push(readDirectory(file, io).profile);
      continue;
    }
    const read = readProfile(file);
    if (read.kind === 'missing') throw new PreheatError(ErrorCodes.input, `${file} does not exist`);
    if (read.kind === 'bad') throw new PreheatError(ErrorCodes.input, `${file} cannot be merged: ${read.reason}`);
    profiles.push(read.profile);
  }
  const runtimes = new Set(profiles.map((p) => `Node ${p.node} (V8 ${p.v8})`));
  if (runtimes.size > 1) {
    io.err(`preheat: the profiles come from different runtimes (${[...runtimes].join(', ')}); merged anyway\n`);
  }
  const merged = mergeInstances(profiles, maxFunctions);
  try {
    writeFileAtomic(values.out, serializeProfile(merged));
  } catch (error) {
    throw new PreheatError(ErrorCodes.io, `cannot write ${values.out}: ${(error as Error).message}`);
  }
  io.err(`preheat: merged ${profiles.length} profiles (${merged.hotFunctions.length} hot functions) into ${values.out}\n`);
  return 0;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: { out: { type: 'string', short: 'o' }, 'max-functions': { type: 'string' } },
    });
  } catch (error) {
    throw usageError((error as Error).message);
  }
}
