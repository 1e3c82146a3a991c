import * as dc from 'node:diagnostics_channel';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { canCaptureHttp2 } from '../capture/request-capture';
import { performance } from 'node:perf_hooks';
import type { ReplayMarker } from '../capture/replay-marker';

export interface ReplayTiming {
  /** `METHOD url`, as the latency policy keys recorded requests. */
  key: string;
  status: number;
  /** Server side: from the request's start to its response's finish, as record mode measures. */
  latencyMs: number;
}

/**
 * Times the warm-up's own requests where the app sees them, on Node's `http.server.request.start`
 * channel: the same span record mode measures, so the two compare. The client side would add the
 * replay's own work to every figure. Returns the function that stops timing.
 */
export function timeReplayedRequests(marker: ReplayMarker, onTiming: (t: ReplayTiming) => void): () => void {
  const onStart = (message: unknown) => {
    try {
      const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
      if (!marker.isReplay(request.headers)) return;
      const startedAt = performance.now();
      const key = `${request.method} ${request.url}`;
      response.once('finish', () => {
        try {
          onTiming({ key, status: response.statusCode, latencyMs: performance.now() - startedAt });
        } catch {
          // A timing lost is a round judged on fewer samples; the app never notices.
        }
      });
    } catch {
      // Same.
    }
  };
  // HTTP/2 (Node 22 and later): from the stream's start to its response headers.
  const h2Started = new WeakMap<object, { key: string; startedAt: number }>();
  const onH2Start = (message: unknown) => {
    try {
      const { stream, headers } = message as { stream: object; headers: IncomingHttpHeaders };
      if (marker.isReplay(headers)) h2Started.set(stream, { key: `${String(headers[':method'])} ${String(headers[':path'])}`, startedAt: performance.now() });
    } catch {
      // Same.
    }
  };
  const onH2Finish = (message: unknown) => {
    try {
      const { stream, headers } = message as { stream: object; headers?: Record<string, unknown> };
      const s = h2Started.get(stream);
      if (!s) return;
      h2Started.delete(stream);
      onTiming({ key: s.key, status: Number(headers?.[':status']) || 0, latencyMs: performance.now() - s.startedAt });
    } catch {
      // Same.
    }
  };
  const h2 = canCaptureHttp2();
  dc.subscribe('http.server.request.start', onStart);
  if (h2) {
    dc.subscribe('http2.server.stream.start', onH2Start);
    dc.subscribe('http2.server.stream.finish', onH2Finish);
  }
  return () => {
    dc.unsubscribe('http.server.request.start', onStart);
    if (h2) {
      dc.unsubscribe('http2.server.stream.start', onH2Start);
      dc.unsubscribe('http2.server.stream.finish', onH2Finish);
    }
  };
}
