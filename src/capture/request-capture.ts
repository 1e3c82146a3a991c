import * as dc from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { RecordedRequest } from '../profile/schema';
import { keptHeaders, redactBody, redactUrl } from './redact';
import type { ReplayMarker } from './replay-marker';
import { RequestSample, type Observation } from './request-sample';

/** Requests preheat sends itself (warm-up replay) carry this header, with the boot's secret value. */
export { REPLAY_HEADER } from './replay-marker';

export interface CaptureOptions {
  methods: string[];
  maxRequests: number;
  maxBodyBytes: number;
  /** Servers of preheat's own (the readiness server), whose requests are not the app's. */
  ignoreServer?: (server: Server) => boolean;
  /** This boot's marker: requests with its value are the warm-up's own and are not recorded; any other value is. */
  marker: ReplayMarker;
  /**
   * Latencies count from this many milliseconds after the process started: before that the app is
   * still cold, and its latencies say nothing about the steady state warm mode aims for.
   */
  steadyAfterMs: number;
  /**
   * Ports the app's servers were given by the OS (they asked for port 0): a request served on one
   * is recorded without its port, which says nothing about the next boot's servers.
   */
  ephemeralPorts?: ReadonlySet<number>;
  /**
   * At most this many requests recorded per second over time, in bursts of up to as many (a
   * token bucket): a quiet server has every request recorded, a busy one a sample spread over each
   * second. The requests not recorded cost a clock read. Unset: every request.
   */
  maxPerSecond?: number;
}

/**
 * Records inbound HTTP requests through Node's own `http.server.request.start` channel, so plain
 * http, express, fastify and koa are all seen without patching any of them. Bodies are observed
 * as the app reads them (a wrapper on that request's `emit`), never read by preheat itself: adding
 * a 'data' listener would switch the stream to flowing mode and could take data from the app.
 *
 * A request enters the sample only once its response has finished, below 500. A request that
 * ends the process (process.exit() or a fatal error in its handler) never finishes: it is not in
 * the profile written at exit, so the next boot does not replay it into the same death. Nor is a
 * request still in flight at exit, nor one answered 5xx (a failing path is not worth warming and
 * may be the one that crashes).
 */
export interface RequestCapture {
  sample: RequestSample;
  /**
   * Starts listening (again). Recording a request (redaction, its key, a 'finish' listener) costs
   * tens of microseconds: on every request that was 5% of the docs-shop fixture's CPU per request
   * (docs/overhead.md), hence `maxPerSecond`.
   */
  resume(): void;
  pause(): void;
}

export function startRequestCapture(options: CaptureOptions): RequestCapture {
  // Track more keys than are kept, so the kept ones are the true heavy hitters.
  const sample = new RequestSample(options.maxRequests * 4);
  const allowed = new Set(options.methods);
  const admit = admission(options.maxPerSecond);
  const onStart = (message: unknown) => {
    try {
      const { request, response, server } = message as { request: IncomingMessage; response: ServerResponse; server: Server };
      const startedAt = performance.now();
      if (!allowed.has(request.method ?? '')) return;
      if (options.ignoreServer?.(server)) return;
      // The bucket before the headers: Node 26 builds `request.headers` on its first read (20 to
      // 24 build it for every request anyway), and most requests of a busy server are not
      // recorded. A replay found afterwards gives its token back, so the warm-up's own requests
      // never take the recording's place.
      if (!admit.take(startedAt)) return;
      if (options.marker.isReplay(request.headers)) {
        admit.giveBack();
        return;
      }
      const url = request.url ?? '/';
      if (!url.startsWith('/')) return; // proxy-style absolute URLs are not the app's routes
      const base = { method: request.method!, url: redactUrl(url), headers: keptHeaders(request.headers) };
      const length = Number(request.headers['content-length'] ?? 0);
      const hasBody = length > 0 || request.headers['transfer-encoding'] !== undefined;
      const port = fixedPort(request.socket?.localPort, options);
      const seen = (): Observation => observation(response.statusCode, startedAt, port, options.steadyAfterMs);
      if (!hasBody) return whenAnswered(response, () => sample.add(base, seen()));
      if (length > options.maxBodyBytes) return; // too big to keep: replaying it without the body would be another request
      // Recorded when both have happened, in either order: the body was read to its end (by the
      // app, or by Node discarding what the app left) and the response finished below 500.
      let body: string | null | undefined; // undefined: not read to its end yet; null: not storable
      let answered: Observation | null = null;
      const both = () => {
        if (answered && typeof body === 'string') sample.add({ ...base, body }, answered);
      };
      observeBody(request, options.maxBodyBytes, (raw) => {
        body = raw === null ? null : redactBody(raw, base.headers['content-type']);
        both();
      });
      whenAnswered(response, () => {
        answered = seen();
        both();
      });
    } catch {
      // A request the capture cannot read is a request not recorded; the app never notices.
    }
  };
  const h2 = http2Capture(options, sample, allowed, admit);
  let on = false;
  return {
    sample,
    resume() {
      if (!on) {
        dc.subscribe('http.server.request.start', onStart);
        h2?.subscribe();
      }
      on = true;
    },
    pause() {
      if (on) {
        dc.unsubscribe('http.server.request.start', onStart);
        h2?.unsubscribe();
      }
      on = false;
    },
  };
}

