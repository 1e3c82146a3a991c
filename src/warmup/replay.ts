import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { REPLAY_HEADER } from '../capture/request-capture';
import type { RecordedRequest } from '../profile/schema';

export interface ReplayTarget {
  host: string;
  port: number;
}

/**
 * Where to replay for a server's address: its loopback side only. A server bound to one external
 * address cannot be reached on loopback, and replay never goes anywhere else: null.
 */
export function loopbackTarget(address: AddressInfo | string | null): ReplayTarget | null {
  if (!address || typeof address === 'string') return null; // pipes and unix sockets
  const { address: ip, port } = address;
  if (ip === '::' || ip === '0.0.0.0' || ip === '::ffff:0.0.0.0') return { host: '127.0.0.1', port };
  if (/^127\./.test(ip) || ip === '::ffff:127.0.0.1') return { host: '127.0.0.1', port };
  if (ip === '::1') return { host: '::1', port };
  return null;
}

/**
 * The order to replay in: every recorded request at least once, frequent ones more often, in
 * proportion to how often they were seen, interleaved so no route waits for another.
 */
export function replaySchedule(requests: RecordedRequest[], length = 200): RecordedRequest[] {
  const total = requests.reduce((n, r) => n + r.count, 0) || 1;
  const copies = requests.map((r) => Math.max(1, Math.round((r.count / total) * length)));
  const out: RecordedRequest[] = [];
  for (let round = 0; out.length < copies.reduce((a, b) => a + b, 0); round++) {
    requests.forEach((r, i) => {
      if (copies[i]! > round) out.push(r);
    });
  }
  return out;
}

export interface ReplayResult {
  ok: boolean;
  status: number;
}

/**
 * Sends the schedule to the target over loopback, `concurrency` at a time, round after round,
 * until `shouldStop()` says so. Sockets are unref'd: replay never keeps the app alive.
 */
export async function replay(
  schedule: RecordedRequest[],
  target: ReplayTarget,
  options: { concurrency: number; timeoutMs: number; shouldStop: () => boolean; onResult: (r: ReplayResult) => void },
): Promise<void> {
  if (schedule.length === 0) return;
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  let next = 0;
  const one = (r: RecordedRequest) =>
    new Promise<void>((resolve) => {
      const headers: Record<string, string> = { ...r.headers, [REPLAY_HEADER]: '1' };
      if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
      const req = http.request({ host: target.host, port: target.port, method: r.method, path: r.url, headers, agent, timeout: options.timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => {
          options.onResult({ ok: (res.statusCode ?? 500) < 500, status: res.statusCode ?? 0 });
          resolve();
        });
        res.on('error', () => resolve());
      });
      req.on('socket', (s) => s.unref());
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        options.onResult({ ok: false, status: 0 });
        resolve();
      });
      req.end(r.body);
    });
  const worker = async () => {
    while (!options.shouldStop()) await one(schedule[next++ % schedule.length]!);
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
}
