import * as dc from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
  dc.subscribe('http.server.request.start', onStart);
  return () => dc.unsubscribe('http.server.request.start', onStart);
}
