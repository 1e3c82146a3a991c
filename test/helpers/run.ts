import { spawn, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const repo = path.resolve(__dirname, '..', '..', '..');
export const agent = path.join(repo, 'agent', 'index.js');
export const cli = path.join(repo, 'bin', 'preheat.js');
export const fixture = (...parts: string[]) => path.join(repo, 'fixtures', ...parts);

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const created: string[] = [];
// ava runs each test file in its own process: clean up when it ends.
process.on('exit', () => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'preheat-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/**
 * Whether v8-profiler-next is built for this Node's ABI. It does not compile on Node 26 (V8 14.6
 * removed an API it uses), where the agent falls back to the inspector sampler and warns.
 */
export const nativeSamplerBuilt = fs.existsSync(
  path.join(repo, 'node_modules', 'v8-profiler-next', 'build', 'binding', 'Release', `node-v${process.versions.modules}-${process.platform}-${process.arch}`, 'profiler.node'),
);

/**
 * The environment of a child: the test machine's, minus any PREHEAT_* setting that would leak in.
 * Where the native sampler is not built, the inspector is asked for by name, so that tests about
 * other things do not see the fallback warning (tests of the fallback set PREHEAT_SAMPLER themselves).
 *
 * Tests record for a second or two what a service records over hours: at the default 25 samples a
 * second the app's own code may not be sampled at all, and with 5 requests a second recorded the
 * counts a test checks would be a sample. So 1 kHz and every request, unless a test says
 * otherwise (test/integration/defaults.test.ts runs the real defaults).
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PREHEAT_SAMPLE_INTERVAL_MICROS: '1000', PREHEAT_CAPTURE_PER_SECOND: '0' };
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PREHEAT_') && k !== 'NODE_OPTIONS') env[k] = v;
  if (!nativeSamplerBuilt) env.PREHEAT_SAMPLER = 'inspector';
  return { ...env, ...extra };
}

/** Runs a command to its end; `onStdout` sees output as it arrives (to send a signal at the right moment). */
export function run(
  command: string,
  args: string[],
  options: SpawnOptions & { onStdout?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs a fixture program under the agent in record mode. */
export function record(program: string[], dir: string, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []) {
  return run(process.execPath, [...nodeArgs, '--require', agent, ...program], {
    env: cleanEnv({ PREHEAT_MODE: 'record', PREHEAT_DIR: dir, ...env }),
    cwd: path.dirname(program[0]!),
  });
}

export function readJson<T = any>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** The `preheat:` lines a child wrote. */
export function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('preheat:'));
}

/** The tests' self-signed certificate for localhost (fixtures/tls): no openssl needed to run them. */
export const testCertificate = { key: fixture('tls', 'test-key.pem'), cert: fixture('tls', 'test-cert.pem') };
