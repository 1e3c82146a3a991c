import type { RecordedRequest } from '../profile/schema';
import type { ReplayTiming } from './replay-timing';

/** One line of `/status.latency`: a request that carries traffic, its recorded and current latency. */
export interface KeyLatency {
  request: string;
  /** Share of the recorded traffic. */
  share: number;
  recordedMs: number;
  /** Median of its newest replays answered with the recorded status class; null before any. */
  currentMs: number | null;
  /** Replays answered with the recorded status class, and those answered otherwise. */
  samples: number;
  mismatched: number;
  within: boolean;
}

export interface LatencyPolicyOptions {
  /** Ready when every judged request runs within this ratio of its recorded latency. */
  ratio: number;
  /** Judge the most frequent requests until they carry this share of the recorded traffic. */
  share?: number;
  /** At most this many requests are judged. */
  maxKeys?: number;
  /** Rounds in a row with every judged request within the ratio. */
  rounds?: number;
}

/** The newest replays of a request its current latency is the median of. */
const WINDOW = 9;
/** A request needs this many matching replays before it can be within the ratio. */
const MIN_SAMPLES = 3;
/** Below this, latencies differ by timer resolution and scheduling alone: a 0.1 ms route is not "2x slower" at 0.2 ms. */
const SLACK_MS = 0.05;
/** After this many replays with none in the recorded status class, a request is not judged (a 404 is not warm). */
const GIVE_UP_MISMATCHED = 20;

interface Target {
  request: string;
  share: number;
  recordedMs: number;
  statusClass: number | null;
  recent: number[];
  samples: number;
  mismatched: number;
}

/**
 * Readiness from measurement: ready once the requests that carry most of the recorded traffic
 * answer within `ratio` of the server-side latency they had at steady state in production, for
 * `rounds` replay rounds in a row. Only replays answered with the recorded status class count:
 * a fast 404 says nothing about the warm route. A profile without latencies leaves the policy
 * unusable (`usable` false), and the caller falls back to a request count.
 */
export class LatencyPolicy {
  private readonly targets = new Map<string, Target>();
  private streak = 0;
  private fresh = false;

  constructor(requests: readonly RecordedRequest[], private readonly options: LatencyPolicyOptions) {
    const total = requests.reduce((n, r) => n + r.count, 0);
    if (total <= 0) return;
    const share = options.share ?? 0.8;
    const maxKeys = options.maxKeys ?? 10;
    // Merged by what the server sees (method and target): the recorded key also has headers.
    const byRequest = new Map<string, { count: number; weighted: number; weight: number; status: number | null }>();
    for (const r of requests) {
      const key = `${r.method} ${r.url}`;
      const e = byRequest.get(key) ?? { count: 0, weighted: 0, weight: 0, status: null };
      e.count += r.count;
      if (r.latencyMs !== undefined) {
        e.weighted += r.latencyMs * r.count;
        e.weight += r.count;
      }
      e.status ??= r.status ?? null;
      byRequest.set(key, e);
    }
    let covered = 0;
    for (const [request, e] of [...byRequest].sort((a, b) => b[1].count - a[1].count)) {
      if (covered >= share * total || this.targets.size >= maxKeys) break;
      covered += e.count;
      if (e.weight === 0) continue;
      this.targets.set(request, {
        request,
        share: e.count / total,
        recordedMs: e.weighted / e.weight,
        statusClass: e.status === null ? null : Math.floor(e.status / 100),
        recent: [],
        samples: 0,
        mismatched: 0,
      });
    }
    // Judging a minority of the traffic would call a service warm on the strength of a few routes.
    const measured = [...this.targets.values()].reduce((n, t) => n + t.share, 0);
    if (measured < share / 2) this.targets.clear();
  }

  /** True when the profile has latencies for enough of the traffic to judge by. */
  get usable(): boolean {
    return this.targets.size > 0;
  }

  observe(t: ReplayTiming): void {
    const target = this.targets.get(t.key);
    if (!target) return;
    if (target.statusClass !== null && Math.floor(t.status / 100) !== target.statusClass) {
      target.mismatched++;
      return;
    }
    target.samples++;
    target.recent.push(t.latencyMs);
    if (target.recent.length > WINDOW) target.recent.shift();
    this.fresh = true;
  }

  /** At a round's end: whether the judged requests have been within the ratio for enough rounds. */
  endRound(): boolean {
    const judged = this.judged();
    const within = judged.length > 0 && judged.every((t) => this.isWithin(t));
    // A round without a new measurement proves nothing either way.
    if (this.fresh) this.streak = within ? this.streak + 1 : 0;
    this.fresh = false;
    return this.streak >= (this.options.rounds ?? 3);
  }

  table(): KeyLatency[] {
    return [...this.targets.values()].map((t) => ({
      request: t.request,
      share: round(t.share),
      recordedMs: round(t.recordedMs),
      currentMs: t.recent.length ? round(median(t.recent)) : null,
      samples: t.samples,
      mismatched: t.mismatched,
      within: this.isWithin(t),
    }));
  }

  private judged(): Target[] {
    return [...this.targets.values()].filter((t) => !(t.samples === 0 && t.mismatched >= GIVE_UP_MISMATCHED));
  }

  private isWithin(t: Target): boolean {
    return t.recent.length >= MIN_SAMPLES && median(t.recent) <= this.options.ratio * t.recordedMs + SLACK_MS;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
