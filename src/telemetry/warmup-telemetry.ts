import * as dc from 'node:diagnostics_channel';
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Status } from '../readiness/state';

/** Subscribers get `{ status }` when a warm-up ends (pino's pattern: nothing is built unless someone listens). */
export const WARMUP_CHANNEL = 'preheat.warmup.end';

/**
 * Reports a finished warm-up: a `preheat.warmup` span and metrics through @opentelemetry/api
 * (no-ops unless the app registered an SDK), and a diagnostics_channel event.
 */
export function reportWarmup(status: Status, startedAt: Date, version: string): void {
  const tracer = trace.getTracer('preheat', version);
  const span = tracer.startSpan('preheat.warmup', { startTime: startedAt });
  span.setAttributes({
    'preheat.phase': status.phase,
    'preheat.ready': status.ready,
    'preheat.hot': status.hot,
    'preheat.optimized': status.optimized,
    'preheat.stale': status.stale,
    'preheat.replayed': status.replayed,
    'preheat.errors': status.errors,
  });
  if (status.phase !== 'ready') span.setStatus({ code: SpanStatusCode.ERROR, message: status.reason });
  span.end(new Date(startedAt.getTime() + status.elapsedMs));

  const meter = metrics.getMeter('preheat', version);
  const attributes = { 'preheat.phase': status.phase };
  meter.createHistogram('preheat.warmup.duration', { unit: 'ms', description: 'Time from agent start to the end of warm-up' }).record(status.elapsedMs, attributes);
  for (const key of ['hot', 'optimized', 'stale', 'replayed'] as const) {
    meter.createCounter(`preheat.warmup.${key}`, { description: `Warm-up: ${key} (functions, or requests for replayed)` }).add(status[key], attributes);
  }

  const channel = dc.channel(WARMUP_CHANNEL);
  if (channel.hasSubscribers) channel.publish({ status });
}
