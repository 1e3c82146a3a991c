import type { RecordedRequest } from '../profile/schema';
import type { ReplayTiming } from './replay-timing';
import { routeShape } from './route-shape';

/**
 * One line of `/status.latency`: a request that carries traffic (or a route, `GET /products/:id`,
 * when the traffic spreads over many targets), its recorded and current latency.
 */
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

/** A judged request, or route: one or more recorded requests (members). */
interface Target {
  request: string;
  share: number;
  /** The members' recorded latencies, weighted by their counts. */
  recordedMs: number;
  /** Newest replays, each as (latency − slack) over its own member's recorded latency. */
  recent: number[];
  /** The same replays' latencies, for `/status`. */
  recentMs: number[];
  samples: number;
  mismatched: number;
}

/** A recorded request as judged: its target, and what it had at steady state. */
interface Member {
  target: Target;
  recordedMs: number;
  statusClass: number | null;
}

interface Recorded {
  key: string;
  count: number;
  recordedMs: number | null;
  status: number | null;
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
  /** By what the server sees (`METHOD url`): the member a replay timing belongs to. */
  private readonly members = new Map<string, Member>();
  private streak = 0;
  private fresh = false;

  constructor(requests: readonly RecordedRequest[], private readonly options: LatencyPolicyOptions) {
    const total = requests.reduce((n, r) => n + r.count, 0);
    if (total <= 0) return;
    const recorded = byServedRequest(requests);
    // The most frequent requests; where no few of them carry the traffic (an id or a search term
    // per request), the most frequent routes.
    if (!this.choose(recorded, (r) => r.key, total)) this.choose(recorded, (r) => routeShape(...splitKey(r.key)), total);
  }

  /** Picks the targets grouped by `group`; false (and none) when they would judge a minority of the traffic. */
  private choose(recorded: Recorded[], group: (r: Recorded) => string, total: number): boolean {
    const share = this.options.share ?? 0.8;
    const maxKeys = this.options.maxKeys ?? 10;
    const groups = new Map<string, Recorded[]>();
    for (const r of recorded) {
      const g = group(r);
      const list = groups.get(g);
      if (list) list.push(r);
      else groups.set(g, [r]);
    }
    const count = (list: Recorded[]) => list.reduce((n, r) => n + r.count, 0);
    let covered = 0;
    for (const [request, list] of [...groups].sort((a, b) => count(b[1]) - count(a[1]) || (a[0] < b[0] ? -1 : 1))) {
      if (covered >= share * total || this.targets.size >= maxKeys) break;
      covered += count(list);
      const timed = list.filter((r) => r.recordedMs !== null);
      if (timed.length === 0) continue;
      const weight = count(timed);
      const target: Target = {
        request,
        share: count(list) / total,
        recordedMs: timed.reduce((n, r) => n + r.recordedMs! * r.count, 0) / weight,
        recent: [],
        recentMs: [],
        samples: 0,
        mismatched: 0,
      };
      this.targets.set(request, target);
      for (const r of timed) this.members.set(r.key, { target, recordedMs: r.recordedMs!, statusClass: r.status === null ? null : Math.floor(r.status / 100) });
    }
    // Judging a minority of the traffic would call a service warm on the strength of a few routes.
    const measured = [...this.targets.values()].reduce((n, t) => n + t.share, 0);
    if (measured >= share / 2) return true;
    this.targets.clear();
    this.members.clear();
    return false;
  }

  /** True when the profile has latencies for enough of the traffic to judge by. */
  get usable(): boolean {
    return this.targets.size > 0;
  }

  observe(t: ReplayTiming): void {
    const member = this.members.get(t.key);
    if (!member) return;
    const { target } = member;
    if (member.statusClass !== null && Math.floor(t.status / 100) !== member.statusClass) {
      target.mismatched++;
      return;
    }
    target.samples++;
    // Against its own recorded latency: the members of a route differ (one product's page is
    // longer than another's), and the replay sends them in their recorded proportions anyway.
    target.recent.push((t.latencyMs - SLACK_MS) / Math.max(member.recordedMs, 0.001));
    target.recentMs.push(t.latencyMs);
    if (target.recent.length > WINDOW) {
      target.recent.shift();
      target.recentMs.shift();
    }
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
      currentMs: t.recentMs.length ? round(median(t.recentMs)) : null,
      samples: t.samples,
      mismatched: t.mismatched,
      within: this.isWithin(t),
    }));
  }

  private judged(): Target[] {
    return [...this.targets.values()].filter((t) => !(t.samples === 0 && t.mismatched >= GIVE_UP_MISMATCHED));
  }

  private isWithin(t: Target): boolean {
    return t.recent.length >= MIN_SAMPLES && median(t.recent) <= this.options.ratio;
  }
}

/** Recorded requests merged by what the server sees (method and target): the recorded key also has headers. */
function byServedRequest(requests: readonly RecordedRequest[]): Recorded[] {
  const byKey = new Map<string, { count: number; weighted: number; weight: number; status: number | null }>();
  for (const r of requests) {
    const key = `${r.method} ${r.url}`;
    const e = byKey.get(key) ?? { count: 0, weighted: 0, weight: 0, status: null };
    e.count += r.count;
    if (r.latencyMs !== undefined) {
      e.weighted += r.latencyMs * r.count;
      e.weight += r.count;
    }
    e.status ??= r.status ?? null;
    byKey.set(key, e);
  }
  return [...byKey].map(([key, e]) => ({ key, count: e.count, recordedMs: e.weight > 0 ? e.weighted / e.weight : null, status: e.status }));
}

function splitKey(key: string): [string, string] {
  const space = key.indexOf(' ');
  return [key.slice(0, space), key.slice(space + 1)];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
