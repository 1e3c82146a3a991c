import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { agent, cleanEnv } from './run';

export interface Service {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Boots a fixture service under the agent and waits for its "listening <port>" line. */
export async function bootService(script: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<Service> {
  const child = spawn(process.execPath, [...nodeArgs, '--require', agent, script], {
    cwd: path.dirname(script),
    env: cleanEnv({ PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`service exited (${code}) before listening: ${stderr}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    port,
    stderr: () => stderr,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Polls `/status` until `until` holds or `timeoutMs` passes; returns the last status. 90 s by
 * default: a warm-up that takes 5 s on a quiet machine took more than 30 s at load average 8–11
 * on 2 cores (the suite beside benchmarks), and these tests are about how it ends, not how fast.
 */
export async function pollStatus(port: number, until: (s: any) => boolean, timeoutMs = 90_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  let last: any = null;
  while (Date.now() < end) {
    try {
      last = JSON.parse((await get(port, '/status')).body);
      if (until(last)) return last;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return last;
}

/**
 * A port free now, for a server a test starts later. Picked below the OS's ephemeral range
 * (Linux: 32768-60999): a port from `listen(0)` went back to that pool, and in a suite of parallel
 * processes an outgoing connection's source port or another `listen(0)` took it before the test's
 * server listened (EADDRINUSE, seen once in a CI-settings run).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = http.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
