import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
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
  /** The app's server is an `http2` server: replay over one HTTP/2 session (h2 with TLS, h2c without). */
  h2?: boolean;
}

/**
 * Where to replay for a server's address: its loopback side only. A server bound to one external
 * address cannot be reached on loopback, and replay never goes anywhere else: null. A server bound
 * to one loopback address (127.0.0.2, `::1`) is reached on that address: on Linux all of 127/8 is
 * loopback, and a server on 127.0.0.2 does not answer on 127.0.0.1.
 */
export function loopbackTarget(address: AddressInfo | string | null, tls = false, h2 = false): ReplayTarget | null {
  if (!address || typeof address === 'string') return null; // pipes and unix sockets
  const { address: ip, port } = address;
  const at = (host: string): ReplayTarget => (h2 ? { host, port, tls, h2 } : { host, port, tls });
  if (ip === '::' || ip === '0.0.0.0' || ip === '::ffff:0.0.0.0') return at('127.0.0.1');
  if (/^127\.\d+\.\d+\.\d+$/.test(ip)) return at(ip);
  const mapped = /^::ffff:(127\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return at(mapped[1]!);
  if (ip === '::1') return at('::1');
  return null;
}

/**
 * The port that carried most of the recorded traffic (by count), or null for a profile recorded
 * before ports were kept. Ties go to the lower port, so every worker of a fleet picks the same.
 */
export function recordedPort(requests: readonly RecordedRequest[]): number | null {
  const byPort = new Map<number, number>();
  for (const r of requests) if (r.port !== undefined) byPort.set(r.port, (byPort.get(r.port) ?? 0) + (r.count > 0 ? r.count : 0));
  let best: number | null = null;
  for (const [port, n] of byPort) if (best === null || n > byPort.get(best)! || (n === byPort.get(best)! && port < best)) best = port;
  return best;
}

/**
 * The recorded requests meant for the server being warmed: those seen on the main port, and those
 * recorded without a port. Requests another server answered (a metrics server's `/metrics`) would
 * be 404s on this one, and warm the wrong code.
 */
export function forMainPort(requests: RecordedRequest[], port: number | null): { kept: RecordedRequest[]; other: number } {
  if (port === null) return { kept: requests, other: 0 };
  const kept = requests.filter((r) => r.port === undefined || r.port === port);
  return { kept, other: requests.length - kept.length };
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
      if (r.port !== undefined) screened.port = r.port;
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

/**
 * One result as one number, for results sent between threads in batches: the status when the
 * request was answered below 500, else `-1 - status` (-1 for a request that got no answer).
 */
export function encodeResult(r: ReplayResult): number {
  return r.ok ? r.status : -1 - r.status;
}

export function decodeResult(n: number): ReplayResult {
  return n >= 0 ? { ok: true, status: n } : { ok: false, status: -1 - n };
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
  /** Told of each request before it is sent and once it has ended: the crash marker's suspects (suspects.ts). */
  suspects?: { sending(r: RecordedRequest): void; ended(r: RecordedRequest): void };
  /** A new connection for each request (cluster workers: spreads the replay over the workers). */
  newConnectionEach?: boolean;
}

/**
 * Sends the schedule to the target over loopback, `concurrency` at a time, round after round,
 * until `shouldStop()` says so. Sockets are unref'd: replay never keeps the app alive. A request
 * Node refuses to send is a failed request, never an exception.
 */
export async function replay(schedule: RecordedRequest[], target: ReplayTarget, options: ReplayOptions): Promise<void> {
  if (schedule.length === 0) return;
  if (target.h2) return replayH2(schedule, target, options);
  // Keep-alive, except across cluster workers: each replayed connection then lands on the next
  // worker (the primary hands out connections round-robin), instead of a few kept-alive sockets
  // pinning one worker (docs/readiness.md, "Which server is warmed").
  const keepAlive = !options.newConnectionEach;
  const agent = target.tls
    ? new https.Agent({ keepAlive, maxSockets: options.concurrency, rejectUnauthorized: false })
    : new http.Agent({ keepAlive, maxSockets: options.concurrency });
  const send = target.tls ? https.request : http.request;
  const one = (r: RecordedRequest) =>
    new Promise<void>((resolve) => {
      const finish = settleOnce(r, options, resolve);
      try {
        const headers = replayHeaders(r, options);
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
  try {
    await sendInTurn(schedule, options, one);
  } finally {
    agent.destroy();
  }
}

function replayHeaders(r: RecordedRequest, options: ReplayOptions): Record<string, string> {
  const headers: Record<string, string> = { ...r.headers, [options.marker.header]: options.marker.value, traceparent: unsampledTraceparent() };
  if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
  return headers;
}

/**
 * One request's end, counted once whichever of end, error, close or timeout comes first. Called
 * before the request is created: the crash marker names it before a byte of it is sent.
 */
function settleOnce(r: RecordedRequest, options: ReplayOptions, resolve: () => void): (result: ReplayResult) => void {
  let done = false;
  options.inFlight?.add(1);
  options.suspects?.sending(r);
  return (result) => {
    if (done) return;
    done = true;
    options.inFlight?.add(-1);
    options.suspects?.ended(r);
    options.onResult(result);
    resolve();
  };
}

/**
 * The same replay to an `http2` server: one session to its loopback side (h2 over TLS without
 * checking the certificate, h2c without TLS), `concurrency` streams at a time. The session's
 * socket is unref'd and closed at the end; a session that fails is opened again for the next request.
 */
async function replayH2(schedule: RecordedRequest[], target: ReplayTarget, options: ReplayOptions): Promise<void> {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const authority = `${target.tls ? 'https' : 'http'}://${host}:${target.port}`;
  let session: http2.ClientHttp2Session | null = null;
  const open = () => {
    if (session && !session.closed && !session.destroyed) return session;
    const s = http2.connect(authority, target.tls ? { rejectUnauthorized: false } : {});
    s.on('error', () => {}); // each stream reports its own failure
    s.on('connect', () => s.unref());
    s.unref();
    session = s;
    return s;
  };
  const one = (r: RecordedRequest) =>
    new Promise<void>((resolve) => {
      const finish = settleOnce(r, options, resolve);
      try {
        const stream = open().request({ ...replayHeaders(r, options), ':method': r.method, ':path': r.url }, { endStream: r.body === undefined });
        let status = 0;
        const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), options.timeoutMs);
        timer.unref();
        stream.on('response', (h) => (status = Number(h[':status']) || 0));
        stream.on('end', () => finish({ ok: status > 0 && status < 500, status }));
        stream.on('error', () => finish({ ok: false, status: 0 }));
        stream.on('close', () => {
          clearTimeout(timer);
          finish({ ok: false, status: 0 });
        });
        stream.resume();
        if (r.body !== undefined) stream.end(r.body);
      } catch {
        finish({ ok: false, status: 0 });
      }
    });
  try {
    await sendInTurn(schedule, options, one);
  } finally {
    (session as http2.ClientHttp2Session | null)?.close();
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

/** Sends the schedule round after round, `concurrency` requests in flight, until `shouldStop()`. */
async function sendInTurn(schedule: RecordedRequest[], options: Pick<ReplayOptions, 'concurrency' | 'shouldStop'>, one: (r: RecordedRequest) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (!options.shouldStop()) await one(schedule[next++ % schedule.length]!);
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}
