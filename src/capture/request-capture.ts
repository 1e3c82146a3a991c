import * as dc from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
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
  /** Starts listening (again). Capture costs the app about 2.6% CPU per request while on
   * (docs-shop fixture), so the recorder keeps it on during sampling windows only. */
  resume(): void;
  pause(): void;
}

export function startRequestCapture(options: CaptureOptions): RequestCapture {
  // Track more keys than are kept, so the kept ones are the true heavy hitters.
  const sample = new RequestSample(options.maxRequests * 4);
  const allowed = new Set(options.methods);
  const onStart = (message: unknown) => {
    try {
      const { request, response, server } = message as { request: IncomingMessage; response: ServerResponse; server: Server };
      const startedAt = performance.now();
      if (!allowed.has(request.method ?? '') || options.marker.isReplay(request.headers)) return;
      if (options.ignoreServer?.(server)) return;
      const url = request.url ?? '/';
      if (!url.startsWith('/')) return; // proxy-style absolute URLs are not the app's routes
      const base = { method: request.method!, url: redactUrl(url), headers: keptHeaders(request.headers) };
      const length = Number(request.headers['content-length'] ?? 0);
      const hasBody = length > 0 || request.headers['transfer-encoding'] !== undefined;
      const seen = (): Observation => {
        const now = performance.now();
        return now >= options.steadyAfterMs ? { status: response.statusCode, latencyMs: now - startedAt } : { status: response.statusCode };
      };
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
  let on = false;
  return {
    sample,
    resume() {
      if (!on) dc.subscribe('http.server.request.start', onStart);
      on = true;
    },
    pause() {
      if (on) dc.unsubscribe('http.server.request.start', onStart);
      on = false;
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
