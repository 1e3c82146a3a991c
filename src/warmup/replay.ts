import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { keptHeaders } from '../capture/redact';
import type { RecordedRequest } from '../profile/schema';
import { globMatcher, pathOf } from './path-globs';

export interface ReplayTarget {
  host: string;
  port: number;
  /** The app's server speaks TLS: replay over HTTPS to its loopback side, without verifying its certificate. */
  tls: boolean;
}

/**
 * Where to replay for a server's address: its loopback side only. A server bound to one external
 * address cannot be reached on loopback, and replay never goes anywhere else: null.
 */
export function loopbackTarget(address: AddressInfo | string | null, tls = false): ReplayTarget | null {
  if (!address || typeof address === 'string') return null; // pipes and unix sockets
  const { address: ip, port } = address;
  if (ip === '::' || ip === '0.0.0.0' || ip === '::ffff:0.0.0.0') return { host: '127.0.0.1', port, tls };
  if (/^127\./.test(ip) || ip === '::ffff:127.0.0.1') return { host: '127.0.0.1', port, tls };
  if (ip === '::1') return { host: '::1', port, tls };
  return null;
}

/** What the replay may send, from the agent's own settings: the profile does not decide. */
export interface ReplayRules {
  methods: readonly string[];
  maxBodyBytes: number;
  maxRequests: number;
  /** Only paths matching one of these globs (null: every path). */
  replayPaths?: readonly string[] | null;
  /** Never paths matching one of these globs. */
  skipPaths?: readonly string[];
}

export interface Screened {
  kept: RecordedRequest[];
  /** Refused requests by reason, for one warning. */
  skipped: { method: number; path: number; body: number; beyondLimit: number; excluded: number };
}

/**
 * An origin-form request target (RFC 9112 §3.2.1): a path starting with one `/`, then printable
 * ASCII without spaces. Anything else (an absolute URL, `//host`, CR/LF, a space, raw bytes) is not
 * a route of this app, and Node refuses some of it outright.
 */
const ORIGIN_FORM = /^\/(?!\/)[\x21-\x7e]*$/;

/**
 * Applies the replay rules to recorded requests. A profile is untrusted data: whatever it holds,
 * only the configured methods, origin-form paths, the allow-listed headers (never credentials,
 * host or content-length) and bodies within PREHEAT_MAX_BODY_BYTES reach the app.
 */
export function screenRequests(requests: readonly RecordedRequest[], rules: ReplayRules): Screened {
  const methods = new Set(rules.methods.map((m) => m.toUpperCase()));
  const skipped = { method: 0, path: 0, body: 0, beyondLimit: 0, excluded: 0 };
  const only = rules.replayPaths ? globMatcher(rules.replayPaths) : null;
  const never = globMatcher(rules.skipPaths ?? []);
  const kept: RecordedRequest[] = [];
  for (const r of requests) {
    if (kept.length >= rules.maxRequests) {
      skipped.beyondLimit++;
      continue;
    }
    const method = typeof r.method === 'string' ? r.method.toUpperCase() : '';
    if (!methods.has(method)) skipped.method++;
    else if (typeof r.url !== 'string' || !ORIGIN_FORM.test(r.url)) skipped.path++;
    else if (r.body !== undefined && (typeof r.body !== 'string' || Buffer.byteLength(r.body) > rules.maxBodyBytes)) skipped.body++;
    else if ((only && !only(pathOf(r.url))) || never(pathOf(r.url))) skipped.excluded++;
    else {
      const count = Number.isFinite(r.count) && r.count > 0 ? r.count : 1;
      const screened: RecordedRequest = { method, url: r.url, headers: keptHeaders(isPlainRecord(r.headers) ? r.headers : {}), count };
      if (r.body !== undefined) screened.body = r.body;
      if (r.status !== undefined) screened.status = r.status;
      if (r.latencyMs !== undefined) screened.latencyMs = r.latencyMs;
      kept.push(screened);
    }
  }
  return { kept, skipped };
}

function isPlainRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/**
 * The order to replay in: every recorded request at least once, frequent ones more often, in
 * proportion to how often they were seen, interleaved so no route waits for another.
 */
export function replaySchedule(requests: RecordedRequest[], length = 200): RecordedRequest[] {
  const total = requests.reduce((n, r) => n + r.count, 0) || 1;
  const copies = requests.map((r) => Math.max(1, Math.min(length, Math.round((r.count / total) * length)) || 1));
  const wanted = copies.reduce((a, b) => a + b, 0);
  const out: RecordedRequest[] = [];
  for (let round = 0; out.length < wanted; round++) {
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

export interface ReplayOptions {
  concurrency: number;
  timeoutMs: number;
  /** The header that marks replayed requests, with this boot's secret value: never recorded. */
  marker: { header: string; value: string };
  shouldStop: () => boolean;
  onResult: (r: ReplayResult) => void;
  /** Requests in flight go up and down through this, so the agent knows at exit whether one was. */
  inFlight?: { add(n: number): void };
}

/**
 * Sends the schedule to the target over loopback, `concurrency` at a time, round after round,
 * until `shouldStop()` says so. Sockets are unref'd: replay never keeps the app alive. A request
 * Node refuses to send is a failed request, never an exception.
 */
export async function replay(schedule: RecordedRequest[], target: ReplayTarget, options: ReplayOptions): Promise<void> {
  if (schedule.length === 0) return;
  const agent = target.tls
    ? new https.Agent({ keepAlive: true, maxSockets: options.concurrency, rejectUnauthorized: false })
    : new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const send = target.tls ? https.request : http.request;
  let next = 0;
  const one = (r: RecordedRequest) =>
    new Promise<void>((resolve) => {
      let done = false;
      const finish = (result: ReplayResult) => {
        if (done) return;
        done = true;
        options.inFlight?.add(-1);
        options.onResult(result);
        resolve();
      };
      options.inFlight?.add(1);
      try {
        const headers: Record<string, string> = { ...r.headers, [options.marker.header]: options.marker.value, traceparent: unsampledTraceparent() };
        if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
        const req = send({ host: target.host, port: target.port, method: r.method, path: r.url, headers, agent, timeout: options.timeoutMs }, (res) => {
          res.resume();
          res.on('end', () => finish({ ok: (res.statusCode ?? 500) < 500, status: res.statusCode ?? 0 }));
          res.on('error', () => finish({ ok: false, status: 0 }));
          res.on('close', () => finish({ ok: false, status: 0 }));
        });
        req.on('socket', (s) => s.unref());
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => finish({ ok: false, status: 0 }));
        req.end(r.body);
      } catch {
        finish({ ok: false, status: 0 });
      }
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

/**
 * A W3C trace context whose sampled flag is off: tracing SDKs with a parent-based sampler (the
 * OpenTelemetry default) then record nothing for the replayed request, and its spans never reach
 * the team's tracing back end as if they were users' traffic.
 */
export function unsampledTraceparent(): string {
  return `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-00`;
}
