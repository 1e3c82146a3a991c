import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { defaults } from '../config/options';
import { mergedProfile, readProfileDir } from '../profile/profile-dir';
import { ErrorCodes, PreheatError } from '../errors';
import { runChild } from '../run-child';
import type { Io } from './io';
import { usageError } from './usage-error';

/** The preload entry, found relative to this compiled file (dist/src/cli → agent/). */
export const AGENT_ENTRY = path.resolve(__dirname, '..', '..', '..', 'agent', 'index.js');

/**
 * `preheat record [--dir D] [--sampler S] -- <command...>`: runs the command with the agent preloaded
 * through NODE_OPTIONS (so `npm start` and shell scripts work too), passes SIGINT/SIGTERM on, and
 * exits as the command did.
 */
export async function recordCommand(args: string[], io: Io): Promise<number> {
  const split = args.indexOf('--');
  const own = split === -1 ? args : args.slice(0, split);
  const command = split === -1 ? [] : args.slice(split + 1);
  let values: { dir?: string; sampler?: string };
  try {
    ({ values } = parseArgs({ args: own, options: { dir: { type: 'string' }, sampler: { type: 'string' } } }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  if (command.length === 0) throw usageError('record needs a command after `--`, e.g. preheat record -- node app.js');

  const dir = path.resolve(values.dir ?? process.env.PREHEAT_DIR ?? '.preheat');
  const env = recordingEnv(dir, values.sampler ? { PREHEAT_SAMPLER: values.sampler } : {});

  const outcome = await run(command, env);
  // What the next warm-up would read: profile.json merged with every recording process's own file.
  const profile = mergedProfile(readProfileDir(dir), defaults);
  if (profile) {
    const top = profile.hotFunctions
      .filter((f) => f.selfSamples > 0)
      .slice(0, 3)
      .map((f) => `${f.name || '(anonymous)'} ${f.file}:${f.line}`)
      .join(', ');
    io.err(`preheat: ${dir}: generation ${profile.generation}, ${profile.hotFunctions.length} hot functions${top ? `; hottest: ${top}` : ''}\n`);
  } else {
    io.err(`preheat: no profile was written into ${dir} (the command ran none of the app's code, or too briefly to sample)\n`);
  }
  if (outcome.signal) {
    // Die the way the command died, so a caller sees the same status.
    process.kill(process.pid, outcome.signal);
  }
  return outcome.code ?? 1;
}

/** This process's environment with the agent preloaded in record mode into `dir`. */
export function recordingEnv(dir: string, settings: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PREHEAT_MODE: 'record',
    PREHEAT_DIR: dir,
    ...settings,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${JSON.stringify(AGENT_ENTRY)}`].filter(Boolean).join(' '),
  };
}

async function run(command: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  try {
    return await runChild(command[0]!, command.slice(1), env);
  } catch (error) {
    throw new PreheatError(ErrorCodes.input, `cannot run ${JSON.stringify(command[0])}: ${(error as Error).message}`);
  }
}