export interface Admission {
  /** Whether a request arriving at `now` (performance.now()) is recorded; takes a token if so. */
  take(now: number): boolean;
  /** Returns the token of the last request taken, which turned out not to be recorded after all. */
  giveBack(): void;
}

/**
 * Which requests are recorded: a bucket of `perSecond` tokens, refilled at `perSecond` a second,
 * one token per request recorded. Unset or not positive: every request.
 */
export function admission(perSecond: number | undefined): Admission {
  if (!perSecond || perSecond <= 0) return { take: () => true, giveBack: () => {} };
  let tokens = perSecond;
  let last = -Infinity;
  return {
    take(now) {
      tokens = Math.min(perSecond, tokens + ((now - last) * perSecond) / 1000);
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    giveBack() {
      tokens = Math.min(perSecond, tokens + 1);
    },
  };
}

function fixedPort(port: number | undefined, options: CaptureOptions): number | undefined {
  return port && !options.ephemeralPorts?.has(port) ? port : undefined;
}

function observation(status: number, startedAt: number, port: number | undefined, steadyAfterMs: number): Observation {
  const now = performance.now();
  const seen: Observation = now >= steadyAfterMs ? { status, latencyMs: now - startedAt } : { status };
  if (port) seen.port = port;
  return seen;
}

/**
 * Whether this Node publishes the `http2.server.stream.*` channels. Node's `http.server.request.start`
 * never sees an HTTP/2 request (only HTTP/1.1 on an `allowHTTP1` server); the http2 channels came in
 * 2025 (nodejs/node#58390, #58449, #58560) and are there on every Node 22, 24 and 26 this project is
 * tested on (22.23, 24.21, 26.12), never on Node 20.
 */
export function canCaptureHttp2(version = process.versions.node): boolean {
  return Number(version.split('.')[0]) >= 22;
}

interface H2Stream {
  session?: { socket?: { localPort?: number } };
  sentHeaders?: Record<string, unknown>;
}

/**
 * HTTP/2 requests, from `http2.server.stream.start` (request headers) to `http2.server.stream.finish`
 * (response headers). Bodies are not observed on HTTP/2: only requests that cannot carry one (GET,
 * HEAD, or `content-length: 0`) are recorded, so a replay is never a request without its body.
 */
function http2Capture(options: CaptureOptions, sample: RequestSample, allowed: Set<string>, admit: Admission) {
  if (!canCaptureHttp2()) return null;
  const pending = new WeakMap<object, { base: Omit<RecordedRequest, 'count'>; startedAt: number; port: number | undefined }>();
  const onStart = (message: unknown) => {
    try {
      const { stream, headers } = message as { stream: H2Stream; headers: IncomingHttpHeaders };
      const startedAt = performance.now();
      const method = String(headers[':method'] ?? '');
      const url = String(headers[':path'] ?? '');
      if (!allowed.has(method) || options.marker.isReplay(headers) || !url.startsWith('/')) return;
      const bodiless = method === 'GET' || method === 'HEAD' || headers['content-length'] === '0';
      if (!bodiless || !admit.take(startedAt)) return;
      pending.set(stream, { base: { method, url: redactUrl(url), headers: keptHeaders(headers) }, startedAt, port: fixedPort(stream.session?.socket?.localPort, options) });
    } catch {
      // not recorded, never thrown into the app
    }
  };
  const onFinish = (message: unknown) => {
    try {
      const { stream, headers } = message as { stream: H2Stream; headers?: Record<string, unknown> };
      const p = pending.get(stream);
      if (!p) return;
      pending.delete(stream);
      const status = Number(headers?.[':status'] ?? stream.sentHeaders?.[':status']);
      if (Number.isInteger(status) && status < 500) sample.add(p.base, observation(status, p.startedAt, p.port, options.steadyAfterMs));
    } catch {
      // as above
    }
  };
  return {
    subscribe() {
      dc.subscribe('http2.server.stream.start', onStart);
      dc.subscribe('http2.server.stream.finish', onFinish);
    },
    unsubscribe() {
      dc.unsubscribe('http2.server.stream.start', onStart);
      dc.unsubscribe('http2.server.stream.finish', onFinish);
    },
  };
}

/** Runs `record` when the response has finished with a status below 500; never when the process dies first. */
function whenAnswered(response: ServerResponse, record: () => void): void {
  response.once('finish', () => {
    try {
      if (response.statusCode < 500) record();
    } catch {
      // as in onStart: not recorded, never thrown into the app
    }
  });
}

function observeBody(request: IncomingMessage, max: number, done: (body: string | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  const emit = request.emit;
  request.emit = function (this: IncomingMessage, event: string | symbol, ...args: unknown[]) {
    try {
      if (event === 'data' && !tooBig) {
        const chunk = args[0];
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
        size += buf.length;
        if (size > max) tooBig = true;
        else chunks.push(buf);
      } else if (event === 'end') {
        request.emit = emit;
        done(tooBig ? null : Buffer.concat(chunks).toString('utf8'));
      }
    } catch {
      request.emit = emit;
    }
    return emit.call(this, event, ...args);
  } as typeof request.emit;
}
