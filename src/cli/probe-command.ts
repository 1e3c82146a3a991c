import * as http from 'node:http';
import { parseArgs } from 'node:util';
import type { Io } from './io';
import { usageError } from './usage-error';

/** `preheat probe [--port P] [--host H] [--timeout-ms T]`: an exec probe; exit 0 when ready, 1 when not. */
export async function probeCommand(args: string[], io: Io): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { port: { type: 'string' }, host: { type: 'string' }, 'timeout-ms': { type: 'string' } } }));
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const port = Number(values.port ?? process.env.PREHEAT_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError('probe needs --port (or PREHEAT_PORT): the readiness port');
  const host = values.host ?? process.env.PREHEAT_HOST ?? '127.0.0.1';
  const timeoutMs = Number(values['timeout-ms'] ?? 2000);
  const { status, body } = await get(host, port, timeoutMs);
  if (status === 200) return 0;
  io.err(`preheat: not ready: ${status ? `${status} ${body.trim()}` : body}\n`);
  return 1;
}

function get(host: string, port: number, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/ready', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d.slice(0, 500)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
  });
}
