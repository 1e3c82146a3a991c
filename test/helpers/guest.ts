import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RecordedRequest } from '../../src/profile/schema';
import { agent, cleanEnv, fixture, tempDir } from './run';

/** A service whose faults and speed come from its environment (see the file's header). */
export const guest = fixture('services', 'guest', 'server.js');
/** The warm-up's own deadline out of the way: on a loaded machine the replay is slow, and these tests are about how it ends. */
export const patient = { PREHEAT_DEADLINE_MS: '120000' };

/** Where V8 places the guest's `work` (the parameter list's '(', 1-based), read from the fixture so an edit cannot leave it behind. */
const workAt = (() => {
  const source = fs.readFileSync(guest, 'utf8');
  const offset = source.indexOf('function work(') + 'function work'.length;
  return { line: source.slice(0, offset).split('\n').length, column: offset - source.lastIndexOf('\n', offset - 1) };
})();

/** A profile for the guest service: its hot `work` function and the given requests. */
export function guestProfile(requests: Partial<RecordedRequest>[], dir = tempDir()): string {
  const now = new Date().toISOString();
  const profile = {
    schemaVersion: 1,
    tool: 'preheat',
    preheatVersion: 'test',
    node: process.versions.node,
    v8: process.versions.v8,
    appRoot: path.dirname(guest),
    generation: 1,
    createdAt: now,
    updatedAt: now,
    sampleIntervalMicros: 1000,
    samples: { busy: 100, gc: 0, program: 0, native: 0 },
    hotFunctions: [{ name: 'work', file: 'server.js', ...workAt, sourceHash: null, selfSamples: 90, totalSamples: 90, share: 0.9, totalShare: 0.9 }],
    requests: requests.map((r) => ({ method: 'GET', url: '/', headers: {}, count: 1, ...r })),
  };
  fs.writeFileSync(path.join(dir, 'profile.json'), JSON.stringify(profile));
  return dir;
}

/**
 * Starts a fixture script under the agent without waiting for anything and collects its output; a
 * hang is killed after `killAfterMs`, so it fails the test instead of stalling the run.
 */
export function startUnderAgent(script: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = [], killAfterMs = 60_000) {
  const child = spawn(process.execPath, [...nodeArgs, '--require', agent, script], {
    cwd: path.dirname(script),
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal });
    }),
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Starts the guest under the agent (see startUnderAgent). */
export function startGuest(env: NodeJS.ProcessEnv, nodeArgs: string[] = []) {
  return startUnderAgent(guest, env, nodeArgs);
}

/** The requests the guest served, from its GUEST_LOG_REQUESTS lines on stderr (`request {json}`). */
export function servedRequests<T = { method: string; url: string; headers: Record<string, string | undefined>; bodyBytes: number }>(stderr: string): T[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('request '))
    .map((l) => JSON.parse(l.slice('request '.length)) as T);
}
