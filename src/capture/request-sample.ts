import { requestKey } from '../profile/merge';
import type { RecordedRequest } from '../profile/schema';

/** What the server did with one request: its status and the time from its start to the response's finish. */
export interface Observation {
  status: number;
  /** Server side, in milliseconds; absent while the process is not yet at steady state. */
  latencyMs?: number;
  /** The local port of the server that answered it. */
  port?: number;
}

/** Latencies kept per request key: enough for a stable median, bounded memory. */
const LATENCY_SAMPLES = 31;
/** Fewer steady latencies than this say nothing reliable: no latency is stored. */
const MIN_LATENCY_SAMPLES = 5;

interface Entry {
  request: RecordedRequest;
  /** A ring of the newest steady-state latencies. */
  latencies: number[];
  nextLatency: number;
  statuses: Map<number, number>;
  ports: Map<number, number>;
}

/**
 * The most frequent requests in bounded memory: the Space-Saving algorithm (Metwally et al.)
 * tracks `capacity` keys; a new key takes the place of the least counted one and inherits its
 * count, so heavy hitters stay however long the process runs and however many distinct URLs it sees.
 * Each key also keeps its newest steady-state latencies and the statuses it was answered with.
 */
export class RequestSample {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity: number) {}

  add(request: Omit<RecordedRequest, 'count'>, seen?: Observation): void {
    if (this.capacity <= 0) return;
    const key = requestKey(request);
    let entry = this.entries.get(key);
    if (entry) {
      entry.request.count++;
    } else {
      let inherited = 0;
      if (this.entries.size >= this.capacity) {
        let minKey = '';
        let min = Infinity;
        for (const [k, e] of this.entries) if (e.request.count < min) [min, minKey] = [e.request.count, k];
        this.entries.delete(minKey);
        inherited = min;
      }
      entry = { request: { ...request, count: inherited + 1 }, latencies: [], nextLatency: 0, statuses: new Map(), ports: new Map() };
      this.entries.set(key, entry);
    }
    if (!seen) return;
    entry.statuses.set(seen.status, (entry.statuses.get(seen.status) ?? 0) + 1);
    if (seen.port !== undefined) entry.ports.set(seen.port, (entry.ports.get(seen.port) ?? 0) + 1);
    if (seen.latencyMs !== undefined && Number.isFinite(seen.latencyMs) && seen.latencyMs >= 0) {
      entry.latencies[entry.nextLatency] = seen.latencyMs;
      entry.nextLatency = (entry.nextLatency + 1) % LATENCY_SAMPLES;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The `limit` most frequent, most frequent first, with their steady latency where enough was seen. */
  top(limit: number): RecordedRequest[] {
    return [...this.entries.values()]
      .sort((a, b) => b.request.count - a.request.count || requestKey(a.request).localeCompare(requestKey(b.request)))
      .slice(0, limit)
      .map((e) => {
        const out: RecordedRequest = { ...e.request };
        const status = mostFrequent(e.statuses);
        if (status !== null) out.status = status;
        const port = mostFrequent(e.ports);
        if (port !== null) out.port = port;
        if (e.latencies.length >= MIN_LATENCY_SAMPLES) out.latencyMs = round(median(e.latencies));
        return out;
      });
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mostFrequent(counts: Map<number, number>): number | null {
  let best: number | null = null;
  let bestCount = 0;
  for (const [value, n] of counts) if (n > bestCount || (n === bestCount && best !== null && value < best)) [best, bestCount] = [value, n];
  return best;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
