import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Options } from '../config/options';
import { checkPerf } from '../native/capture';
import type { Check } from './checks';

/** Settings the agent would warn about, one line each, as it would print them. */
export function settingsCheck(options: Options, problems: readonly string[]): Check {
  const mode = `mode ${options.mode}, recordings in ${options.dir}, app root ${options.root}`;
  if (problems.length === 0) return { name: 'settings', status: 'ok', summary: mode };
  return { name: 'settings', status: 'warn', summary: `${mode}; ${problems.join('; ')}`, facts: { problems } };
}

/**
 * Whether the command would load the agent at all: a `--require`/`--import` of preheat in
 * NODE_OPTIONS or on the node command line, and whether Node can resolve it from where the
 * command starts (a preload Node cannot find ends the process before the app runs).
 */
export function preloadCheck(nodeArgs: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Check {
  const preloads = preloadsOf([...splitNodeOptions(env.NODE_OPTIONS ?? ''), ...nodeArgs]);
  for (const preload of preloads) {
    const file = resolvePreload(preload, cwd);
    if (file && packageNameOf(file) === 'preheat') return { name: 'agent', status: 'ok', summary: `preloaded: ${preload} resolves to ${file}` };
  }
  const lost = preloads.find((p) => /preheat/.test(p) && !resolvePreload(p, cwd));
  if (lost) {
    return { name: 'agent', status: 'fail', summary: `the preload ${lost} cannot be found from ${cwd}: node would exit before the app starts (install preheat in the app)` };
  }
  return { name: 'agent', status: 'warn', summary: 'the command does not preload the agent: add --require preheat/agent to NODE_OPTIONS or to the node command' };
}

function resolvePreload(preload: string, cwd: string): string | null {
  try {
    // Node resolves a preload like a require from the working directory; a file URL for --import.
    const spec = preload.startsWith('file:') ? new URL(preload).pathname : preload;
    return require.resolve(spec.startsWith('.') ? path.resolve(cwd, spec) : spec, { paths: [cwd] });
  } catch {
    return null;
  }
}

/** The name in the nearest package.json above `file`. */
function packageNameOf(file: string): string | null {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name ?? null;
    } catch {
      if (path.dirname(dir) === dir) return null;
    }
  }
}

/** NODE_OPTIONS split as Node splits it: on spaces, with double quotes around values that hold them. */
export function splitNodeOptions(text: string): string[] {
  return [...text.matchAll(/"((?:\\.|[^"\\])*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!));
}

function preloadsOf(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = /^(?:-r|--require|--import)=(.*)$/.exec(a);
    if (eq) out.push(eq[1]!);
    else if (['-r', '--require', '--import'].includes(a) && args[i + 1] !== undefined) out.push(args[++i]!);
  }
  return out;
}

/** Whether recordings, the crash marker and the compile cache can be written where they go. */
export function recordingDirCheck(options: Options): Check {
  const dir = options.dir;
  let probe = dir;
  while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  try {
    if (!fs.statSync(probe).isDirectory()) throw new Error(`${probe} is not a directory`);
    fs.accessSync(probe, fs.constants.W_OK);
  } catch (error) {
    const what = options.mode === 'warm' ? 'the crash marker and compile cache cannot be kept' : 'nothing will be recorded';
    return { name: 'recording-dir', status: options.mode === 'off' ? 'ok' : 'warn', summary: `${dir} cannot be written (${(error as Error).message}): ${what}` };
  }
  return { name: 'recording-dir', status: 'ok', summary: `${dir} is writable${probe === dir ? '' : ` (it will be created under ${probe})`}` };
}

/** Linux perf, for `preheat flame --native` only: the agent never needs it. */
export function perfCheck(workDir: string): Check {
  const perf = checkPerf(workDir);
  return perf.ok
    ? { name: 'perf', status: 'ok', summary: 'Linux perf runs: preheat flame --native can capture with it' }
    : { name: 'perf', status: 'ok', summary: `${perf.reason}; preheat flame --native uses V8's tick log instead (the agent does not need perf)` };
}

/**
 * What reports readiness, and whether its port is free. The doctor runs before the service: a
 * port that already answers is taken, by another agent (a second process on the same port gets
 * no readiness server) or by something else.
 */
export async function readinessCheck(options: Options): Promise<Check> {
  const gate = options.gatePath ? `the app's ${options.gatePath} answers 503 until warm` : null;
  if (options.port === null) {
    return gate
      ? { name: 'readiness', status: 'ok', summary: `${gate}; no readiness server (PREHEAT_PORT unset)` }
      : { name: 'readiness', status: 'warn', summary: 'nothing reports readiness: set PREHEAT_PORT (a /ready server for probes) or PREHEAT_GATE_PATH (the app\'s own health path)' };
  }
  if (options.port === 0) {
    return { name: 'readiness', status: 'warn', summary: `PREHEAT_PORT=0 picks a free port at each boot: a probe cannot know it; set a fixed port${gate ? `, or probe ${options.gatePath}` : ''}` };
  }
  const where = `${options.host}:${options.port}`;
  const answer = await askReady(options.host, options.port);
  const also = gate ? `; ${gate}` : '';
  if (answer.kind === 'free') return { name: 'readiness', status: 'ok', summary: `/ready will listen on ${where} (free now)${also}` };
  if (answer.kind === 'preheat') {
    return {
      name: 'readiness',
      status: 'warn',
      summary: `a preheat agent already answers on ${where} (/ready: ${answer.status}): if this is the service itself, it is running; a second process there gets no readiness server (PREHEAT_W015)`,
    };
  }
  return { name: 'readiness', status: 'fail', summary: `${where} is taken by something else (${answer.what}): the agent's readiness server cannot listen there (PREHEAT_W015); choose another PREHEAT_PORT` };
}

type Answer = { kind: 'free' } | { kind: 'preheat'; status: number } | { kind: 'other'; what: string };

function askReady(host: string, port: number): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/status', timeout: 2000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body = (body + d).slice(0, 64 * 1024)));
      res.on('end', () => {
        let json: unknown = null;
        try {
          json = JSON.parse(body);
        } catch {
          // Not ours.
        }
        const ours = json !== null && typeof json === 'object' && 'phase' in json && 'ready' in json;
        resolve(ours ? { kind: 'preheat', status: (json as { ready: boolean }).ready ? 200 : 503 } : { kind: 'other', what: `it answers HTTP ${res.statusCode}` });
      });
    });
    req.on('timeout', () => req.destroy(new Error('no HTTP answer within 2 s')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') resolve({ kind: 'free' });
      else resolve({ kind: 'other', what: e.message });
    });
  });
}
