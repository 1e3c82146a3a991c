import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveOptions } from '../config/resolve';
import { exitCodeOf, type Check } from '../doctor/checks';
import type { NodeFacts } from '../doctor/node-facts';
import { crashCheck } from '../doctor/crash-check';
import { profileCheck } from '../doctor/profile-check';
import { compileCacheCheck, nodeCheck, samplerCheck } from '../doctor/runtime-checks';
import { perfCheck, preloadCheck, readinessCheck, recordingDirCheck, settingsCheck, splitNodeOptions } from '../doctor/setup-checks';
import type { Io } from './io';
import { usageError } from './usage-error';

/** The facts script, run under the Node that would run the service (dist/src/cli → dist/src/doctor). */
const FACTS_SCRIPT = path.resolve(__dirname, '..', 'doctor', 'node-facts.js');

/**
 * `preheat doctor [--dir D] [--profile-dir D] [--json] [-- command...]`: what happens when the
 * service boots with the agent, one line per check. Never starts the service: `-- command` only
 * says which Node, flags and entry script it would run with. Exit 0 all ok, 1 warnings, 3 a failure.
 */
export async function doctorCommand(args: string[], io: Io): Promise<number> {
  const split = args.indexOf('--');
  const own = split === -1 ? args : args.slice(0, split);
  const command = split === -1 ? [] : args.slice(split + 1);
  let values: { dir?: string; 'profile-dir'?: string; json?: boolean };
  try {
    ({ values } = parseArgs({ args: own, options: { dir: { type: 'string' }, 'profile-dir': { type: 'string' }, json: { type: 'boolean' } } }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (values.dir) env.PREHEAT_DIR = values.dir;
  if (values['profile-dir']) env.PREHEAT_PROFILE_DIR = values['profile-dir'];
  const cwd = process.cwd();
  const target = commandTarget(command, env);
  const { options, problems } = resolveOptions({}, env, cwd, target.entry ? path.resolve(cwd, target.entry) : null);

  const checks: Check[] = [];
  if (target.note) checks.push({ name: 'command', status: 'warn', summary: target.note });
  const facts = readFacts(target.node, target.nodeArgs, env);
  if ('error' in facts) {
    checks.push({ name: 'node', status: 'fail', summary: facts.error });
  } else {
    checks.push(nodeCheck(facts), samplerCheck(facts, options), compileCacheCheck(facts, options, env));
  }
  checks.push(settingsCheck(options, problems));
  if (options.mode !== 'off') {
    checks.push(preloadCheck(target.nodeArgs, env, cwd));
    checks.push(profileCheck(options));
    checks.push(crashCheck(options));
    checks.push(recordingDirCheck(options));
    checks.push(await readinessCheck(options));
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'preheat-doctor-'));
  try {
    checks.push(perfCheck(work));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }

  const code = exitCodeOf(checks);
  if (values.json) {
    io.out(JSON.stringify({ verdict: ['ok', 'warn', '', 'fail'][code], checks }, null, 2) + '\n');
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) io.out(`${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.summary}\n`);
  }
  return code;
}

interface Target {
  /** The Node binary that would run the service. */
  node: string;
  /** Its flags before the entry script. */
  nodeArgs: string[];
  entry: string | null;
  /** Set when the command is not `node …`: the checks then speak for this Node. */
  note?: string;
}

/** Which Node, flags and script `command` would run: `node [flags] script`, else this Node. */
function commandTarget(command: string[], env: NodeJS.ProcessEnv): Target {
  if (command.length === 0) return { node: process.execPath, nodeArgs: [], entry: null };
  const [bin, ...rest] = command as [string, ...string[]];
  const isNode = /^node(js)?(\d+)?(\.exe)?$/.test(path.basename(bin));
  if (!isNode) {
    return { node: process.execPath, nodeArgs: [], entry: null, note: `${bin} is not node: checked with the Node running this doctor (${process.version}); name the node command to check its own` };
  }
  const node = bin.includes('/') ? path.resolve(bin) : (which(bin, env) ?? bin);
  const nodeArgs: string[] = [];
  let i = 0;
  for (; i < rest.length && rest[i]!.startsWith('-'); i++) {
    nodeArgs.push(rest[i]!);
    // Flags whose value is the next word.
    if (['-r', '--require', '--import', '--loader', '--experimental-loader', '--env-file', '-C', '--conditions'].includes(rest[i]!) && i + 1 < rest.length) nodeArgs.push(rest[++i]!);
  }
  return { node, nodeArgs, entry: rest[i] ?? null };
}

function which(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // Next.
    }
  }
  return null;
}

/**
 * The target Node's facts, from the facts script run under it with the command's own flags and
 * NODE_OPTIONS, less any preload of preheat: the doctor never starts the agent.
 */
function readFacts(node: string, nodeArgs: string[], env: NodeJS.ProcessEnv): NodeFacts | { error: string } {
  const notPreheat = (args: string[]) => {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const value = /^(?:-r|--require|--import)$/.test(a) ? args[i + 1] : /^(?:--require|--import)=(.*)$/.exec(a)?.[1];
      if (value !== undefined && /preheat/.test(value)) {
        if (!a.includes('=')) i++;
        continue;
      }
      out.push(a);
    }
    return out;
  };
  const nodeOptions = notPreheat(splitNodeOptions(env.NODE_OPTIONS ?? '')).map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
  const r = spawnSync(node, [...notPreheat(nodeArgs), FACTS_SCRIPT], {
    env: { ...env, NODE_OPTIONS: nodeOptions, PREHEAT_MODE: 'off' },
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) return { error: `cannot run ${node}: ${r.error.message}` };
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as NodeFacts;
  } catch {
    return { error: `${node} did not say what it supports (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n')[0] ?? ''}` };
  }
}
